"""Turns the ``Authorization: Bearer <key>`` header into a principal."""

from fastapi import Request

from app.db.engine import Database
from app.domain import keys
from app.domain.errors import Unauthenticated
from app.domain.keys import Principal
from app.settings import Settings


# These dependencies are `async` although they do not await: FastAPI would run plain
# functions in a thread pool, a thread hop on every request.
async def database(request: Request) -> Database:
    return request.app.state.db


async def settings(request: Request) -> Settings:
    return request.app.state.settings


async def principal(request: Request) -> Principal:
    """FastAPI dependency: the caller, or Unauthenticated (401)."""
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthenticated("send your API key as 'Authorization: Bearer <api key>'")
    return await keys.authenticate(await database(request), key.strip())
