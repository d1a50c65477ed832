"""Test runs the server executes: the task queue in the database.

Starting an execution writes one task per case and repetition, in the transaction that
creates the run. Workers (``testruns worker``, or the one embedded in ``testruns serve``)
claim tasks under a lease: on PostgreSQL with ``FOR UPDATE SKIP LOCKED``, on SQLite in one
write transaction, which SQLite serialises. A worker renews the leases of the tasks it is
working on; a task whose lease expired (its worker died) is claimed again by another.

Every transaction that changes a run's tasks locks the run's row first (as writers of
results do), then tasks, then the execution, so they never deadlock. A task is finished in
one transaction that records its result and marks it done, and only while its lease is still
the worker's, so a task taken over by another worker is recorded
once; the results table's uniqueness on (run, case, repetition) backs that up. No more than
the run's ``concurrency`` tasks are leased at once, across every worker.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.engine import Database
from app.db.tables import TestRun as TestRunRow
from app.db.tables import TestRunExecution, TestRunTask
from app.domain.datasets import TestCaseType, read_cases
from app.domain.errors import InvalidInput
from app.domain.ids import utcnow
from app.domain.jsontext import dumps, loads, loads_or_none
from app.domain.keys import OPERATOR, Principal
from app.domain.prompt_rendering import MissingVariables
from app.domain.prompt_templates import TemplateVersion, template_version
from app.domain.result_recording import LockedRun, lock_run
from app.domain.test_runs import TestRun, TestRunStatus

MAX_REPETITIONS = 100
MAX_CONCURRENCY = 256
# A task whose worker died this many times in a row is given up as errored.
MAX_TAKEOVERS = 5


class ExecutionStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class TaskStatus(StrEnum):
    PENDING = "pending"
    LEASED = "leased"
    COMPLETED = "completed"
    ERRORED = "errored"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Execute:
    """How the server should run a new test run: which prompt version, how often, how wide."""

    prompt_template_version_id: str
    repetitions: int = 1
    concurrency: int = 4

    def check(self) -> None:
        where = ("execute",)
        if not isinstance(self.repetitions, int) or not 1 <= self.repetitions <= MAX_REPETITIONS:
            raise InvalidInput.at(
                (*where, "repetitions"), f"repetitions must be from 1 to {MAX_REPETITIONS}"
            )
        if not isinstance(self.concurrency, int) or not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise InvalidInput.at(
                (*where, "concurrency"), f"concurrency must be from 1 to {MAX_CONCURRENCY}"
            )


@dataclass(frozen=True)
class Claim:
    """A task a worker holds under lease."""

    test_run_id: str
    test_case_id: str
    repetition: int
    position: int
    attempts: int

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.test_run_id, self.test_case_id, self.repetition)


@dataclass(frozen=True)
class TaskError:
    test_case_id: str
    repetition: int
    error: str | None
    evaluation_errors: dict[str, str] | None


@dataclass(frozen=True)
class ExecutionState:
    """What an execution has done: counts of its tasks by outcome, and the errors."""

    prompt_template_version_id: str
    repetitions: int
    concurrency: int
    status: ExecutionStatus
    completed: int
    errored: int
    pending: int
    cancelled: int
    evaluation_errors: int
    errors: list[TaskError] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.completed + self.errored + self.pending + self.cancelled

    def as_dict(self) -> dict[str, Any]:
        return {
            "prompt_template_version_id": self.prompt_template_version_id,
            "repetitions": self.repetitions,
            "concurrency": self.concurrency,
            "status": self.status.value,
            "total": self.total,
            "completed": self.completed,
            "errored": self.errored,
            "pending": self.pending,
            "cancelled": self.cancelled,
            "evaluation_errors": self.evaluation_errors,
            "errors": [
                {
                    "test_case_id": e.test_case_id,
                    "repetition": e.repetition,
                    "error": e.error,
                    "evaluation_errors": e.evaluation_errors,
                }
                for e in self.errors
            ],
        }


# ---- starting ----------------------------------------------------------------------------


async def start_execution(
    conn: AsyncConnection, run: TestRun, execute: Execute, case_ids: Sequence[tuple[str, int]]
) -> None:
    """Queue every case (id, position) of a new run ``execute.repetitions`` times; inside
    the transaction that creates the run."""
    now = utcnow()
    await conn.execute(
        TestRunExecution.__table__.insert().values(
            test_run_id=run.id,
            prompt_template_version_id=execute.prompt_template_version_id,
            repetitions=execute.repetitions,
            concurrency=execute.concurrency,
            status=ExecutionStatus.RUNNING.value,
            created_at=now,
        )
    )
    rows = [
        {
            "test_run_id": run.id,
            "test_case_id": case_id,
            "repetition": repetition,
            "position": position,
            "status": TaskStatus.PENDING.value,
            "attempts": 0,
            "updated_at": now,
        }
        for repetition in range(execute.repetitions)
        for case_id, position in case_ids
    ]
    for start in range(0, len(rows), 5_000):
        await conn.execute(TestRunTask.__table__.insert(), rows[start : start + 5_000])
    await conn.execute(
        update(TestRunRow).where(TestRunRow.id == run.id).values(status=TestRunStatus.RUNNING.value)
    )


# ---- claiming ----------------------------------------------------------------------------


def _claimable(now: datetime) -> Any:
    return or_(
        TestRunTask.status == TaskStatus.PENDING.value,
        and_(TestRunTask.status == TaskStatus.LEASED.value, TestRunTask.lease_expires_at < now),
    )


async def claim_tasks(
    db: Database,
    owner: str,
    limit: int,
    lease_seconds: float,
    run_ids: Sequence[str] | None = None,
) -> list[Claim]:
    """Lease up to ``limit`` tasks to ``owner``, oldest run first (of ``run_ids`` only, when
    given), within each run's concurrency."""
    if limit <= 0:
        return []
    running = [TestRunExecution.status == ExecutionStatus.RUNNING.value]
    if run_ids is not None:
        running.append(TestRunExecution.test_run_id.in_(list(run_ids)))
    async with db.read() as conn:  # most polls find nothing: no write lock for those
        active = await conn.scalar(select(TestRunExecution.test_run_id).where(*running).limit(1))
    if active is None:
        return []
    now = utcnow()
    expires = now + timedelta(seconds=lease_seconds)
    postgres = not db.is_sqlite
    claims: list[Claim] = []
    async with db.write() as conn:
        runs = (
            await conn.execute(
                select(TestRunExecution.test_run_id, TestRunExecution.concurrency)
                .where(*running)
                .order_by(TestRunExecution.created_at, TestRunExecution.test_run_id)
            )
        ).all()
        for run_id, concurrency in runs:
            if len(claims) >= limit:
                break
            # Claims of one run queue on the run's row, which every writer of its results
            # locks first too (one lock order: run, tasks, execution), so its concurrency is
            # counted exactly.
            await lock_run(conn, OPERATOR, run_id)
            still = await conn.scalar(
                select(TestRunExecution.status).where(TestRunExecution.test_run_id == run_id)
            )
            if still != ExecutionStatus.RUNNING.value:
                continue
            leased = await conn.scalar(
                select(func.count())
                .select_from(TestRunTask)
                .where(
                    TestRunTask.test_run_id == run_id,
                    TestRunTask.status == TaskStatus.LEASED.value,
                    TestRunTask.lease_expires_at >= now,
                )
            )
            room = min(concurrency - (leased or 0), limit - len(claims))
            if room <= 0:
                continue
            query = (
                select(
                    TestRunTask.test_case_id,
                    TestRunTask.repetition,
                    TestRunTask.position,
                    TestRunTask.attempts,
                )
                .where(TestRunTask.test_run_id == run_id, _claimable(now))
                .order_by(TestRunTask.repetition, TestRunTask.position)
                .limit(room)
            )
            if postgres:
                query = query.with_for_update(skip_locked=True)
            given_up = False
            for case_id, repetition, position, attempts in (await conn.execute(query)).all():
                where = (
                    TestRunTask.test_run_id == run_id,
                    TestRunTask.test_case_id == case_id,
                    TestRunTask.repetition == repetition,
                )
                if attempts >= MAX_TAKEOVERS:
                    given_up = True
                    await conn.execute(
                        update(TestRunTask)
                        .where(*where)
                        .values(
                            status=TaskStatus.ERRORED.value,
                            lease_owner=None,
                            error=f"given up after {attempts} attempts whose worker stopped",
                            updated_at=now,
                        )
                    )
                    continue
                await conn.execute(
                    update(TestRunTask)
                    .where(*where)
                    .values(
                        status=TaskStatus.LEASED.value,
                        lease_owner=owner,
                        lease_expires_at=expires,
                        attempts=attempts + 1,
                        updated_at=now,
                    )
                )
                claims.append(Claim(run_id, case_id, repetition, position, attempts + 1))
            if given_up:
                await _settle(conn, run_id, now)
    return claims


