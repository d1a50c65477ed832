"""``python -m bench [--quick] [--out DIR] [--backend sqlite|postgres|both]``: on each
database (SQLite, then a throwaway PostgreSQL server), build the data, start the real server,
measure; print the tables and the targets, write results.json and chart.png. Always exits 0
once the report is written: a failed target is reported, not raised."""

import argparse
import compileall
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench.cases import DatasetInfo, create_dataset
from bench.client import Client
from bench.floor import Floor
from bench.imports import ImportRun, SqliteImportFloor, import_file
from bench.measure import (
    ALL_FIELDS,
    ID_VALUES,
    Bench,
    Concurrency,
    Memory,
    Workers,
    healthz_load,
    interleaved,
    small_requests,
    workers_load,
)
from bench.postgres import PostgresFloor, PostgresImportFloor, PostgresServer
from bench.profile import profiled, summary
from bench.report import (
    IMPORT_FLOOR_LIMITS,
    Results,
    Target,
    chart,
    machine,
    request_lines,
    request_targets,
    table,
    target_lines,
    targets,
)
from bench.server import Server
from bench.subscribers import Subscribers, subscribers

BACKENDS = ("sqlite", "postgres")
CONCURRENCY_CASES = 10
CLIENTS = 8
PAGE_SIZE = 100  # of the dataset page reads


@dataclass(frozen=True)
class Plan:
    quick: bool

    @property
    def sizes(self) -> tuple[int, ...]:
        return (100, 1_000) if self.quick else (100, 1_000, 10_000, 100_000)

    @property
    def big(self) -> int:
        return self.sizes[-1]

    graphql_sizes = (100, 1_000)

    def repeats(self, n: int) -> int:
        if self.quick:
            return 5
        return 15 if n <= 1_000 else 7 if n <= 10_000 else 5

    @property
    def walk(self) -> tuple[int, int]:
        """(page size, repeats) of the page walk over the largest dataset."""
        return (100, 1) if self.quick else (1_000, 3)

    @property
    def deep_page(self) -> tuple[int, tuple[int, ...]]:
        """(page number, dataset sizes) of the deep dataset page reads."""
        return (5, (1_000,)) if self.quick else (50, (10_000, 100_000))

    @property
    def import_sizes(self) -> tuple[int, int]:
        """The cases in the smaller and the larger JSONL file imported."""
        return (100, 1_000) if self.quick else (10_000, 100_000)

    @property
    def import_repeats(self) -> int:
        """Each import and its floor, in turn; the medians are reported."""
        return 1 if self.quick else 3

    @property
    def concurrency_seconds(self) -> float:
        return 3.0 if self.quick else 10.0

    @property
    def small_rounds(self) -> int:
        """Rounds of the interleaved small requests (each round is a few milliseconds)."""
        return 300 if self.quick else 2_000

    serve_workers = 2

    @property
    def subscribers(self) -> tuple[int, int]:
        """(WebSocket subscribers, updates sent to them) of the live-update benchmark."""
        return (100, 1) if self.quick else (1_000, 3)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build(server: Server, plan: Plan) -> tuple[str, str, dict[int, DatasetInfo], dict[int, float]]:
    """Project, key and datasets, made through the CLI and the public REST API."""
    project_id, key = server.setup()
    server.start()
    client = Client(server.port, key)
    datasets, seconds = {}, {}
    try:
        for n in (CONCURRENCY_CASES, *plan.sizes):
            start = time.perf_counter()
            datasets[n] = create_dataset(client, project_id, f"cases-{n}", n)
            seconds[n] = time.perf_counter() - start
            say(f"  dataset of {n:,} cases built in {seconds[n]:.1f} s")
    finally:
        client.close()
        server.stop()
    return project_id, key, datasets, seconds


def measure_requests(bench: Bench, plan: Plan, results: Results) -> Concurrency:
    """Small requests against /healthz, interleaved on one client; then the same clients as
    the concurrency measure on /healthz: the ceiling its throughput is compared with."""
    rounds = plan.small_rounds
    say(f"  small requests: /healthz, page of 1 run, GraphQL project, create x {rounds}")
    results.extend(interleaved(small_requests(bench, CONCURRENCY_CASES), rounds))
    say(f"  ceiling: {CLIENTS} clients on /healthz for {plan.concurrency_seconds:g} s")
    return healthz_load(bench, CLIENTS, plan.concurrency_seconds)


