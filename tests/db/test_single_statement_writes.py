"""A run of a whole dataset is written by one statement that is its own transaction
(``Database.insert_together``): no BEGIN or COMMIT around it, and runs made at the same time
share that statement and its commit; a small version's cases, once read, are kept by the
process, so creating another run of it is that one statement. These tests fail if that path
silently stops being used, and check what SQLite needs of such a write: it waits for another
process's write lock off the event loop, and it counts toward the WAL checkpoints."""

import asyncio
import sqlite3
import struct
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import bindparam, event, exc, func, insert, select

from app import fast_paths
from app.db import sqlite_driver
from app.db.engine import Database
from app.db.sqlite_driver import CHECKPOINT_EVERY
from app.db.tables import Project as ProjectRow
from app.main import create_app
from app.settings import Settings
from tests.support import Api, assert_problem, completion_example, create_evaluation, served_by


@contextmanager
def statements_run(app: FastAPI) -> Iterator[list[str]]:
    """Every statement the app's engine sends, BEGIN and COMMIT included where they are
    statements (SQLite; asyncpg begins and commits with calls of its own)."""
    with statements_run_on(app.state.db) as statements:
        yield statements


@contextmanager
def statements_run_on(database: Database) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = database.engine.sync_engine

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement.lstrip().split(None, 2)[0].upper())

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)


async def test_a_run_of_a_whole_dataset_is_one_insert_without_a_transaction(
    api: Api, settings: Settings
) -> None:
    await api.dataset_with_cases("qa", [completion_example(i) for i in range(3)])
    evaluation = (await create_evaluation(api, "correct", "boolean"))["id"]
    # Every statement through SQLAlchemy, where its events see them.
    app = create_app(settings.model_copy(update={"fast_statements": False}))
    async with served_by(app, api) as served:
        await served.create_run("qa")  # the key is read and kept
        with statements_run(app) as plain:
            made = await served.create_run("qa", test_run_name="plain")
        with statements_run(app) as targeted:
            targets = await served.create_run("qa", target_evaluation_ids=[evaluation])

    assert made.status_code == 201, made.text
    assert len(made.json()["test_cases"]) == 3
    # The run, written as it reads the dataset; its cases, read by the first create, are kept.
    assert plain == ["INSERT"]
    # Anything more than the run's row is written in a transaction, checked first.
    assert targets.status_code == 201, targets.text
    assert targeted.count("INSERT") == 2
    if settings.is_sqlite:
        assert targeted[0] == "BEGIN"


@pytest.mark.parametrize("on_the_driver", [True, False], ids=["direct", "sqlalchemy"])
async def test_runs_made_meanwhile_are_written_together_each_with_its_own_answer(
    api: Api, settings: Settings, on_the_driver: bool
) -> None:
    """While one create waits for a lock that another writer holds, the creates that come
    meanwhile wait for it too, then go in by one statement with one commit. Each still gets
    its own run and its dataset's own cases, and a missing dataset its own 404. Statements
    run on the driver itself are counted by the fast path, the others by SQLAlchemy."""
    await api.dataset_with_cases("qa", [completion_example(i) for i in range(3)])
    await api.dataset_with_cases("other", [completion_example(i) for i in range(3, 5)])
    app = create_app(settings.model_copy(update={"fast_statements": on_the_driver}))
    other_writer = Database(settings)
    try:
        async with served_by(app, api) as served:
            for name in ("qa", "other"):
                await served.create_run(name)  # the key is read and kept, and the cases
            direct_before = fast_paths.used[fast_paths.DIRECT_STATEMENT]
            with statements_run(app) as statements:
                async with other_writer.write() as conn:
                    # The project's row, which every run's insert updates (SQLite: the
                    # write lock, which the transaction took as it began).
                    project = select(ProjectRow.id).where(ProjectRow.id == api.project_id)
                    await conn.execute(project.with_for_update())
                    first = asyncio.create_task(served.create_run("qa", test_run_name="first"))
                    await asyncio.sleep(0.2)
                    names = ["qa", "other", "nope", "qa", "other"]
                    rest = [
                        asyncio.create_task(served.create_run(name, test_run_name=f"run {i}"))
                        for i, name in enumerate(names)
                    ]
                    await asyncio.sleep(0.2)
                    assert not first.done()
                made = await asyncio.wait_for(asyncio.gather(first, *rest), timeout=10)
            direct = fast_paths.used[fast_paths.DIRECT_STATEMENT] - direct_before
            listed = (await served.get("/test-runs")).json()
    finally:
        await other_writer.dispose()

    # The first alone, then the five that waited.
    assert (direct if on_the_driver else statements.count("INSERT")) == 2
    assert made[0].status_code == 201, made[0].text
    assert_problem(made[3], 404, "not_found")
    written = [made[0], *made[1:3], *made[4:]]
    for response, (name, count) in zip(
        written,
        [("first", 3), ("run 0", 3), ("run 1", 2), ("run 3", 3), ("run 4", 2)],
        strict=True,
    ):
        assert response.status_code == 201, response.text
        assert response.json()["test_run_name"] == name
        assert len(response.json()["test_cases"]) == count
    qa_cases = [case["id"] for case in made[1].json()["test_cases"]]
    assert [case["id"] for case in made[4].json()["test_cases"]] == qa_cases
    ids = {response.json()["test_run_id"] for response in written}
    assert len(ids) == 5
    assert listed["total"] == 7
    assert ids <= {run["id"] for run in listed["test_runs"]}