async def renew_leases(
    db: Database, owner: str, claims: Sequence[Claim], lease_seconds: float
) -> set[tuple[str, str, int]]:
    """Extend the leases ``owner`` still holds; the keys of those it no longer holds
    (cancelled, or taken over after expiring)."""
    if not claims:
        return set()
    now = utcnow()
    lost = set()
    async with db.write() as conn:
        for claim in claims:
            renewed = await conn.execute(
                update(TestRunTask)
                .where(
                    TestRunTask.test_run_id == claim.test_run_id,
                    TestRunTask.test_case_id == claim.test_case_id,
                    TestRunTask.repetition == claim.repetition,
                    TestRunTask.status == TaskStatus.LEASED.value,
                    TestRunTask.lease_owner == owner,
                )
                .values(lease_expires_at=now + timedelta(seconds=lease_seconds))
            )
            if renewed.rowcount == 0:
                lost.add(claim.key)
    return lost


# ---- finishing ---------------------------------------------------------------------------


async def hold_task(conn: AsyncConnection, owner: str, claim: Claim) -> LockedRun | None:
    """In a write transaction: the task's run, locked, when ``owner`` still holds the task's
    lease (then it may record it); None when it does not."""
    run = await lock_run(conn, OPERATOR, claim.test_run_id)
    owned = await conn.scalar(
        select(TestRunTask.attempts).where(
            TestRunTask.test_run_id == claim.test_run_id,
            TestRunTask.test_case_id == claim.test_case_id,
            TestRunTask.repetition == claim.repetition,
            TestRunTask.status == TaskStatus.LEASED.value,
            TestRunTask.lease_owner == owner,
        )
    )
    return None if owned is None else run


