"""Faults: the server killed mid-write, the database away for a while."""

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.db.engine import Database
from app.domain import datasets, keys, projects, test_cases
from app.domain.datasets import NewDataset, TestCaseType
from app.domain.keys import OPERATOR
from app.main import create_app
from app.settings import Settings
from tests.e2e.test_replicas import free_port
from tests.support import Api, TcpProxy, assert_problem, completion_example, served_by

TESTRUNS = str(Path(sys.executable).parent / "testruns")


def start_server(database_url: str, port: int, cwd: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TESTRUNS_DATABASE_URL": database_url}
    server = subprocess.Popen(
        [TESTRUNS, "serve", "--port", str(port), "--log-level", "warning"], cwd=cwd, env=env
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                return server
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)


async def test_a_killed_server_loses_no_acknowledged_write_and_leaves_nothing_half_done(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    project = await projects.create_project(db, "Crash")
    _, key = await keys.create_key(db, admin=False, project_ids=[project.id])
    dataset = await datasets.create_dataset(
        db, OPERATOR, project.id, NewDataset("shared", TestCaseType.COMPLETION)
    )
    await test_cases.add_test_cases(
        db, OPERATOR, project.id, dataset.id, [{"inputs": {"seed": i}} for i in range(4)]
    )
    port = free_port()
    server = start_server(database_url, port, tmp_path)
    url = f"http://127.0.0.1:{port}/api/v2/projects/{project.id}"
    headers = {"Authorization": f"Bearer {key}"}
    acked_cases: list[str] = []
    acked_runs: list[str] = []
    acked_results: list[tuple[str, str]] = []
    stop = asyncio.Event()
    under_way = asyncio.Event()  # set once writes are being acknowledged

    async def client(number: int) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            while not stop.is_set():
                try:
                    run = await http.post(
                        f"{url}/test-runs", json={"dataset_name": "shared"}, headers=headers
                    )
                    if run.status_code != 201:
                        continue
                    body = run.json()
                    acked_runs.append(body["test_run_id"])
                    if len(acked_runs) >= 20:
                        under_way.set()
                    case_id = body["test_cases"][number % len(body["test_cases"])]["id"]
                    recorded = await http.post(
                        f"{url}/sessions/{uuid.uuid4()}/completions",
                        json={
                            "messages": [{"role": "assistant", "content": f"from {number}"}],
                            "test_run_info": {
                                "test_run_id": body["test_run_id"],
                                "test_case_id": case_id,
                            },
                            "eval_results": {"ok": True},
                        },
                        headers=headers,
                    )
                    if recorded.status_code == 201:
                        acked_results.append((body["test_run_id"], case_id))
                    added = await http.post(
                        f"{url}/datasets/id/{dataset.id}/test-cases",
                        json={
                            "examples": [{"inputs": {"client": number, "n": k}} for k in range(3)]
                        },
                        headers=headers,
                    )
                    if added.status_code == 201:
                        acked_cases.extend(added.json()["test_case_ids"])
                except httpx.TransportError:
                    return  # the server is gone

    clients = [asyncio.create_task(client(n)) for n in range(16)]
    # Kill it mid-stream: once writes are being acknowledged, not after a fixed time.
    await asyncio.wait_for(under_way.wait(), timeout=60)
    server.send_signal(signal.SIGKILL)
    server.wait(timeout=30)
    stop.set()
    await asyncio.gather(*clients)
    assert acked_runs, "no write was acknowledged before the kill"

    server = start_server(database_url, port, tmp_path)
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            stored = (
                await http.get(f"{url}/datasets/id/{dataset.id}/test-cases", headers=headers)
            ).json()
            stored_ids = {c["id"] for c in stored}
            assert set(acked_cases) <= stored_ids
            for run_id in acked_runs:
                assert (
                    await http.get(f"{url}/test-runs/id/{run_id}", headers=headers)
                ).status_code == 200
            for run_id, case_id in acked_results:
                rows = (
                    await http.get(f"{url}/test-runs/id/{run_id}/results", headers=headers)
                ).text
                assert f'"test_case_id":"{case_id}"' in rows
                assert '"client":{"ok":true}' in rows.replace(" ", "")
    finally:
        server.terminate()
        server.wait(timeout=30)

    async with db.read() as conn:  # nothing half-written: every count agrees with the rows
        version = await conn.scalar(
            text("SELECT version FROM datasets WHERE id = :d"), {"d": dataset.id}
        )
        numbers = list(
            await conn.scalars(
                text("SELECT number FROM dataset_versions WHERE dataset_id = :d ORDER BY number"),
                {"d": dataset.id},
            )
        )
        assert numbers == list(range(version + 1))
        beyond = await conn.scalar(
            text("SELECT count(*) FROM test_cases WHERE dataset_id = :d AND valid_from > :v"),
            {"d": dataset.id, "v": version},
        )
        assert beyond == 0
        counts = await conn.execute(
            text(
                "SELECT v.number, v.case_count, (SELECT count(*) FROM test_cases c "
                "WHERE c.dataset_id = v.dataset_id AND c.valid_from <= v.number "
                "AND (c.valid_to IS NULL OR c.valid_to > v.number)) FROM dataset_versions v "
                "WHERE v.dataset_id = :d"
            ),
            {"d": dataset.id},
        )
        for number, case_count, visible in counts:
            assert case_count == visible, f"version {number}"
        done = await conn.execute(
            text(
                "SELECT r.done_count, (SELECT count(DISTINCT test_case_id) FROM test_run_results "
                "WHERE test_run_id = r.id) FROM test_runs r"
            )
        )
        for done_count, distinct_cases in done:
            assert done_count == distinct_cases
        orphans = await conn.scalar(
            text(
                "SELECT count(*) FROM test_run_results r WHERE NOT EXISTS "
                "(SELECT 1 FROM result_scores s WHERE s.result_id = r.id)"
            )
        )
        assert orphans == 0  # every result was recorded with its score, or not at all


async def test_a_database_that_goes_away_gets_503_and_the_app_recovers(
    api: Api, db: Database, database_url: str, settings: Settings
) -> None:
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("SQLite has no server to lose; see the locked-database test")
    await api.dataset_with_cases("qa", [completion_example(1)])
    # A key the server has not checked yet: checking it needs the database.
    _, unchecked = await keys.create_key(db, admin=False, project_ids=[api.project_id])
    proxy = await TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = create_app(settings.model_copy(update={"database_url": proxied}))
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://testserver"
            ) as client,
        ):
            served = Api(client, api.key, api.project_id)
            assert (await served.create_run("qa")).status_code == 201
            proxy.disable()
            down_rest = await served.create_run("qa")
            down_graphql = await Api(client, unchecked, api.project_id).graphql_response(
                "{ projects { id } }"
            )
            # A key checked lately is remembered (TESTRUNS_KEY_CACHE_SECONDS): the operation
            # runs, and its field answers that the database is away.
            down_field = await served.graphql_response("{ projects { id } }")
            proxy.enable()
            back = await served.create_run("qa")
    finally:
        await app.state.db.dispose()
        await proxy.close()

    assert_problem(down_rest, 503, "service_unavailable")
    assert down_rest.headers["retry-after"] == "1"
    assert down_graphql.status_code == 503
    assert down_graphql.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert down_field.status_code == 200
    assert down_field.json()["data"] is None
    assert down_field.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert back.status_code == 201


async def test_a_locked_sqlite_database_gets_503_and_then_works(
    api: Api, database_url: str, settings: Settings
) -> None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        pytest.skip("a SQLite file lock")
    await api.create_dataset("qa")
    app = create_app(settings.model_copy(update={"db_statement_timeout_ms": 200}))
    locker = sqlite3.connect(url.database, isolation_level=None)
    try:
        async with served_by(app, api) as served:
            await served.get("/datasets")  # authenticate once, so the key is not what waits
            locker.execute("BEGIN EXCLUSIVE")
            locked = await served.post("/prompt-datasets", {"name": "while-locked"})
            locker.execute("ROLLBACK")
            after = await served.post("/prompt-datasets", {"name": "after"})
    finally:
        locker.close()

    assert_problem(locked, 503, "service_unavailable")
    assert locked.headers["retry-after"] == "1"
    assert after.status_code == 201
