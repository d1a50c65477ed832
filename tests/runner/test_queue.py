"""The task queue: claims respect a run's concurrency across workers, expired leases are
taken over, and a case whose workers keep dying is given up."""

from app.db.engine import Database
from app.domain import execution, projects, test_runs
from app.domain.execution import Execute
from app.domain.keys import OPERATOR
from tests.fake_llm import FakeLLM
from tests.runner.conftest import add_dataset, add_prompt, case


async def executed_run(db: Database, fake_llm: FakeLLM, cases: int, concurrency: int) -> str:
    project_id = (await projects.create_project(db, "Queue")).id
    await add_dataset(db, project_id, [case(i) for i in range(cases)])
    version = await add_prompt(db, project_id, fake_llm, judges=())
    run = await test_runs.create_test_run(
        db,
        OPERATOR,
        project_id,
        test_runs.NewTestRun("qa", execute=Execute(version, concurrency=concurrency)),
    )
    return run.id


async def test_claims_respect_the_runs_concurrency_across_workers(
    db: Database, fake_llm: FakeLLM
) -> None:
    await executed_run(db, fake_llm, cases=10, concurrency=3)

    first = await execution.claim_tasks(db, "worker-a", 2, 60)
    second = await execution.claim_tasks(db, "worker-b", 5, 60)
    third = await execution.claim_tasks(db, "worker-c", 5, 60)

    assert (len(first), len(second), len(third)) == (2, 1, 0)
    assert len({c.key for c in first + second}) == 3
    assert [c.position for c in first] == sorted(c.position for c in first)


async def test_an_expired_lease_is_taken_over_and_the_old_owner_cannot_record(
    db: Database, fake_llm: FakeLLM
) -> None:
    await executed_run(db, fake_llm, cases=1, concurrency=1)
    [stale] = await execution.claim_tasks(db, "worker-a", 1, 0)  # expires at once

    [taken] = await execution.claim_tasks(db, "worker-b", 1, 60)

    assert taken.key == stale.key
    assert taken.attempts == 2
    assert await execution.renew_leases(db, "worker-a", [stale], 60) == {stale.key}
    async with db.write() as conn:
        assert await execution.hold_task(conn, "worker-a", stale) is None
        assert await execution.hold_task(conn, "worker-b", taken) is not None


async def test_a_case_whose_workers_keep_dying_is_given_up(db: Database, fake_llm: FakeLLM) -> None:
    run_id = await executed_run(db, fake_llm, cases=1, concurrency=1)
    for _ in range(execution.MAX_TAKEOVERS):
        assert len(await execution.claim_tasks(db, "dying", 1, 0)) == 1

    assert await execution.claim_tasks(db, "next", 1, 60) == []

    run = await test_runs.get_test_run(db, OPERATOR, run_id)
    state = await execution.execution_state(db, run)
    assert state is not None
    assert (state.errored, state.pending, state.status.value) == (1, 0, "finished")
    assert "given up after 5 attempts" in (state.errors[0].error or "")
    assert run.status is test_runs.TestRunStatus.COMPLETED