def measure_workers(server: Server, key: str, project_id: str, plan: Plan) -> Workers:
    """``testruns serve --workers N`` under the concurrency load: every acknowledged
    write is there afterwards."""
    count = plan.serve_workers
    say(
        f"serve --workers {count}: {CLIENTS} clients creating runs"
        f" for {plan.concurrency_seconds:g} s"
    )
    server.start(workers=count)
    try:
        bench = Bench(server, key, project_id, {})
        body = orjson.dumps({"dataset_name": f"cases-{CONCURRENCY_CASES}", "include_outputs": True})
        return workers_load(
            server,
            key,
            bench.base,
            body,
            CONCURRENCY_CASES,
            count,
            CLIENTS,
            plan.concurrency_seconds,
        )
    finally:
        server.stop()


def measure(
    bench: Bench, floor: Floor, plan: Plan, profile: Path | None = None
) -> tuple[Results, Concurrency, Memory, Concurrency]:
    """Every measurement; what a target compares is timed interleaved, round by round."""
    results = Results()
    say(f"  memory of a {plan.big:,}-case REST answer (after warming up on smaller ones)")
    memory = bench.memory(plan.big, floor)
    for n in plan.sizes:
        operations = [bench.rest(n), bench.floor(floor, n)]
        if n in plan.graphql_sizes:
            operations.append(bench.graphql_cases("graphql_id_values", ID_VALUES, n))
            operations.append(bench.graphql_cases("graphql_all_fields", ALL_FIELDS, n))
        say(f"  {n:,} cases: {', '.join(o.series.surface for o in operations)} x {plan.repeats(n)}")
        results.extend(interleaved(operations, plan.repeats(n)))
    say(f"  creation alone, 100 and {plan.big:,} cases x {plan.repeats(100)}")
    creations = [bench.create_only(100), bench.create_only(plan.big)]
    results.extend(interleaved(creations, plan.repeats(100)))
    page, walks = plan.walk
    say(f"  GraphQL page walk over {plan.big:,} cases in pages of {page:,} x {walks}")
    results.extend(interleaved([bench.page_walk(plan.big, page)], walks))
    number, deep_sizes = plan.deep_page
    deep = " and ".join(f"{n:,}" for n in deep_sizes)
    say(f"  dataset page reads: page 1 of 100 cases, page {number} of {deep} cases")
    reads = [bench.dataset_page(100, 1, PAGE_SIZE)]
    reads += [bench.dataset_page(n, number, PAGE_SIZE) for n in deep_sizes]
    results.extend(interleaved(reads, plan.repeats(100)))
    with profiled(bench.server.pid if profile else None, profile or Path()):
        ceiling = measure_requests(bench, plan, results)
        say(f"  concurrency: {CLIENTS} clients for {plan.concurrency_seconds:g} s")
        concurrency = bench.concurrency(CONCURRENCY_CASES, CLIENTS, plan.concurrency_seconds)
    say(f"  adding one case to the 100- and the {plan.big:,}-case dataset")
    additions = [bench.add_one(100), bench.add_one(plan.big)]
    results.extend(interleaved(additions, plan.repeats(100)))
    return results, concurrency, memory, ceiling


LABELS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


@dataclass
class Measured:
    """Everything measured on one database."""

    backend: str
    results: Results
    concurrency: Concurrency
    memory: Memory
    imports: list[ImportRun]
    live: Subscribers
    body_bytes: dict[int, int]
    build_seconds: dict[int, float]
    pid_verified: bool
    ceiling: Concurrency
    workers: Workers
    profile: Path | None

    @property
    def label(self) -> str:
        return LABELS[self.backend]

    def targets(self) -> list[Target]:
        limit = IMPORT_FLOOR_LIMITS[self.backend]
        found = targets(self.results, self.concurrency, self.memory, self.imports, self.live, limit)
        found += request_targets(self.results, self.concurrency, self.ceiling, self.workers)
        return [replace(t, name=f"{self.label}: {t.name}", backend=self.backend) for t in found]

    def as_dict(self) -> dict[str, Any]:
        return {
            "setup": {
                "dataset_build_seconds": {
                    str(n): round(s, 2) for n, s in self.build_seconds.items()
                },
                "server_pid_holds_socket": self.pid_verified,
                "rest_body_bytes": {str(n): size for n, size in sorted(self.body_bytes.items())},
            },
            "concurrency": self.concurrency.as_dict(),
            "ceiling": self.ceiling.as_dict(),
            "serve_workers": self.workers.as_dict(),
            "memory": self.memory.as_dict(),
            "imports": [run.as_dict() for run in self.imports],
            "subscribers": self.live.as_dict(),
        }