async def close_task(
    conn: AsyncConnection,
    claim: Claim,
    *,
    error: str | None = None,
    evaluation_errors: Mapping[str, str] | None = None,
) -> None:
    """Mark a held task done (completed, or errored with ``error``) and settle its run."""
    now = utcnow()
    await conn.execute(
        update(TestRunTask)
        .where(
            TestRunTask.test_run_id == claim.test_run_id,
            TestRunTask.test_case_id == claim.test_case_id,
            TestRunTask.repetition == claim.repetition,
        )
        .values(
            status=(TaskStatus.ERRORED if error else TaskStatus.COMPLETED).value,
            lease_owner=None,
            lease_expires_at=None,
            error=error,
            evaluation_errors=dumps(dict(evaluation_errors)) if evaluation_errors else None,
            updated_at=now,
        )
    )
    await _settle(conn, claim.test_run_id, now)


async def _settle(conn: AsyncConnection, run_id: str, now: datetime) -> None:
    """Finish the execution and complete its run once no task is left to do; keep the run
    running until then (a client-recorded run completes when every case has a result)."""
    left = await conn.scalar(
        select(func.count())
        .select_from(TestRunTask)
        .where(
            TestRunTask.test_run_id == run_id,
            TestRunTask.status.in_((TaskStatus.PENDING.value, TaskStatus.LEASED.value)),
        )
    )
    if left:
        await conn.execute(
            update(TestRunRow)
            .where(TestRunRow.id == run_id, TestRunRow.status != TestRunStatus.RUNNING.value)
            .values(status=TestRunStatus.RUNNING.value, completed_at=None)
        )
        return
    await conn.execute(
        update(TestRunExecution)
        .where(
            TestRunExecution.test_run_id == run_id,
            TestRunExecution.status == ExecutionStatus.RUNNING.value,
        )
        .values(status=ExecutionStatus.FINISHED.value, finished_at=now)
    )
    await conn.execute(
        update(TestRunRow)
        .where(TestRunRow.id == run_id, TestRunRow.status != TestRunStatus.COMPLETED.value)
        .values(status=TestRunStatus.COMPLETED.value, completed_at=now)
    )


