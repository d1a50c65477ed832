"""``testruns run``: start a server-side run, follow it, compare it with a baseline, and say
whether CI should pass.

It talks to the database directly, like the other commands. By default it also works on the
run itself (an in-process worker beside any others sharing the database), so a CI job needs
no server; with ``worker=False`` it only waits for the workers that serve the database.
"""

import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from app import junit
from app.db.engine import Database
from app.domain import compare, execution, result_export, result_statistics, test_runs
from app.domain.execution import Execute, ExecutionState, ExecutionStatus
from app.domain.keys import OPERATOR
from app.runner.worker import Worker


@dataclass(frozen=True)
class GateRequest:
    project_id: str
    dataset: str
    prompt_version_id: str
    repetitions: int = 1
    concurrency: int = 4
    name: str | None = None
    baseline: str | None = None
    fail_on_regression: bool = False
    junit_path: Path | None = None
    worker: bool = True
    poll_seconds: float = 1.0


def _progress(state: ExecutionState) -> str:
    done = state.completed + state.errored + state.cancelled
    return (
        f"{done}/{state.total} done: {state.completed} completed, {state.errored} errored, "
        f"{state.pending} pending"
    )


async def run_gate(
    db: Database,
    request: GateRequest,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    make_worker: Callable[..., Worker] = Worker,
) -> int:
    """The exit status: 1 when asked to fail on a regression and one was found, else 0."""
    run = await test_runs.create_test_run(
        db,
        OPERATOR,
        request.project_id,
        test_runs.NewTestRun(
            dataset_name=request.dataset,
            name=request.name,
            execute=Execute(
                prompt_template_version_id=request.prompt_version_id,
                repetitions=request.repetitions,
                concurrency=request.concurrency,
            ),
        ),
    )
    if request.baseline is not None:  # a wrong baseline fails before any work is done
        await test_runs.get_test_run(db, OPERATOR, request.baseline, request.project_id)
    print(f"Started test run {run.name!r} ({run.id})", file=err)

    async def finished() -> bool:
        return await execution.running_executions(db, [run.id]) == 0

    stop = asyncio.Event()
    working = None
    if request.worker:
        working = asyncio.create_task(make_worker(db, run_ids=[run.id]).run(stop, until=finished))
    try:
        last = ""
        while True:
            state = await execution.execution_state(db, run, errors=0)
            assert state is not None
            line = _progress(state)
            if line != last:
                print(line, file=err, flush=True)
                last = line
            if state.status is not ExecutionStatus.RUNNING:
                break
            if working is not None and working.done():
                working.result()  # raises what stopped it
            await asyncio.sleep(request.poll_seconds)
    finally:
        stop.set()
        if working is not None:
            await working

    run = await test_runs.get_test_run(db, OPERATOR, run.id)
    state = await execution.execution_state(db, run, errors=None)
    summary = await result_statistics.summarize(db, run)
    for stats in summary.auto + summary.client:
        print(f"  {stats.source.value}.{stats.name}: {_stats(stats)}", file=out)
    if summary.usage is not None and summary.usage.count:
        usage = summary.usage
        print(
            f"  latency p50 {usage.latency_p50_ms:.0f} ms, p95 {usage.latency_p95_ms:.0f} ms; "
            f"{usage.total_tokens} tokens; cost {usage.cost if usage.cost is not None else 'n/a'}",
            file=out,
        )
    comparison = None
    if request.baseline is not None:
        comparison = await compare.compare_runs(db, OPERATOR, request.baseline, run.id)
        for delta in comparison.evaluations:
            mark = "REGRESSED" if delta.regressed else "ok"
            print(f"  [{mark}] {junit.describe(delta)}", file=out)
    if request.junit_path is not None:
        rows = [row async for row in result_export.export_rows(db, run)]
        junit.write(junit.report(run, rows, state, comparison), request.junit_path)
        print(f"Wrote {request.junit_path}", file=err)
    regressed = comparison is not None and bool(comparison.regressed)
    if regressed:
        names = ", ".join(e.name for e in comparison.regressed) if comparison else ""
        print(f"Regression against {request.baseline}: {names}", file=err)
    print(run.id, file=out)
    return 1 if regressed and request.fail_on_regression else 0


def _stats(stats: result_statistics.EvaluationStats) -> str:
    if stats.mean is not None:
        return f"mean {stats.mean:.3g} over {stats.count}"
    if stats.pass_rate is not None:
        return f"pass rate {stats.pass_rate:.1%} over {stats.count}"
    return f"{stats.count} scored"
