"""How fast the server runs a test run itself: a run of N cases against the fake
OpenAI-compatible provider (tests/fake_llm.py, in its own process, answering at once), one
worker in this process, on a throwaway SQLite file (or TESTRUNS_DATABASE_URL).

Prints the wall time from creating the run to its last result, cases per second, and the
worker's own cost per case: this process's CPU time per case and the mean time a case spent
outside model calls. Usage: python -m bench.execution [--cases 1000] [--concurrency 16]
[--judges 0|1]
"""

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from app.db import migrate
from app.db.engine import Database
from app.domain import execution, projects, test_runs
from app.domain.execution import Execute
from app.domain.keys import OPERATOR
from app.runner.worker import Worker
from app.settings import Settings
from tests.runner.conftest import add_dataset, add_prompt, case

SERVE_FAKE = """
import sys, time
from tests.fake_llm import FakeLLM
server = FakeLLM().start()
print(server.port, flush=True)
sys.stdin.read()
"""


class _Fake:
    """Enough of FakeLLM for the fixtures: where it listens."""

    def __init__(self, port: int) -> None:
        self.base_url = f"http://127.0.0.1:{port}/v1"


async def bench(cases: int, concurrency: int, judges: int, url: str, port: int) -> dict[str, float]:
    settings = Settings(database_url=url, worker_poll_seconds=0.05)
    db = Database(settings)
    project = await projects.create_project(db, "bench")
    await add_dataset(db, project.id, [case(i) for i in range(cases)])
    version = await add_prompt(
        db,
        project.id,
        _Fake(port),  # type: ignore[arg-type]
        judges=(("helpful", "1-5", "judge-plain"),) if judges else (),
    )
    worker = Worker(db, capacity=concurrency)
    cpu = time.process_time()
    started = time.perf_counter()
    run = await test_runs.create_test_run(
        db,
        OPERATOR,
        project.id,
        test_runs.NewTestRun("qa", execute=Execute(version, concurrency=concurrency)),
    )

    async def done() -> bool:
        return await execution.running_executions(db, [run.id]) == 0

    await worker.run(until=done)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    state = await execution.execution_state(db, run)
    assert state is not None
    assert state.completed == cases, state
    stats = worker.stats
    await db.dispose()
    return {
        "cases": cases,
        "concurrency": concurrency,
        "judges": judges,
        "wall_seconds": wall,
        "cases_per_second": cases / wall,
        "worker_cpu_ms_per_case": cpu * 1000 / cases,
        "outside_model_calls_ms_per_case": (stats.busy_seconds - stats.waiting_seconds)
        * 1000
        / cases,
        "model_call_ms_per_case": stats.waiting_seconds * 1000 / cases,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--judges", type=int, choices=(0, 1), default=0)
    args = parser.parse_args()
    url = os.environ.get("TESTRUNS_DATABASE_URL")
    fake = subprocess.Popen(
        [sys.executable, "-c", SERVE_FAKE], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert fake.stdout is not None
        port = int(fake.stdout.readline())
        with tempfile.TemporaryDirectory() as tmp:
            if url is None:
                url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
                migrate.upgrade(url)
            figures = asyncio.run(bench(args.cases, args.concurrency, args.judges, url, port))
    finally:
        fake.kill()
    for key, value in figures.items():
        print(f"{key:>34}: {value:.2f}" if isinstance(value, float) else f"{key:>34}: {value}")


if __name__ == "__main__":
    main()
