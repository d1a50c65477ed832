"""Change notifications leave with the commit: subscribers hear of a change only once it is
committed, and never of a write that was rolled back."""

import asyncio

import pytest

from app.db.engine import Database
from app.domain import datasets, live, projects, results, test_cases, test_runs
from app.domain.datasets import NewDataset, TestCaseType
from app.domain.errors import InvalidInput
from app.domain.keys import OPERATOR
from app.domain.results import NewResult
from app.domain.test_runs import NewTestRun, TestRun


async def two_runs(db: Database) -> tuple[TestRun, TestRun, str]:
    project = await projects.create_project(db, "Live")
    dataset = await datasets.create_dataset(
        db, OPERATOR, project.id, NewDataset("cases", TestCaseType.COMPLETION)
    )
    added = await test_cases.add_test_cases(
        db, OPERATOR, project.id, dataset.id, [{"inputs": {"i": 1}}]
    )
    first = await test_runs.create_test_run(db, OPERATOR, project.id, NewTestRun("cases"))
    second = await test_runs.create_test_run(db, OPERATOR, project.id, NewTestRun("cases"))
    return first, second, added.case_ids[0]


async def heard(event: asyncio.Event) -> bool:
    async with asyncio.timeout(10):
        await event.wait()
    return True


async def test_a_change_is_told_after_its_commit_and_a_rolled_back_one_never(
    db: Database,
) -> None:
    first, second, case_id = await two_runs(db)
    async with (
        db.notifier.subscribe(f"test_run:{first.id}", "me") as watching_first,
        db.notifier.subscribe(f"test_run:{second.id}", "me") as watching_second,
    ):
        with pytest.raises(InvalidInput):  # not a case of the run: nothing is written
            await results.record_result(db, OPERATOR, first.id, NewResult("no-such-case"))
        async with db.write() as conn:
            live.run_changed(conn, second.id)
            await asyncio.sleep(0)
            assert not watching_second.changed.is_set()  # not before the commit
        await results.record_result(db, OPERATOR, second.id, NewResult(case_id))

        # Notifications arrive in commit order: once the second run's has come, the first
        # run's would have come before it.
        assert await heard(watching_second.changed)
        assert not watching_first.changed.is_set()

        await results.complete_run(db, OPERATOR, first.id)
        assert await heard(watching_first.changed)


async def test_a_subscriber_hears_of_a_change_made_through_another_database_object(
    db: Database,
) -> None:
    """Within one process on SQLite, across processes on PostgreSQL: here, two engines."""
    first, _, case_id = await two_runs(db)
    other = Database(db.settings)
    try:
        async with db.notifier.subscribe(f"test_run:{first.id}", "me") as watching:
            await results.record_result(other, OPERATOR, first.id, NewResult(case_id))
            assert await heard(watching.changed)
    finally:
        await other.dispose()
