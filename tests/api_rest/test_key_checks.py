"""A server remembers a key it has checked for ``key_cache_seconds``: revoking in the same
process stops the key at once, revoking in another process (the CLI, another worker) within
that time, and 0 reads the key on every request."""

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import update

from app.db.engine import Database
from app.db.tables import ApiKey
from app.domain import keys
from app.domain.ids import utcnow
from app.main import create_app
from app.settings import Settings
from tests.support import Api, assert_problem, served_by

PROJECT = "query P($id: ID!) { project(id: $id) { id } }"


async def revoke_elsewhere(db: Database, key: str) -> None:
    """What `testruns keys revoke` in another process writes, unseen by this one."""
    async with db.write() as conn:
        await conn.execute(
            update(ApiKey).where(ApiKey.key_hash == keys.hash_key(key)).values(revoked_at=utcnow())
        )


async def answers(api: Api) -> tuple[int, str]:
    """The REST status and the GraphQL error code ("" for data) of one request each."""
    rest = await api.get("/test-runs")
    graphql = (await api.graphql_response(PROJECT, {"id": api.project_id})).json()
    errors = graphql.get("errors") or [{"extensions": {"code": ""}}]
    return rest.status_code, errors[0]["extensions"]["code"]


async def test_a_key_revoked_in_this_process_stops_at_once(api: Api, db: Database) -> None:
    assert await answers(api) == (200, "")

    await keys.revoke_key(db, api.key[: keys.PREFIX_LENGTH])

    assert_problem(await api.get("/test-runs"), 401, "unauthenticated")
    assert await answers(api) == (401, "UNAUTHENTICATED")


async def test_a_key_revoked_elsewhere_stops_within_key_cache_seconds(
    api: Api, app: FastAPI, db: Database
) -> None:
    start = app.state.db.clock()
    app.state.db.clock = lambda: start
    assert await answers(api) == (200, "")

    await revoke_elsewhere(db, api.key)
    within = await answers(api)  # remembered: the key is not read again yet
    app.state.db.clock = lambda: start + timedelta(seconds=app.state.settings.key_cache_seconds)

    assert within == (200, "")
    assert_problem(await api.get("/test-runs"), 401, "unauthenticated")
    assert await answers(api) == (401, "UNAUTHENTICATED")


async def test_with_key_cache_seconds_0_every_request_reads_its_key(
    api: Api, db: Database, database_url: str, tmp_path: Path
) -> None:
    app = create_app(
        Settings(database_url=database_url, data_dir=tmp_path / "data", key_cache_seconds=0)
    )
    async with served_by(app, api) as uncached:
        assert await answers(uncached) == (200, "")

        await revoke_elsewhere(db, api.key)

        assert await answers(uncached) == (401, "UNAUTHENTICATED")
