"""Per-request GraphQL context: the database, settings and the authenticated caller.

There is no shared session: each domain call opens its own transaction, so concurrent
resolvers never share a connection.
"""

from dataclasses import dataclass, field

from starlette.requests import HTTPConnection
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext
from strawberry.types import Info as StrawberryInfo

from app.api.auth import database, principal, settings
from app.api.graphql.loaders import CaseKey, case_loader
from app.db.engine import Database
from app.domain.datasets import StoredTestCase
from app.domain.errors import Unauthenticated
from app.domain.keys import Principal
from app.settings import Settings


@dataclass
class Context(BaseContext):
    db: Database
    settings: Settings
    caller: Principal | None
    cases: DataLoader[CaseKey, StoredTestCase | None] = field(init=False)

    def __post_init__(self) -> None:
        self.cases = case_loader(self.db)

    @property
    def principal(self) -> Principal:
        if self.caller is None:
            raise Unauthenticated("send your API key as 'Authorization: Bearer <api key>'")
        return self.caller


async def get_context(connection: HTTPConnection) -> Context:
    # A plain GET serves the GraphiQL page; every operation must carry a key: in the
    # Authorization header, or on a WebSocket in connection_init (see Router.on_ws_connect).
    anonymous = connection.scope["type"] == "websocket" or (
        connection.scope["method"] == "GET" and "query" not in connection.query_params
    )
    caller = None if anonymous else await principal(connection)
    return Context(
        db=await database(connection), settings=await settings(connection), caller=caller
    )


Info = StrawberryInfo[Context, None]
