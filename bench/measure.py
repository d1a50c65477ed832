"""What the benchmark measures. Every figure is the median of repeated runs, each run timed
from sending the request to having read the whole answer (nothing parsed in the timed part
unless a real client must parse it, as in walking pages)."""

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from bench.cases import DatasetInfo, examples
from bench.client import ApiError, Client, graphql_body
from bench.floor import Floor
from bench.server import Server

ID_VALUES = "... on CompletionTestCase { id values }"
ALL_FIELDS = (
    "... on CompletionTestCase { id values output outputMessage { role content { type text } }"
    " history { role content { type text } } metadata mediaInputs }"
)
PAGE = "edges { node { " + ID_VALUES + " } } pageInfo { hasNextPage endCursor }"
CREATE_ONLY = (
    "mutation Create($input: CreateTestRunInput!) { createTestRun(input: $input) {"
    " testRun { id } } }"
)
WALK_FIRST = (
    "mutation Create($input: CreateTestRunInput!, $first: Int) { createTestRun(input: $input) {"
    " testRun { id testCases(first: $first) { " + PAGE + " } } } }"
)
WALK_NEXT = (
    "query Next($id: ID!, $first: Int, $after: String) {"
    " testRun(id: $id) { testCases(first: $first, after: $after) { " + PAGE + " } } }"
)
DATASET_PAGE = (
    "query Page($id: ID!, $first: Int, $after: String) {"
    " dataset(id: $id) { testCases(first: $first, after: $after) { " + PAGE + " } } }"
)


def create_with_cases(selection: str) -> str:
    """createTestRun selecting ``first`` cases, each with ``selection``, and nothing else."""
    return (
        "mutation Create($input: CreateTestRunInput!, $first: Int) { createTestRun(input: $input) {"
        " testRun { testCases(first: $first) { edges { node { " + selection + " } } } } } }"
    )


@dataclass
class Series:
    """Repeated timings of one operation on one dataset size."""

    surface: str
    n: int
    times_ms: list[float]
    detail: str = ""

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_ms)

    def as_dict(self) -> dict[str, Any]:
        return {
            "surface": self.surface,
            "n": self.n,
            "detail": self.detail,
            "repeats": len(self.times_ms),
            "median_ms": round(self.median_ms, 3),
            "times_ms": [round(t, 3) for t in self.times_ms],
        }


@dataclass
class Concurrency:
    n: int
    clients: int
    seconds: float
    errors: int
    latencies_ms: list[float] = field(repr=False)

    @property
    def runs(self) -> int:
        return len(self.latencies_ms)

    @property
    def throughput(self) -> float:
        return self.runs / self.seconds

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def p99_ms(self) -> float:
        return statistics.quantiles(self.latencies_ms, n=100)[98]

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "clients": self.clients,
            "seconds": round(self.seconds, 3),
            "runs": self.runs,
            "errors": self.errors,
            "runs_per_second": round(self.throughput, 1),
            "p50_ms": round(self.p50_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "latencies_ms": [round(t, 2) for t in self.latencies_ms],
        }


@dataclass
class Memory:
    """/proc/<pid>/status of the server before and after one large REST answer (kB)."""

    n: int
    before_kb: dict[str, int]
    after_kb: dict[str, int]

    @property
    def hwm_increase_mb(self) -> float:
        return (self.after_kb["VmHWM"] - self.before_kb["VmHWM"]) / 1024

    @property
    def peak_over_rss_mb(self) -> float:
        """The request's peak resident size above the resident size it started from."""
        return (self.after_kb["VmHWM"] - self.before_kb["VmRSS"]) / 1024

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "before_kb": self.before_kb,
            "after_kb": self.after_kb,
            "hwm_increase_mb": round(self.hwm_increase_mb, 1),
            "peak_over_rss_before_mb": round(self.peak_over_rss_mb, 1),
        }


@dataclass
class Timed:
    """An operation ready to be timed (checked and warmed up), and where its timings go."""

    series: Series
    action: Callable[[], object]


