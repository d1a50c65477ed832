"""A run of a whole dataset is written by one statement that is its own transaction
(``Database.write_one``): no BEGIN or COMMIT around it; a small version's cases, once read,
are kept by the process, so creating another run of it is that one statement. These tests fail if that path
silently stops being used, and check what SQLite needs of such a write: it waits for another
process's write lock off the event loop, and it counts toward the WAL checkpoints."""

import asyncio
import sqlite3
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event

from app.db import sqlite_driver
from app.db.sqlite_driver import CHECKPOINT_EVERY
from app.main import create_app
from app.settings import Settings
from tests.support import Api, assert_problem, completion_example, create_evaluation, served_by


@contextmanager
def statements_run(app: FastAPI) -> Iterator[list[str]]:
    """Every statement the app's engine sends, BEGIN and COMMIT included where they are
    statements (SQLite; asyncpg begins and commits with calls of its own)."""
    statements: list[str] = []
    engine = app.state.db.engine.sync_engine

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