# ---- cancelling and reading --------------------------------------------------------------


async def cancel_execution(
    db: Database, principal: Principal, run_id: str, project_id: str | None = None
) -> None:
    """Stop an executed run: tasks not done are cancelled (a worker drops its answer), the
    execution is marked cancelled and the run completed with the results it has."""
    async with db.write() as conn:
        run = await lock_run(conn, principal, run_id, project_id)
        status = await conn.scalar(
            select(TestRunExecution.status).where(TestRunExecution.test_run_id == run.id)
        )
        if status is None:
            raise InvalidInput.at(
                ("test_run_id",), f"test run {run.id} is not executed by the server"
            )
        if status != ExecutionStatus.RUNNING.value:
            return
        now = utcnow()
        await conn.execute(
            update(TestRunTask)
            .where(
                TestRunTask.test_run_id == run.id,
                TestRunTask.status.in_((TaskStatus.PENDING.value, TaskStatus.LEASED.value)),
            )
            .values(
                status=TaskStatus.CANCELLED.value,
                lease_owner=None,
                lease_expires_at=None,
                updated_at=now,
            )
        )
        await conn.execute(
            update(TestRunExecution)
            .where(TestRunExecution.test_run_id == run.id)
            .values(status=ExecutionStatus.CANCELLED.value, finished_at=now)
        )
        await conn.execute(
            update(TestRunRow)
            .where(TestRunRow.id == run.id)
            .values(status=TestRunStatus.COMPLETED.value, completed_at=now)
        )


async def execution_state(
    db: Database, run: TestRun, *, errors: int | None = 100
) -> ExecutionState | None:
    """The execution of ``run`` (None when its results are recorded by a client), with up
    to ``errors`` of its errored tasks (all of them with None)."""
    async with db.read() as conn:
        execution = (
            await conn.execute(
                select(TestRunExecution).where(TestRunExecution.test_run_id == run.id)
            )
        ).first()
        if execution is None:
            return None
        counts = dict(
            (
                await conn.execute(
                    select(TestRunTask.status, func.count())
                    .where(TestRunTask.test_run_id == run.id)
                    .group_by(TestRunTask.status)
                )
            ).all()
        )
        judged = await conn.scalar(
            select(func.count())
            .select_from(TestRunTask)
            .where(TestRunTask.test_run_id == run.id, TestRunTask.evaluation_errors.is_not(None))
        )
        failed = (
            await conn.execute(
                select(
                    TestRunTask.test_case_id,
                    TestRunTask.repetition,
                    TestRunTask.error,
                    TestRunTask.evaluation_errors,
                )
                .where(
                    TestRunTask.test_run_id == run.id,
                    or_(TestRunTask.error.is_not(None), TestRunTask.evaluation_errors.is_not(None)),
                )
                .order_by(TestRunTask.position, TestRunTask.repetition)
                .limit(errors)
            )
        ).all()
    return ExecutionState(
        prompt_template_version_id=execution.prompt_template_version_id,
        repetitions=execution.repetitions,
        concurrency=execution.concurrency,
        status=ExecutionStatus(execution.status),
        completed=counts.get(TaskStatus.COMPLETED.value, 0),
        errored=counts.get(TaskStatus.ERRORED.value, 0),
        pending=counts.get(TaskStatus.PENDING.value, 0) + counts.get(TaskStatus.LEASED.value, 0),
        cancelled=counts.get(TaskStatus.CANCELLED.value, 0),
        evaluation_errors=judged or 0,
        errors=[
            TaskError(f.test_case_id, f.repetition, f.error, loads_or_none(f.evaluation_errors))
            for f in failed
        ],
    )


