"""Turns the ``Authorization: Bearer <key>`` header into a principal."""

from starlette.requests import HTTPConnection

from app.db.engine import Database
from app.domain import keys
from app.domain.errors import Unauthenticated
from app.domain.keys import Principal
from app.settings import Settings


# These dependencies are `async` although they do not await: FastAPI would run plain
# functions in a thread pool, a thread hop on every request.
async def database(request: HTTPConnection) -> Database:
    db: Database = request.app.state.db
    return db


async def settings(request: HTTPConnection) -> Settings:
    configured: Settings = request.app.state.settings
    return configured


async def principal(request: HTTPConnection) -> Principal:
    """FastAPI dependency: the caller, or Unauthenticated (401)."""
    return await bearer_principal(await database(request), request.headers.get("authorization"))


async def bearer_principal(db: Database, authorization: object) -> Principal:
    """The caller an ``Authorization`` value (``Bearer <api key>``) stands for, or
    Unauthenticated."""
    scheme, _, key = (
        authorization.partition(" ") if isinstance(authorization, str) else ("", "", "")
    )
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthenticated("send your API key as 'Authorization: Bearer <api key>'")
    return await keys.authenticate(db, key.strip())
