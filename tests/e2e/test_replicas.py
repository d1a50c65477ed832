"""Several app processes on one database: concurrent writers lose nothing and disagree on
nothing. On PostgreSQL two replicas serve; on SQLite one process (its writers serialise)."""

import asyncio
import itertools
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import pytest
from sqlalchemy.engine import make_url

from app.db.engine import Database
from app.domain import datasets, keys, projects, test_cases
from app.domain.datasets import NewDataset, TestCaseType
from app.domain.keys import OPERATOR

TESTRUNS = str(Path(sys.executable).parent / "testruns")
CLIENTS = 32
SECONDS = 3.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def replicas(database_url: str, tmp_path: Path) -> Iterator[list[str]]:
    """Base URLs of real `testruns serve` processes on loopback ports."""
    count = 1 if make_url(database_url).get_backend_name() == "sqlite" else 2
    env = {**os.environ, "TESTRUNS_DATABASE_URL": database_url}
    servers, urls = [], []
    for _ in range(count):
        port = free_port()
        servers.append(
            subprocess.Popen(
                [TESTRUNS, "serve", "--port", str(port), "--log-level", "warning"],
                cwd=tmp_path,
                env=env,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url in urls:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{url}/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"{url} did not start"
                time.sleep(0.1)
        yield urls
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)


@dataclass
class Acknowledged:
    runs: dict[str, list[str]] = field(default_factory=dict)  # run id → its case ids
    cases: list[str] = field(default_factory=list)
    versions: list[int] = field(default_factory=list)
    results: dict[tuple[str, str], str] = field(default_factory=dict)  # (run, case) → output
    requests: int = 0
    failures: list[str] = field(default_factory=list)


async def client_loop(
    number: int, urls: list[str], key: str, project_id: str, dataset_id: str, seen: Acknowledged
) -> None:
    rng = random.Random(number)
    headers = {"Authorization": f"Bearer {key}"}
    base = f"/api/v2/projects/{project_id}"
    replica = itertools.cycle(urls[number % len(urls) :] + urls[: number % len(urls)])
    pending: list[tuple[str, str]] = []  # cases of runs this client made, not yet recorded
    deadline = time.monotonic() + SECONDS
    async with httpx.AsyncClient(timeout=60) as http:
        while time.monotonic() < deadline:
            url = next(replica)
            action = rng.choice(["run", "add", "record", "record"] if pending else ["run", "add"])
            if action == "run":
                response = await http.post(
                    f"{url}{base}/test-runs", json={"dataset_name": "shared"}, headers=headers
                )
            elif action == "add":
                examples = [
                    {"inputs": {"client": number, "i": i}} for i in range(rng.randint(1, 3))
                ]
                response = await http.post(
                    f"{url}{base}/datasets/id/{dataset_id}/test-cases",
                    json={"examples": examples},
                    headers=headers,
                )
            else:
                run_id, case_id = pending.pop(rng.randrange(len(pending)))
                output = f"client {number} on {case_id}"
                response = await http.post(
                    f"{url}{base}/sessions/{uuid.uuid4()}/completions",
                    json={
                        "messages": [{"role": "assistant", "content": output}],
                        "test_run_info": {"test_run_id": run_id, "test_case_id": case_id},
                        "eval_results": {"client": number},
                    },
                    headers=headers,
                )
            seen.requests += 1
            if response.status_code >= 300:
                seen.failures.append(f"{action} {response.status_code} {response.text[:200]}")
                continue
            body = response.json()
            if action == "run":
                cases = [c["id"] for c in body["test_cases"]]
                seen.runs[body["test_run_id"]] = cases
                pending += [(body["test_run_id"], c) for c in rng.sample(cases, 2)]
            elif action == "add":
                seen.cases += body["test_case_ids"]
                seen.versions.append(body["dataset_version"])
            else:
                seen.results[(run_id, case_id)] = output


async def test_concurrent_clients_across_replicas_lose_nothing(
    db: Database, replicas: list[str]
) -> None:
    project = await projects.create_project(db, "Replicas")
    _, key = await keys.create_key(db, admin=False, project_ids=[project.id])
    dataset = await datasets.create_dataset(
        db, OPERATOR, project.id, NewDataset("shared", TestCaseType.COMPLETION)
    )
    first = await test_cases.add_test_cases(
        db, OPERATOR, project.id, dataset.id, [{"inputs": {"seed": i}} for i in range(5)]
    )
    seen = Acknowledged(cases=list(first.case_ids), versions=[first.version.number])

    await asyncio.wait_for(
        asyncio.gather(
            *(client_loop(n, replicas, key, project.id, dataset.id, seen) for n in range(CLIENTS))
        ),
        timeout=SECONDS + 120,
    )

    print(f"{seen.requests} requests by {CLIENTS} clients on {len(replicas)} replica(s)")
    assert seen.failures == []
    assert seen.requests > CLIENTS
    headers = {"Authorization": f"Bearer {key}"}
    base = f"/api/v2/projects/{project.id}"
    async with httpx.AsyncClient(timeout=60) as http:
        stored = (
            await http.get(
                f"{replicas[0]}{base}/datasets/id/{dataset.id}/test-cases", headers=headers
            )
        ).json()
        stored_ids = [c["id"] for c in stored]
        assert len(stored_ids) == len(set(stored_ids))
        assert sorted(stored_ids) == sorted(seen.cases)
        assert sorted(seen.versions) == list(range(1, len(seen.versions) + 1))
        current = (
            await http.get(f"{replicas[0]}{base}/datasets/name/shared", headers=headers)
        ).json()
        assert current["version"] == len(seen.versions)

        for run_id, cases in seen.runs.items():
            views = []
            for url in replicas:
                summary = (
                    await http.get(f"{url}{base}/test-runs/id/{run_id}", headers=headers)
                ).json()
                rows = (
                    await http.get(f"{url}{base}/test-runs/id/{run_id}/results", headers=headers)
                ).text
                views.append((summary, rows))
            assert all(view == views[0] for view in views), f"replicas disagree on {run_id}"
            summary, rows = views[0]
            recorded = {case: out for (run, case), out in seen.results.items() if run == run_id}
            assert summary["progress"] == {"done": len(recorded), "total": len(cases)}
            outputs = {
                row["test_case_id"]: row["output"] for row in map(orjson.loads, rows.splitlines())
            }
            assert {c: o for c, o in outputs.items() if o is not None} == recorded