async def release_tasks(db: Database, owner: str, claims: Sequence[Claim]) -> None:
    """Hand back tasks ``owner`` holds but will not finish (it is stopping)."""
    async with db.write() as conn:
        for claim in claims:
            await conn.execute(
                update(TestRunTask)
                .where(
                    TestRunTask.test_run_id == claim.test_run_id,
                    TestRunTask.test_case_id == claim.test_case_id,
                    TestRunTask.repetition == claim.repetition,
                    TestRunTask.status == TaskStatus.LEASED.value,
                    TestRunTask.lease_owner == owner,
                )
                .values(
                    status=TaskStatus.PENDING.value,
                    lease_owner=None,
                    lease_expires_at=None,
                    attempts=TestRunTask.attempts - 1,
                    updated_at=utcnow(),
                )
            )


# ---- checking a new execution ------------------------------------------------------------


async def version_of_project(
    conn: AsyncConnection, project_id: str, version_id: str
) -> TemplateVersion:
    version = await template_version(conn, version_id)
    if version is None or version.project_id != project_id:
        raise InvalidInput.at(
            ("execute", "prompt_template_version_id"),
            f"no prompt template version {version_id} in this project",
        )
    return version


async def prepare_execution(
    conn: AsyncConnection, run: TestRun, execute: Execute
) -> list[tuple[str, int]]:
    """Check that the server can run every case of a new run: the prompt version is the
    project's and renders with each case's variables and history. The cases (id, position)
    in order; InvalidInput (``missing_variables`` naming them and the first case lacking
    them) before anything is queued or called."""
    execute.check()
    if run.test_case_type is not TestCaseType.COMPLETION:
        raise InvalidInput.at(
            ("execute",), "only datasets of completion cases can be run by the server"
        )
    version = await version_of_project(conn, run.project_id, execute.prompt_template_version_id)
    cases: list[tuple[str, int]] = []
    after = None
    while True:
        page = await read_cases(
            conn,
            run.dataset_id,
            run.dataset_version,
            subset_of=run.subset_of,
            after_position=after,
            limit=1_000,
        )
        for case in page:
            inputs = loads(case.inputs)
            try:
                version.render(
                    inputs if isinstance(inputs, dict) else {}, loads_or_none(case.history)
                )
            except MissingVariables as error:
                error.message = f"test case {case.id}: {error.message}"
                raise
            except InvalidInput as error:
                raise InvalidInput.at(
                    ("execute",), f"test case {case.id} cannot be rendered: {error.message}"
                ) from None
            cases.append((case.id, case.position))
        if len(page) < 1_000:
            return cases
        after = page[-1].position


async def running_executions(db: Database, run_ids: Sequence[str] | None = None) -> int:
    """How many executions (of these runs, when given) still have work."""
    query = (
        select(func.count())
        .select_from(TestRunExecution)
        .where(TestRunExecution.status == ExecutionStatus.RUNNING.value)
    )
    if run_ids is not None:
        query = query.where(TestRunExecution.test_run_id.in_(list(run_ids)))
    async with db.read() as conn:
        return await conn.scalar(query) or 0