def interleaved(operations: list[Timed], repeats: int) -> list[Series]:
    """Time the operations in turn, ``repeats`` rounds: what is compared sees the same
    machine, whatever else it was doing meanwhile."""
    for _ in range(repeats):
        for operation in operations:
            start = time.perf_counter()
            operation.action()
            operation.series.times_ms.append((time.perf_counter() - start) * 1000)
    return [operation.series for operation in operations]


class Bench:
    """The measurements, against one running server and its datasets (by size)."""

    def __init__(
        self, server: Server, key: str, project_id: str, datasets: dict[int, DatasetInfo]
    ) -> None:
        self.server = server
        self.key = key
        self.client = Client(server.port, key)
        self.project_id = project_id
        self.datasets = datasets
        self.base = f"/api/v2/projects/{project_id}"
        self.body_bytes: dict[int, int] = {}  # size of the REST answer, by dataset size

    def close(self) -> None:
        self.client.close()

    def request(self, surface: str, n: int, path: str, body: bytes, expect: int) -> Timed:
        """A POST timed until its whole answer is read, warmed up once here."""
        self.client.call("POST", path, body, expect)
        return Timed(Series(surface, n, []), lambda: self.client.call("POST", path, body, expect))

    # ---- REST and its floor --------------------------------------------------------------

    def rest_body(self, n: int) -> bytes:
        return orjson.dumps({"dataset_name": self.datasets[n].name, "include_outputs": True})

    def rest_run(self, n: int) -> bytes:
        return self.client.call("POST", f"{self.base}/test-runs", self.rest_body(n), 201)

    def check_rest(self, n: int, floor: Floor) -> None:
        """One run, outside timing: the body parses, holds N cases, and matches the floor's."""
        body = self.rest_run(n)
        self.body_bytes[n] = len(body)
        answer = orjson.loads(body)
        expected = orjson.loads(floor.respond(self.datasets[n]))
        if len(answer["test_cases"]) != n or answer["trace_test_cases"] is not None:
            raise ApiError(f"REST run of the {n}-case dataset has {len(answer['test_cases'])}")
        if answer.keys() != expected.keys() or (
            answer["test_cases"][0].keys() != expected["test_cases"][0].keys()
        ):
            raise ApiError("the floor's body does not have the REST answer's keys")
        if answer["test_cases"] != expected["test_cases"]:
            raise ApiError("the floor's cases differ from the REST answer's")

    def rest(self, n: int) -> Timed:
        return self.request("rest", n, f"{self.base}/test-runs", self.rest_body(n), 201)

    def floor(self, floor: Floor, n: int) -> Timed:
        dataset = self.datasets[n]
        floor.respond(dataset)
        return Timed(Series("floor", n, []), lambda: floor.respond(dataset))

    def memory(self, n: int, floor: Floor) -> Memory:
        """Peak memory of one N-case REST answer, right after warming up on smaller ones."""
        for size in sorted(self.datasets):
            if size < n:
                self.check_rest(size, floor)
        before = self.server.memory_kb()
        self.rest_run(n)
        after = self.server.memory_kb()
        self.check_rest(n, floor)
        return Memory(n, before, after)

    # ---- GraphQL -------------------------------------------------------------------------

    def run_input(self, n: int) -> dict[str, Any]:
        return {
            "projectId": self.project_id,
            "datasetName": self.datasets[n].name,
            "includeOutputs": True,
        }

    def graphql(self, surface: str, n: int, query: str, variables: dict[str, Any]) -> Timed:
        return self.request(surface, n, "/graphql", graphql_body(query, variables), 200)

    def graphql_cases(self, surface: str, selection: str, n: int) -> Timed:
        query = create_with_cases(selection)
        variables = {"input": self.run_input(n), "first": n}
        edges = self.client.graphql(query, variables)["createTestRun"]["testRun"]["testCases"]
        if len(edges["edges"]) != n or not edges["edges"][0]["node"]["values"]:
            raise ApiError(f"GraphQL {surface} run of {n} cases came back incomplete")
        return self.graphql(surface, n, query, variables)

    def create_only(self, n: int) -> Timed:
        variables = {"input": self.run_input(n)}
        self.client.graphql(CREATE_ONLY, variables)
        return self.graphql("create_only", n, CREATE_ONLY, variables)

    def walk(self, n: int, page: int) -> int:
        """Create a run and read all its cases a page at a time; the number of cases read."""
        data = self.client.graphql(WALK_FIRST, {"input": self.run_input(n), "first": page})
        run = data["createTestRun"]["testRun"]
        cases = run["testCases"]
        count = len(cases["edges"])
        while cases["pageInfo"]["hasNextPage"]:
            after = cases["pageInfo"]["endCursor"]
            variables = {"id": run["id"], "first": page, "after": after}
            cases = self.client.graphql(WALK_NEXT, variables)["testRun"]["testCases"]
            count += len(cases["edges"])
        return count

    def page_walk(self, n: int, page: int) -> Timed:
        """The whole walk, checked every time (a real client parses each page anyway)."""

        def action() -> None:
            if (count := self.walk(n, page)) != n:
                raise ApiError(f"walking the {n}-case run read {count} cases")

        return Timed(Series("graphql_walk", n, [], f"pages of {page:,}"), action)

    def dataset_page(self, n: int, number: int, size: int) -> Timed:
        """Page ``number`` (1-based) of the dataset's cases; its cursor is found beforehand."""
        dataset_id = self.datasets[n].id
        after = None
        for _ in range(number - 1):
            variables = {"id": dataset_id, "first": size, "after": after}
            found = self.client.graphql(DATASET_PAGE, variables)["dataset"]["testCases"]
            after = found["pageInfo"]["endCursor"]
        variables = {"id": dataset_id, "first": size, "after": after}
        found = self.client.graphql(DATASET_PAGE, variables)["dataset"]["testCases"]
        if len(found["edges"]) != min(size, n - (number - 1) * size):
            raise ApiError(f"page {number} of the {n}-case dataset is not full")
        timed = self.graphql("page_read", n, DATASET_PAGE, variables)
        timed.series.detail = f"page {number} of {size}"
        return timed

    # ---- writes and load -----------------------------------------------------------------

    def add_one(self, n: int) -> Timed:
        """Add one case to the N-case dataset (each repeat makes a new version)."""
        path = f"{self.base}/datasets/id/{self.datasets[n].id}/test-cases"
        return self.request("add_one", n, path, orjson.dumps({"examples": list(examples(1))}), 201)

    def concurrency(self, n: int, clients: int, seconds: float) -> Concurrency:
        """``clients`` threads, each on its own keep-alive connection, creating REST runs of the
        N-case dataset back to back for ``seconds``."""
        path, body = f"{self.base}/test-runs", self.rest_body(n)
        latencies: list[list[float]] = [[] for _ in range(clients)]
        errors = [0] * clients
        ready = threading.Barrier(clients + 1)
        bounds: list[float] = []

        def worker(index: int) -> None:
            client = Client(self.server.port, self.key)
            client.call("POST", path, body, 201)  # connect and warm up
            ready.wait()
            deadline = bounds[0] + seconds
            while (start := time.perf_counter()) < deadline:
                status, _ = client.send("POST", path, body)
                latencies[index].append((time.perf_counter() - start) * 1000)
                errors[index] += status != 201
            client.close()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
        for thread in threads:
            thread.start()
        bounds.append(time.perf_counter())
        ready.wait()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - bounds[0]
        return Concurrency(n, clients, elapsed, sum(errors), [t for ts in latencies for t in ts])


