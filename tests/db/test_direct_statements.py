"""One-statement reads and writes run on the driver itself (app/db/direct_statements.py, a
fast path): they give the rows SQLAlchemy's execution gives, value for value and type for
type, fail as it fails, and recover from a cut connection as it does. (How a write waits for
SQLite's lock and counts toward its checkpoints: tests/db/test_single_statement_writes.py.)"""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, exc, func, insert, select
from sqlalchemy.engine import make_url

from app import fast_paths
from app.db.engine import Database
from app.db.errors import Unavailable
from app.db.tables import Project as ProjectRow
from app.domain import keys, projects
from app.domain.datasets import fetch_cases
from app.domain.test_runs import _PROJECT_RUNS_WITH_DETAILS
from app.settings import Settings
from tests.support import Api, TcpProxy, completion_example


@pytest.fixture
async def plain_db(settings: Settings) -> AsyncIterator[Database]:
    """The same database, every statement through SQLAlchemy."""
    database = Database(settings.model_copy(update={"fast_statements": False}))
    yield database
    await database.dispose()


def _as_read(rows: Any) -> list[tuple[tuple[str, ...], tuple[Any, ...], tuple[type, ...]]]:
    return [(tuple(r._fields), tuple(r), tuple(type(v) for v in r)) for r in rows]


async def test_reads_give_what_sqlalchemy_gives(api: Api, db: Database, plain_db: Database) -> None:
    dataset = await api.dataset_with_cases("qa", [completion_example(i) for i in range(4)])
    await api.create_run("qa")
    project = {"project_id": api.project_id}
    before = fast_paths.used[fast_paths.DIRECT_STATEMENT]

    direct = await db.fetch(
        select(ProjectRow).where(ProjectRow.id == bindparam("project_id")), project
    )
    assert fast_paths.used[fast_paths.DIRECT_STATEMENT] == before + 1
    plain = await plain_db.fetch(
        select(ProjectRow).where(ProjectRow.id == bindparam("project_id")), project
    )
    assert _as_read(direct) == _as_read(plain)
    assert isinstance(direct[0].id, str)
    assert direct[0].created_at.tzinfo is not None

    version = dataset.get("version", 1)
    cases = await fetch_cases(db, dataset["id"], version, limit=3)
    assert fast_paths.used[fast_paths.DIRECT_STATEMENT] == before + 2
    assert len(cases) == 3
    assert _as_read(cases) == _as_read(await fetch_cases(plain_db, dataset["id"], version, limit=3))

    assert await projects.get_project(
        db, keys.OPERATOR, api.project_id
    ) == await projects.get_project(plain_db, keys.OPERATOR, api.project_id)


async def test_a_page_written_with_its_limit_as_a_literal_reads_the_same(
    api: Api, db: Database, plain_db: Database
) -> None:
    await api.dataset_with_cases("qa", [completion_example(0)])
    for _ in range(5):
        assert (await api.create_run("qa")).status_code == 201
    before = fast_paths.used[fast_paths.DIRECT_STATEMENT]
    for offset, limit in ((0, 2), (2, 2), (4, 2), (0, 10)):
        values = {"project_id": api.project_id, "offset": offset, "limit": limit}
        direct = await db.fetch(_PROJECT_RUNS_WITH_DETAILS, values)  # LIMIT and OFFSET literal
        assert _as_read(direct) == _as_read(
            await plain_db.fetch(_PROJECT_RUNS_WITH_DETAILS, values)
        )
        assert len(direct) == min(limit, 5 - offset)
    assert fast_paths.used[fast_paths.DIRECT_STATEMENT] == before + 4
    # Only whole numbers are written into SQL here; anything else is SQLAlchemy's to render.
    values = {"project_id": api.project_id, "offset": 0, "limit": True}
    await db.fetch(_PROJECT_RUNS_WITH_DETAILS, values)
    assert fast_paths.used[fast_paths.DIRECT_STATEMENT] == before + 4


async def test_a_write_returns_what_it_wrote_and_refusals_are_sqlalchemys_errors(
    api: Api, db: Database, plain_db: Database
) -> None:
    await api.dataset_with_cases("qa", [completion_example(0), completion_example(1)])
    made = await api.create_run("qa")
    assert made.status_code == 201, made.text
    listed = (await api.get(f"/test-runs/id/{made.json()['test_run_id']}")).json()
    assert listed["name"] == made.json()["test_run_name"]

    def new(count: int) -> Any:
        assert count == 1
        return insert(ProjectRow).values(
            id=bindparam("id_0"), name="twice", created_at=func.now(), is_private=False
        )

    for database in (db, plain_db):
        with pytest.raises(exc.IntegrityError):
            await database.insert_together(new, {"id": api.project_id})


async def test_a_statement_over_its_time_fails_as_through_sqlalchemy(settings: Settings) -> None:
    if settings.is_sqlite:
        pytest.skip("SQLite's statements have no time limit; its lock's is tested elsewhere")
    sleep = select(func.pg_sleep(bindparam("seconds")))
    raised = []
    for fast in (True, False):
        update = {"db_statement_timeout_ms": 50, "fast_statements": fast}
        database = Database(settings.model_copy(update=update))
        try:
            with pytest.raises(exc.DBAPIError) as failed:
                await database.fetch(sleep, {"seconds": 1})
            raised.append((type(failed.value), type(failed.value.orig), str(failed.value.orig)))
            assert (await database.fetch(sleep, {"seconds": 0}))[0][0] is None  # and it goes on
        finally:
            await database.dispose()
    assert raised[0] == raised[1]
    assert "statement timeout" in raised[0][2]


async def test_a_cut_connection_fails_the_statement_that_finds_it_and_no_other(
    api: Api, settings: Settings, tmp_path: Path
) -> None:
    if settings.is_sqlite:
        pytest.skip("a networked database is needed to cut its connections")
    url = make_url(settings.database_url)
    proxy = await TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    database = Database(Settings(database_url=proxied, data_dir=tmp_path))
    try:
        assert await projects.get_project(database, keys.OPERATOR, api.project_id)  # one pooled
        proxy.disable()  # cut it, as a restarted database or a proxy's idle timeout does
        proxy.enable()
        with pytest.raises(Unavailable):
            await projects.get_project(database, keys.OPERATOR, api.project_id)
        found = await projects.get_project(database, keys.OPERATOR, api.project_id)
        assert found.id == api.project_id
    finally:
        await database.dispose()
        await proxy.close()
