"""Change notifications leave with the commit: subscribers hear of a change only once it is
committed, and never of a write that was rolled back."""

import asyncio

import pytest
from sqlalchemy.engine import make_url

from app.db.engine import Database
from app.db.errors import Unavailable
from app.domain import datasets, live, projects, result_recording, test_cases, test_runs
from app.domain.datasets import NewDataset, TestCaseType
from app.domain.errors import InvalidInput
from app.domain.keys import OPERATOR
from app.domain.results import NewResult
from app.domain.test_runs import NewTestRun, TestRun
from tests.support import TcpProxy


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
            await result_recording.record_result(db, OPERATOR, first.id, NewResult("no-such-case"))
        async with db.write() as conn:
            live.run_changed(conn, second.id)
            await asyncio.sleep(0)
            assert not watching_second.changed.is_set()  # not before the commit
        await result_recording.record_result(db, OPERATOR, second.id, NewResult(case_id))

        # Notifications arrive in commit order: once the second run's has come, the first
        # run's would have come before it.
        assert await heard(watching_second.changed)
        assert not watching_first.changed.is_set()

        await result_recording.complete_run(db, OPERATOR, first.id)
        assert await heard(watching_first.changed)


async def test_a_subscriber_hears_of_a_change_made_through_another_database_object(
    db: Database,
) -> None:
    """Within one process on SQLite, across processes on PostgreSQL: here, two engines."""
    first, _, case_id = await two_runs(db)
    other = Database(db.settings)
    try:
        async with db.notifier.subscribe(f"test_run:{first.id}", "me") as watching:
            await result_recording.record_result(other, OPERATOR, first.id, NewResult(case_id))
            assert await heard(watching.changed)
    finally:
        await other.dispose()


async def test_the_listening_connection_comes_back_after_the_database_went_away(
    db: Database,
) -> None:
    url = make_url(db.settings.database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("on SQLite notifications stay in the process")
    first, _, case_id = await two_runs(db)
    proxy = await TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    served = Database(
        db.settings.model_copy(update={"database_url": proxied, "notify_check_seconds": 0.2})
    )
    try:
        async with served.notifier.subscribe(f"test_run:{first.id}", "me") as watching:
            proxy.disable()  # the listening connection is cut, and reconnecting fails
            await asyncio.sleep(0.3)
            proxy.enable()
            # Back: whatever changed meanwhile may have been missed, so every subscriber
            # is told to look again...
            assert await heard(watching.changed)
            watching.changed.clear()
            # ...and notifications flow again on the new connection.
            await result_recording.record_result(db, OPERATOR, first.id, NewResult(case_id))
            assert await heard(watching.changed)
    finally:
        await served.dispose()
        await proxy.close()


async def test_subscribing_while_notifications_cannot_be_received_is_unavailable(
    db: Database,
) -> None:
    url = make_url(db.settings.database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("on SQLite notifications stay in the process")
    proxy = await TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    proxy.disable()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    served = Database(
        db.settings.model_copy(update={"database_url": proxied, "notify_check_seconds": 0.2})
    )
    try:
        with pytest.raises(Unavailable):
            async with served.notifier.subscribe("test_run:x", "me"):
                pass
        assert served.notifier.count == 0  # nothing held for the refused subscription
    finally:
        await served.dispose()
        await proxy.close()
