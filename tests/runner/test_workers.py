"""`testruns worker` processes sharing the queue; one killed partway loses nothing and no
case ends with two results."""

import asyncio
import os
import signal
import sys
from collections import Counter
from pathlib import Path

import pytest

from app.db.engine import Database
from app.domain import execution, projects, result_export, test_runs
from app.domain.execution import Execute
from app.domain.keys import OPERATOR
from tests.fake_llm import FakeLLM
from tests.runner.conftest import add_dataset, add_prompt, case

TESTRUNS = str(Path(sys.executable).parent / "testruns")


async def start_worker(database_url: str, tmp_path: Path) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "TESTRUNS_DATABASE_URL": database_url,
        "TESTRUNS_WORKER_LEASE_SECONDS": "2",
        "TESTRUNS_WORKER_POLL_SECONDS": "0.1",
        "TESTRUNS_WORKER_CAPACITY": "4",
    }
    return await asyncio.create_subprocess_exec(
        TESTRUNS, "worker", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )


async def finished(db: Database, run_id: str, seconds: float) -> bool:
    for _ in range(int(seconds * 10)):
        if await execution.running_executions(db, [run_id]) == 0:
            return True
        await asyncio.sleep(0.1)
    return False


async def test_two_workers_share_a_run_and_survive_one_being_killed(
    db: Database, database_url: str, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    project_id = (await projects.create_project(db, "Workers")).id
    case_ids = await add_dataset(db, project_id, [case(i) for i in range(40)])
    version = await add_prompt(db, project_id, fake_llm)
    fake_llm.fail("question", "slow", delay=0.15)
    run = await test_runs.create_test_run(
        db,
        OPERATOR,
        project_id,
        test_runs.NewTestRun("qa", execute=Execute(version, repetitions=1, concurrency=8)),
    )

    doomed = await start_worker(database_url, tmp_path)
    survivor = await start_worker(database_url, tmp_path)
    try:
        assert await asyncio.to_thread(fake_llm.wait_seen, 16, 60)
        doomed.send_signal(signal.SIGKILL)
        await doomed.wait()
        assert await finished(db, run.id, 90)
    finally:
        if survivor.returncode is None:
            survivor.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(survivor.communicate(), 30)
        if doomed.returncode is None:
            doomed.kill()
    assert survivor.returncode == 0, err.decode()
    assert "stopped" in err.decode()

    run = await test_runs.get_test_run(db, OPERATOR, run.id)
    state = await execution.execution_state(db, run)
    assert state is not None
    assert (state.completed, state.errored, state.pending) == (40, 0, 0)
    rows = [row async for row in result_export.export_rows(db, run)]
    per_case = Counter((row.test_case_id, row.repetition) for row in rows)
    assert set(per_case) == {(case_id, 0) for case_id in case_ids}
    assert set(per_case.values()) == {1}
    assert all(row.output == f"Answer: question {i}" for i, row in enumerate(rows))
    assert run.status is test_runs.TestRunStatus.COMPLETED
    calls = len([r for r in fake_llm.seen() if r.model == "fake-chat"])
    assert calls >= 40


@pytest.mark.parametrize("repetitions", [3])
async def test_repetitions_give_one_result_each(
    db: Database, fake_llm: FakeLLM, repetitions: int
) -> None:
    from tests.runner.conftest import drain, worker

    project_id = (await projects.create_project(db, "Reps")).id
    await add_dataset(db, project_id, [case(i) for i in range(4)])
    version = await add_prompt(db, project_id, fake_llm, judges=())
    run = await test_runs.create_test_run(
        db, OPERATOR, project_id, test_runs.NewTestRun("qa", execute=Execute(version, repetitions))
    )
    # Two workers in one process racing for the same tasks.
    await asyncio.gather(drain(db, worker(db)), drain(db, worker(db)))
    run = await test_runs.get_test_run(db, OPERATOR, run.id)
    rows = [row async for row in result_export.export_rows(db, run)]
    assert sorted(Counter(r.test_case_id for r in rows).values()) == [repetitions] * 4
    assert run.status is test_runs.TestRunStatus.COMPLETED
    assert len(fake_llm.seen()) == 4 * repetitions
