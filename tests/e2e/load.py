"""Write load on a live server from several client threads, and the check that a database
holds every write the server acknowledged, each whole.

Each client loops over three writes: add a batch of BATCH test cases (one new dataset
version), create a test run, record a result with a client score for one of its run's cases.
A write counts as acknowledged when its 2xx answer was read; a 5xx is a failure; a request
that never got an answer (connection refused or closed) is counted, not judged.
"""

import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.db.engine import Database
from app.domain import keys, projects
from app.settings import Settings
from tests.support import run_sync

BATCH = 4
DATASET = "load"


@dataclass
class Target:
    key: str
    project_id: str
    dataset_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def prepare(database_url: str, url: str) -> Target:
    """A project, its key and a dataset with one batch of cases, on the server at url."""

    async def make() -> tuple[str, str]:
        db = Database(Settings(database_url=database_url))
        try:
            project = await projects.create_project(db, "Load")
            _, key = await keys.create_key(db, admin=False, project_ids=[project.id])
            return project.id, key
        finally:
            await db.dispose()

    project_id, key = run_sync(make)
    target = Target(key, project_id, "")
    base = f"{url}/api/v2/projects/{project_id}"
    made = httpx.post(f"{base}/prompt-datasets", json={"name": DATASET}, headers=target.headers)
    assert made.status_code == 201, made.text
    target.dataset_id = made.json()["id"]
    examples = [{"inputs": {"writer": -1, "batch": 0, "k": k}} for k in range(BATCH)]
    added = httpx.post(
        f"{base}/datasets/id/{target.dataset_id}/test-cases",
        json={"examples": examples},
        headers=target.headers,
    )
    assert added.status_code == 201, added.text
    return target


@dataclass
class Acknowledged:
    batches: set[tuple[int, int]] = field(default_factory=set)  # (writer, batch)
    runs: set[str] = field(default_factory=set)
    results: dict[tuple[str, str], int] = field(default_factory=dict)  # (run, case) -> writer
    requests: int = 0
    unanswered: int = 0
    failures: list[str] = field(default_factory=list)

    def copy(self) -> "Acknowledged":
        return Acknowledged(set(self.batches), set(self.runs), dict(self.results))


class Writers:
    """Client threads writing to the server at url until stopped (or it stops answering)."""

    def __init__(self, url: str, target: Target, clients: int = 4, max_requests: int = 2000):
        self.url = url
        self.target = target
        self.seen = Acknowledged()
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.max_requests = max_requests
        self.threads = [threading.Thread(target=self._loop, args=(n,)) for n in range(clients)]

    def __enter__(self) -> "Writers":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=120)

    def snapshot(self) -> Acknowledged:
        with self.lock:
            return self.seen.copy()

    def wait_for(self, requests: int) -> None:
        """Until the clients have had `requests` more writes acknowledged (bounded)."""
        start = self.acknowledged()
        for _ in range(6000):
            if self.acknowledged() >= start + requests or not any(
                t.is_alive() for t in self.threads
            ):
                return
            self.stopping.wait(0.01)
        raise AssertionError("the writers made no progress")

    def acknowledged(self) -> int:
        with self.lock:
            return len(self.seen.batches) + len(self.seen.runs) + len(self.seen.results)

    def _loop(self, writer: int) -> None:
        base = f"{self.url}/api/v2/projects/{self.target.project_id}"
        cases: list[tuple[str, str]] = []  # (run, case) this writer may record
        with httpx.Client(headers=self.target.headers, timeout=120) as http:
            for step in range(self.max_requests):
                if self.stopping.is_set():
                    return
                try:
                    self._write(http, base, writer, step, cases)
                except httpx.TransportError:
                    with self.lock:
                        self.seen.unanswered += 1
                    if self.stopping.wait(0.01):
                        return

    def _write(
        self, http: httpx.Client, base: str, writer: int, step: int, cases: list[tuple[str, str]]
    ) -> None:
        action = ("add", "run", "record")[step % 3]
        if action == "record" and not cases:
            action = "run"
        if action == "add":
            examples = [{"inputs": {"writer": writer, "batch": step, "k": k}} for k in range(BATCH)]
            response = http.post(
                f"{base}/datasets/id/{self.target.dataset_id}/test-cases",
                json={"examples": examples},
            )
        elif action == "run":
            response = http.post(f"{base}/test-runs", json={"dataset_name": DATASET})
        else:
            run_id, case_id = cases.pop()
            response = http.post(
                f"{base}/sessions/{uuid.uuid4()}/completions",
                json={
                    "messages": [{"role": "assistant", "content": f"answer {writer}"}],
                    "test_run_info": {"test_run_id": run_id, "test_case_id": case_id},
                    "eval_results": {"writer": writer},
                },
            )
        with self.lock:
            self.seen.requests += 1
            if response.status_code >= 300:
                self.seen.failures.append(f"{action}: {response.status_code} {response.text}")
                return
            if action == "add":
                self.seen.batches.add((writer, step))
            elif action == "run":
                body = response.json()
                self.seen.runs.add(body["test_run_id"])
                cases.append((body["test_run_id"], body["test_cases"][-1]["id"]))
            else:
                self.seen.results[(run_id, case_id)] = writer


RUN = """query ($id: ID!) {
  testRun(id: $id) {
    datasetVersion testCaseCount
    results(first: 1000) { edges { node {
      testCase { ... on CompletionTestCase { id } } output evalResults
    } } }
  }
}"""


def check_database(url: str, target: Target, acknowledged: Acknowledged) -> dict[str, int]:
    """Assert the server at url holds every acknowledged write, and every write it holds is
    whole. Returns how many of each it holds."""
    base = f"{url}/api/v2/projects/{target.project_id}"
    with httpx.Client(headers=target.headers, timeout=120) as http:
        listed = http.get(f"{base}/datasets/id/{target.dataset_id}/test-cases")
        assert listed.status_code == 200, listed.text
        batches: dict[tuple[int, int], list[int]] = {}
        for case in listed.json():
            values = case["values"]
            batches.setdefault((values["writer"], values["batch"]), []).append(values["k"])
        # Whole: every batch is there with all of its cases, or not at all.
        assert all(sorted(ks) == list(range(BATCH)) for ks in batches.values())
        assert acknowledged.batches <= set(batches)

        listed_runs = http.get(f"{base}/test-runs", params={"page_size": 1000})
        assert listed_runs.status_code == 200, listed_runs.text
        runs = {run["id"] for run in listed_runs.json()["test_runs"]}
        assert acknowledged.runs <= runs
        results: dict[tuple[str, str], int] = {}
        for run_id in runs:
            answer = http.post(f"{url}/graphql", json={"query": RUN, "variables": {"id": run_id}})
            body: dict[str, Any] = answer.json()
            assert "errors" not in body, body
            run = body["data"]["testRun"]
            assert run["testCaseCount"] == BATCH * run["datasetVersion"]
            for edge in run["results"]["edges"]:
                node = edge["node"]
                # Whole: the output and the client score were recorded together.
                assert node["output"] is not None
                results[(run_id, node["testCase"]["id"])] = node["evalResults"]["writer"]
        for recorded, writer in acknowledged.results.items():
            assert results.get(recorded) == writer, f"acknowledged result missing: {recorded}"
    return {"batches": len(batches), "runs": len(runs), "results": len(results)}