def _new_projects(count: int) -> Any:
    rows = [
        {
            "id": bindparam(f"id_{n}"),
            "name": bindparam(f"name_{n}"),
            "created_at": func.now(),
            "is_private": False,
        }
        for n in range(count)
    ]
    return insert(ProjectRow).values(rows).returning(ProjectRow.id, ProjectRow.name)


async def test_inserts_made_together_are_made_one_by_one_when_one_is_refused(
    api: Api, settings: Settings
) -> None:
    database = Database(settings.model_copy(update={"fast_statements": False}))
    fresh = [str(uuid.uuid4()) for _ in range(4)]
    try:
        with statements_run_on(database) as statements:
            together = await asyncio.gather(
                database.insert_together(_new_projects, {"id": fresh[0], "name": "a"}),
                database.insert_together(_new_projects, {"id": fresh[1], "name": "b"}),
            )
        assert statements == ["INSERT"]
        assert [[tuple(row) for row in rows] for rows in together] == [
            [(fresh[0], "a")],
            [(fresh[1], "b")],
        ]
        with statements_run_on(database) as statements:
            refused = await asyncio.gather(
                database.insert_together(_new_projects, {"id": fresh[2], "name": "c"}),
                database.insert_together(_new_projects, {"id": api.project_id, "name": "x"}),
                database.insert_together(_new_projects, {"id": fresh[3], "name": "d"}),
                return_exceptions=True,
            )
        assert statements == ["INSERT"] * 4  # together, then each alone
        assert [tuple(row) for row in refused[0]] == [(fresh[2], "c")]
        assert isinstance(refused[1], exc.IntegrityError)
        assert [tuple(row) for row in refused[2]] == [(fresh[3], "d")]
        names = select(ProjectRow.name).where(ProjectRow.id.in_([*fresh, api.project_id]))
        async with database.read() as conn:
            assert sorted((await conn.execute(names)).scalars()) == [
                "Test project",
                "a",
                "b",
                "c",
                "d",
            ]
    finally:
        await database.dispose()


async def test_a_small_version_s_cases_are_read_once_and_a_new_version_s_afresh(
    api: Api, settings: Settings
) -> None:
    dataset = await api.dataset_with_cases("qa", [completion_example(i) for i in range(2)])
    app = create_app(settings.model_copy(update={"fast_statements": False}))
    async with served_by(app, api) as served:
        with statements_run(app) as first_time:
            first = await served.create_run("qa", include_outputs=True)
        with statements_run(app) as again:
            second = await served.create_run("qa")  # without outputs
        listed = await served.get(f"/datasets/id/{dataset['id']}/test-cases")
        await served.add_cases(dataset["id"], [completion_example(2)])
        with statements_run(app) as new_version:
            third = await served.create_run("qa", include_outputs=True)

    def cases(response: Any) -> list[dict[str, Any]]:
        assert response.status_code == 201, response.text
        return list(response.json()["test_cases"])

    assert first_time[-1] == "SELECT"
    assert again == ["INSERT"]
    assert cases(first)[0]["output"] == "answer 0"
    hidden = {"output": None, "output_message": None}
    assert cases(second) == [{**case, **hidden} for case in cases(first)]
    assert [case["id"] for case in listed.json()] == [case["id"] for case in cases(first)]
    # Version 2 has its own cases: read, not version 1's given again.
    assert new_version[-1] == "SELECT"
    assert cases(third)[:2] == cases(first)
    assert cases(third)[2]["values"] == completion_example(2)["inputs"]