# ---- small requests and throughput ---------------------------------------------------------

PROJECT_QUERY = "query Project($id: ID!) { project(id: $id) { id name } }"


def get(client: Client, path: str) -> Callable[[], bytes]:
    return lambda: client.call("GET", path, None, 200)


def small_requests(bench: Bench, n: int) -> list[Timed]:
    """The requests a frontend or the SDK sends all day, against ``/healthz`` as the server's
    own floor, all on the bench's one keep-alive client: /healthz, an authenticated one-item
    page of test runs, GraphQL ``project { id name }`` and a REST create of an N-case run."""
    client = bench.client
    runs = f"{bench.base}/test-runs?page_size=1"
    page = orjson.loads(client.call("GET", runs, None, 200))
    if len(page["test_runs"]) != 1:
        raise ApiError("the one-item page of test runs is empty")
    project = client.graphql(PROJECT_QUERY, {"id": bench.project_id})["project"]
    if project is None or project["name"] != "bench":
        raise ApiError(f"GraphQL project came back as {project!r}")
    timed = [
        Timed(Series("healthz", 0, []), get(client, "/healthz")),
        Timed(Series("small_read", 1, []), get(client, runs)),
        bench.graphql("graphql_project", 1, PROJECT_QUERY, {"id": bench.project_id}),
        bench.rest(n),
    ]
    for operation in timed:
        operation.action()  # warmed up
    timed[-1].series.surface = "rest_small_create"
    return timed