def run_on(
    backend: str,
    plan: Plan,
    workdir: Path,
    postgres: PostgresServer | None,
    profile: Path | None = None,
) -> Measured:
    """Build the data, import, measure and count live updates on one database."""
    workdir.mkdir()
    url = None if postgres is None else postgres.create_database("bench")
    server = Server(workdir, database_url=url)
    try:
        say("Building the data through the CLI and the REST API")
        project_id, key, datasets, build_seconds = build(server, plan)
        say("Importing JSONL files with testruns import, each after its floor")
        import_floor = (
            SqliteImportFloor(server, workdir)
            if postgres is None
            else PostgresImportFloor(postgres, workdir)
        )
        repeats = plan.import_repeats
        imports = [
            import_file(server, project_id, workdir, n, floor=import_floor, repeats=repeats)
            for n in plan.import_sizes
        ]
        imports.append(
            import_file(
                server,
                project_id,
                workdir,
                plan.import_sizes[-1],
                small=True,
                floor=import_floor,
                repeats=repeats,
            )
        )
        for run in imports:
            kind = "small" if run.small else "realistic"
            say(
                f"  {run.n:,} {kind} cases in {run.wall_seconds:.2f} s, floor"
                f" {run.floor_seconds or 0:.2f} s ({run.rate:,.0f} cases/s)"
            )
        say("Measuring against a freshly started server")
        server.start()
        pid_verified = server.owns_listening_socket()
        if not pid_verified:
            say(
                "  warning: the server's socket is not held by the started process;"
                " its memory figures may be another process's"
            )
        bench = Bench(server, key, project_id, datasets)
        floor = Floor(server.db_path) if postgres is None else PostgresFloor(server.database_url)
        try:
            results, concurrency, memory, ceiling = measure(bench, floor, plan, profile)
        finally:
            floor.close()
            bench.close()
        server.stop()
        workers = measure_workers(server, key, project_id, plan)
        count, rounds = plan.subscribers
        say(f"Live updates: {count:,} WebSocket subscribers on a freshly started server")
        server.stop()
        server.start()
        live = subscribers(server, key, project_id, count, rounds)
        say(
            f"  {live.added_mb:,.1f} MB added;"
            f" p99 {live.p99_ms or 0:,.0f} ms over {rounds} update(s)"
        )
    except BaseException:
        say(f"The benchmark stopped; the server's log ends:\n{server.log_tail()}")
        raise
    finally:
        server.stop()
    return Measured(
        backend,
        results,
        concurrency,
        memory,
        imports,
        live,
        bench.body_bytes,
        build_seconds,
        pid_verified,
        ceiling,
        workers,
        profile,
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100 and 1,000 cases, few repeats")
    parser.add_argument("--out", type=Path, default=Path("bench"), help="where results go")
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgres", "both"),
        default="both",
        help="the databases to measure (default both)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the server with py-spy under the small requests and the concurrency load"
        " (profile-DATABASE.txt beside results.json, a summary on stdout); timings then include"
        " py-spy",
    )
    args = parser.parse_args()
    plan = Plan(quick=args.quick)
    # Commands start from compiled modules, as when installed (pip compiles them); in a
    # checkout run with PYTHONDONTWRITEBYTECODE, each start would compile them again.
    compileall.compile_dir(Path(__file__).resolve().parent.parent / "app", quiet=1)
    backends = BACKENDS if args.backend == "both" else (args.backend,)
    started, started_at = time.perf_counter(), datetime.now(UTC).isoformat(timespec="seconds")
    workdir = Path(tempfile.mkdtemp(prefix="testruns-bench-"))
    args.out.mkdir(parents=True, exist_ok=True)
    postgres = None
    measured: list[Measured] = []
    try:
        for backend in backends:
            if backend == "postgres":
                postgres = PostgresServer()
                postgres.start()
                say(f"== PostgreSQL (a throwaway server on port {postgres.port}) ==")
            else:
                say("== SQLite ==")
            profile = args.out / f"profile-{backend}.txt" if args.profile else None
            measured.append(run_on(backend, plan, workdir / backend, postgres, profile))
    finally:
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    total = time.perf_counter() - started

    found = [target for run in measured for target in run.targets()]
    for run in measured:
        print(f"== {run.label} ==")
        print(
            table(run.results, run.concurrency, run.memory, run.body_bytes, run.imports, run.live)
        )
        print(request_lines(run.results, run.ceiling, run.workers))
        if run.profile is not None:
            print(summary(run.profile))
        print()
    print(target_lines(found))
    args.out.mkdir(parents=True, exist_ok=True)
    report = {
        "started_at": started_at,
        "total_seconds": round(total, 1),
        "quick": plan.quick,
        "machine": machine(),
        "backends": {run.backend: run.as_dict() for run in measured},
        "series": [
            {"backend": run.backend, **s.as_dict()} for run in measured for s in run.results.series
        ],
        "targets": [t.as_dict() for t in found],
    }
    (args.out / "results.json").write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    chart({run.label: run.results for run in measured}, args.out / "chart.png")
    print(f"\nWrote {args.out / 'results.json'} and {args.out / 'chart.png'} in {total:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