async def test_a_large_version_s_cases_are_read_each_time(api: Api, settings: Settings) -> None:
    big = [{**completion_example(i), "output": "x" * 40_000} for i in range(2)]
    await api.dataset_with_cases("big", big)
    app = create_app(settings.model_copy(update={"fast_statements": False}))
    async with served_by(app, api) as served:
        await served.create_run("big")
        with statements_run(app) as again:
            made = await served.create_run("big")
    assert made.status_code == 201, made.text
    assert again == ["INSERT", "SELECT"]


async def test_a_missing_dataset_or_project_is_404_and_writes_nothing(
    api: Api, other_api: Api
) -> None:
    await other_api.dataset_with_cases("theirs", [completion_example(0)])
    missing = await api.create_run("nope")
    assert_problem(missing, 404, "not_found")
    assert "nope" in missing.json()["detail"]
    # Another project's dataset, through this key: that project is not there for it.
    foreign = await api.client.post(
        f"/api/v2/projects/{other_api.project_id}/test-runs",
        json={"dataset_name": "theirs"},
        headers={"Authorization": f"Bearer {api.key}"},
    )
    assert_problem(foreign, 404, "not_found")
    assert "project" in foreign.json()["detail"]
    assert (await api.get("/test-runs")).json()["total"] == 0
    assert (await other_api.get("/test-runs")).json()["total"] == 0


def _sqlite_path(settings: Settings) -> Path:
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("a SQLite file")
    return Path(settings.database_url.split("///", 1)[1])


async def test_a_plain_create_waits_for_another_process_without_holding_up_the_server(
    api: Api, settings: Settings
) -> None:
    path = _sqlite_path(settings)
    await api.dataset_with_cases("qa", [completion_example(0)])
    locker = sqlite3.connect(path, isolation_level=None)
    try:
        async with served_by(create_app(settings), api) as served:
            await served.get("/datasets")  # authenticate once, so the key is not what waits
            locker.execute("BEGIN IMMEDIATE")  # another process writing
            creating = asyncio.create_task(served.create_run("qa"))
            await asyncio.sleep(0.05)
            # The create waits for the lock in the driver's thread; the loop serves on.
            health = await asyncio.wait_for(served.client.get("/healthz"), timeout=2)
            assert health.status_code == 200
            assert not creating.done()
            locker.execute("ROLLBACK")
            made = await asyncio.wait_for(creating, timeout=5)
    finally:
        locker.close()
    assert made.status_code == 201, made.text


def _log_restarts(wal: Path) -> int:
    """The write-ahead log's checkpoint sequence number: one more each time a checkpoint
    let it start over."""
    return int(struct.unpack(">I", wal.read_bytes()[12:16])[0])


async def test_plain_creates_keep_the_write_ahead_log_checkpointed(
    api: Api, app: FastAPI, settings: Settings
) -> None:
    """Automatic checkpoints are off on the app's connections; every CHECKPOINT_EVERY writes
    one is run in the background. Runs written without a transaction count among those
    writes, or the log would grow with every run made. A checkpoint that ran while nothing
    was written lets the next write start the log over."""
    path = _sqlite_path(settings)
    await api.dataset_with_cases("qa", [completion_example(0)])
    wal = path.with_name(path.name + "-wal")
    before = _log_restarts(wal)
    checkpoints = app.state.db.engine.dialect.loaded_dbapi.checkpoints
    for _ in range(CHECKPOINT_EVERY):
        assert (await api.create_run("qa")).status_code == 201
        if checkpoints.running:
            break
    assert checkpoints.running
    for _ in range(200):  # nothing written meanwhile
        if not checkpoints.running:
            break
        await asyncio.sleep(0.01)
    assert (await api.create_run("qa")).status_code == 201
    assert _log_restarts(wal) > before


async def test_a_log_past_its_bound_is_checkpointed_by_the_next_writer(
    api: Api, app: FastAPI, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checkpoints in the background cannot complete while writes go on; once one finds
    the log past LOG_FRAMES (here: any frame at all), the next writer checkpoints in its own
    connection after its write."""
    _sqlite_path(settings)
    monkeypatch.setattr(sqlite_driver, "LOG_FRAMES", 0)
    await api.dataset_with_cases("qa", [completion_example(0)])
    checkpoints = app.state.db.engine.dialect.loaded_dbapi.checkpoints
    for _ in range(CHECKPOINT_EVERY):
        assert (await api.create_run("qa")).status_code == 201
    for _ in range(100):  # the one in the background, started by the last write
        if checkpoints.due:
            break
        await asyncio.sleep(0.02)
    assert checkpoints.due
    assert (await api.create_run("qa")).status_code == 201
    assert not checkpoints.due  # that writer ran it
    assert checkpoints.writes == 0
