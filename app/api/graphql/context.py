"""Per-request GraphQL context: the database, settings and the authenticated caller.

There is no shared session: each domain call opens its own transaction, so concurrent
resolvers never share a connection.
"""

from dataclasses import dataclass
from functools import cached_property

from starlette.requests import HTTPConnection
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext
from strawberry.types import Info as StrawberryInfo

from app.api.auth import database, principal, settings
from app.api.graphql.loaders import CaseKey, case_loader, node_loader, summary_loader
from app.db.engine import Database
from app.domain.datasets import StoredTestCase
from app.domain.errors import Unauthenticated
from app.domain.keys import Principal
from app.domain.nodes import Node
from app.domain.result_statistics import Summary
from app.domain.test_runs import TestRun
from app.settings import Settings


@dataclass
class Context(BaseContext):
    db: Database
    settings: Settings
    caller: Principal | None

    # The loaders are made when first used: most operations use none of them.
    @cached_property
    def cases(self) -> DataLoader[CaseKey, StoredTestCase | None]:
        return case_loader(self.db)

    @cached_property
    def nodes(self) -> DataLoader[str, Node | None]:
        return node_loader(self.db, lambda: self.principal)

    @cached_property
    def summaries(self) -> DataLoader[TestRun, Summary]:
        return summary_loader(self.db)

    def writing(self) -> "Context":
        """This context, for a mutation: what the loaders read before may be what it changes
        (the mutations of one operation run one after another), so they forget it. Cases
        need not be forgotten: a case at a version never changes."""
        for name in ("nodes", "summaries"):
            self.__dict__.pop(name, None)
        return self

    @property
    def principal(self) -> Principal:
        if self.caller is None:
            raise Unauthenticated("send your API key as 'Authorization: Bearer <api key>'")
        return self.caller


async def get_context(connection: HTTPConnection) -> Context:
    # A GET without an operation (GraphiQL's page, or a 400) reads nothing and needs no key;
    # every operation, over GET or POST, must carry one: in the Authorization header, or on
    # a WebSocket in connection_init (see subscriptions.authenticate_connection).
    page = connection.scope["type"] == "websocket" or (
        connection.scope["method"] == "GET"
        and not {"query", "extensions"} & connection.query_params.keys()
    )
    caller = None if page else await principal(connection)
    return Context(
        db=await database(connection), settings=await settings(connection), caller=caller
    )


Info = StrawberryInfo[Context, None]