def load(
    port: int,
    key: str,
    clients: int,
    seconds: float,
    request: tuple[str, str, bytes | None, int],
    n: int = 0,
) -> Concurrency:
    """``clients`` threads, each on its own keep-alive connection, sending ``request``
    (method, path, body, expected status) back to back for ``seconds``."""
    method, path, body, expect = request
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    ready = threading.Barrier(clients + 1)
    bounds: list[float] = []

    def worker(index: int) -> None:
        client = Client(port, key)
        client.call(method, path, body, expect)  # connect and warm up
        ready.wait()
        deadline = bounds[0] + seconds
        while (start := time.perf_counter()) < deadline:
            try:
                status, _ = client.send(method, path, body)
            except OSError:
                status = 0
                client.close()
                client = Client(port, key)
            latencies[index].append((time.perf_counter() - start) * 1000)
            errors[index] += status != expect
        client.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    bounds.append(time.perf_counter())
    ready.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - bounds[0]
    return Concurrency(n, clients, elapsed, sum(errors), [t for ts in latencies for t in ts])


def healthz_load(bench: Bench, clients: int, seconds: float) -> Concurrency:
    """The server's own ceiling: the same clients on ``/healthz``."""
    return load(bench.server.port, bench.key, clients, seconds, ("GET", "/healthz", None, 200))


@dataclass
class Workers:
    """Runs created by clients of ``testruns serve --workers N``, checked through
    the API afterwards."""

    workers: int
    load: Concurrency
    acknowledged: int
    counted: int

    @property
    def lost(self) -> int:
        return self.acknowledged - self.counted

    def as_dict(self) -> dict[str, Any]:
        return {
            "workers": self.workers,
            "acknowledged": self.acknowledged,
            "counted": self.counted,
            "lost": self.lost,
            "load": self.load.as_dict(),
        }


def count_runs(client: Client, base: str) -> int:
    return int(
        orjson.loads(client.call("GET", f"{base}/test-runs?page_size=1", None, 200))["total"]
    )


def workers_load(
    server: Server,
    key: str,
    base: str,
    body: bytes,
    n: int,
    workers: int,
    clients: int,
    seconds: float,
) -> Workers:
    """``clients`` creating N-case REST runs on ``testruns serve --workers N`` (already
    started): no error, and every acknowledged run is there afterwards."""
    client = Client(server.port, key)
    try:
        before = count_runs(client, base)
        found = load(
            server.port, key, clients, seconds, ("POST", f"{base}/test-runs", body, 201), n
        )
        acknowledged = found.runs - found.errors + clients  # and each client's warm-up run
        counted = count_runs(client, base) - before
    finally:
        client.close()
    return Workers(workers, found, acknowledged, counted)
