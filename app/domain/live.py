"""Live updates of test runs: what a subscription to a run sends, and when.

Whatever changes a run (a result recorded or replaced, a score, its status) calls
``run_changed`` in its write transaction; once that commits, every subscription to the run
loads it again (one read per change per process, shared by its subscribers) and sends it.
Changes closer together than ``subscription_interval_seconds`` are coalesced into one
update. A subscription ends after sending the run COMPLETED.
"""

from collections.abc import AsyncGenerator

from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.engine import Database
from app.db.notifications import notify
from app.domain import test_runs
from app.domain.keys import OPERATOR, Principal
from app.domain.test_runs import TestRun, TestRunStatus


def _topic(run_id: str) -> str:
    return f"test_run:{run_id}"


def run_changed(conn: AsyncConnection, run_id: str) -> None:
    """Call in the write transaction that changed the run: its subscribers get the run again
    once the transaction commits (never if it rolls back)."""
    notify(conn, _topic(run_id))


async def watch_test_run(
    db: Database, principal: Principal, run_id: str
) -> AsyncGenerator[TestRun, None]:
    """The run as it is now, then again after each change, ending with it COMPLETED.

    Raises NotFound (the principal may not see the run) or TooManySubscriptions here, before
    anything is sent; the updates start when the returned iterator is first read."""
    run = await test_runs.get_test_run(db, principal, run_id)
    db.notifier.check_room(principal.key_id)
    return _updates(db, principal.key_id, run.id)


async def _updates(db: Database, owner: str, run_id: str) -> AsyncGenerator[TestRun, None]:
    notifier = db.notifier
    clock = notifier.clock
    interval = db.settings.subscription_interval_seconds

    async def load() -> TestRun:
        # Whether the caller may see the run was checked when the subscription began.
        return await test_runs.get_test_run(db, OPERATOR, run_id)

    async with notifier.subscribe(_topic(run_id), owner) as subscription:
        run: TestRun = await subscription.topic.latest(load)
        while True:
            sent_at = clock.now()
            yield run
            if run.status is TestRunStatus.COMPLETED:
                return
            await subscription.changed.wait()
            wait = interval - (clock.now() - sent_at)
            if wait > 0:
                await clock.sleep(wait)  # later changes join this update
            subscription.changed.clear()
            run = await subscription.topic.latest(load)
