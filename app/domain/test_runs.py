"""Test runs: a named pass over a pinned dataset version.

Creating a run writes one row (plus its target evaluations) whatever the dataset's size;
its test cases are read from the dataset at the pinned version.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Row, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.engine import Database
from app.db.tables import Dataset as DatasetRow
from app.db.tables import Flavor as FlavorRow
from app.db.tables import TestRun as TestRunRow
from app.db.tables import TestRunEvaluation
from app.domain.datasets import (
    StoredTestCase,
    TestCaseType,
    dataset_named,
    read_cases,
    version_page,
)
from app.domain.errors import InvalidInput, NotFound
from app.domain.evaluations import flavor_id_named, resolve_evaluation_ids
from app.domain.ids import canonical_id, new_id, utcnow
from app.domain.keys import Principal
from app.domain.pagination import Page, split_page
from app.domain.projects import visible_project_id


class TestRunStatus(StrEnum):
    CREATED = "created"
    RUNNING = "running"
    COMPLETED = "completed"


@dataclass(frozen=True)
class NewTestRun:
    dataset_name: str
    include_outputs: bool = False
    name: str | None = None
    description: str | None = None
    flavor_name: str | None = None
    target_evaluation_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class TestRun:
    id: str
    project_id: str
    dataset_id: str
    dataset_name: str
    dataset_version: int
    test_case_type: TestCaseType
    name: str
    description: str
    status: TestRunStatus
    flavor_name: str | None
    include_outputs: bool
    case_count: int
    target_evaluation_ids: tuple[str, ...]
    created_at: datetime


def default_run_name(dataset_name: str, created_at: datetime) -> str:
    return f"{dataset_name} {created_at:%Y-%m-%d %H:%M:%S}"


async def create_test_run(
    db: Database, principal: Principal, project_id: str, new: NewTestRun
) -> TestRun:
    if new.name is not None and len(new.name) > 400:
        raise InvalidInput.at(("test_run_name",), "test_run_name is at most 400 characters")
    now = utcnow()
    run_id = new_id()
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        dataset = await dataset_named(conn, principal, pid, new.dataset_name)
        flavor_id = (
            None if new.flavor_name is None else await flavor_id_named(conn, pid, new.flavor_name)
        )
        evaluation_ids = await resolve_evaluation_ids(
            conn, pid, list(new.target_evaluation_ids), "target_evaluation_ids"
        )
        await conn.execute(
            TestRunRow.__table__.insert().values(
                id=run_id,
                project_id=pid,
                dataset_id=dataset.id,
                dataset_version=dataset.version,
                name=new.name or default_run_name(dataset.name, now),
                description=new.description or "",
                flavor_id=flavor_id,
                include_outputs=new.include_outputs,
                status=TestRunStatus.CREATED.value,
                case_count=dataset.case_count,
                created_at=now,
            )
        )
        if evaluation_ids:
            await conn.execute(
                TestRunEvaluation.__table__.insert(),
                [{"test_run_id": run_id, "evaluation_id": e} for e in evaluation_ids],
            )
        return await _load_run(conn, run_id)


def _select_runs() -> Select[Any]:
    return (
        select(
            TestRunRow.id,
            TestRunRow.project_id,
            TestRunRow.dataset_id,
            DatasetRow.name.label("dataset_name"),
            DatasetRow.test_case_type,
            TestRunRow.dataset_version,
            TestRunRow.name,
            TestRunRow.description,
            TestRunRow.status,
            FlavorRow.name.label("flavor_name"),
            TestRunRow.include_outputs,
            TestRunRow.case_count,
            TestRunRow.created_at,
        )
        .join(DatasetRow, DatasetRow.id == TestRunRow.dataset_id)
        .outerjoin(FlavorRow, FlavorRow.id == TestRunRow.flavor_id)
    )


def _run(row: Row[Any], evaluation_ids: tuple[str, ...]) -> TestRun:
    return TestRun(
        id=row.id,
        project_id=row.project_id,
        dataset_id=row.dataset_id,
        dataset_name=row.dataset_name,
        dataset_version=row.dataset_version,
        test_case_type=TestCaseType(row.test_case_type),
        name=row.name,
        description=row.description,
        status=TestRunStatus(row.status),
        flavor_name=row.flavor_name,
        include_outputs=row.include_outputs,
        case_count=row.case_count,
        target_evaluation_ids=evaluation_ids,
        created_at=row.created_at,
    )


async def _runs(conn: AsyncConnection, query: Select[Any]) -> list[TestRun]:
    rows = (await conn.execute(query)).all()
    if not rows:
        return []
    links = await conn.execute(
        select(TestRunEvaluation.test_run_id, TestRunEvaluation.evaluation_id)
        .where(TestRunEvaluation.test_run_id.in_([r.id for r in rows]))
        .order_by(TestRunEvaluation.evaluation_id)
    )
    evaluations: dict[str, list[str]] = {}
    for run_id, evaluation_id in links:
        evaluations.setdefault(run_id, []).append(evaluation_id)
    return [_run(r, tuple(evaluations.get(r.id, ()))) for r in rows]


async def _load_run(conn: AsyncConnection, run_id: str) -> TestRun:
    runs = await _runs(conn, _select_runs().where(TestRunRow.id == run_id))
    return runs[0]


async def get_test_run(
    db: Database, principal: Principal, run_id: str, project_id: str | None = None
) -> TestRun:
    """A run by id; with ``project_id`` it must also belong to that project."""
    rid = canonical_id(run_id)
    async with db.read() as conn:
        if project_id is not None:
            project_id = await visible_project_id(conn, principal, project_id)
        runs = [] if rid is None else await _runs(conn, _select_runs().where(TestRunRow.id == rid))
    run = runs[0] if runs else None
    if (
        run is None
        or not principal.can_see(run.project_id)
        or (project_id is not None and run.project_id != project_id)
    ):
        raise NotFound(f"test run {run_id} not found")
    return run


async def list_test_runs(
    db: Database,
    principal: Principal,
    project_id: str,
    *,
    after: tuple[datetime, str] | None = None,
    limit: int,
) -> Page[TestRun]:
    """The project's runs, newest first, ``limit`` of them after the (created_at, id) key."""
    async with db.read() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        query = _select_runs().where(TestRunRow.project_id == pid)
        if after is not None:
            created_at, run_id = after
            query = query.where(
                or_(
                    TestRunRow.created_at < created_at,
                    and_(TestRunRow.created_at == created_at, TestRunRow.id < run_id),
                )
            )
        query = query.order_by(TestRunRow.created_at.desc(), TestRunRow.id.desc())
        runs = await _runs(conn, query.limit(limit + 1))
        total = await conn.scalar(
            select(func.count()).select_from(TestRunRow).where(TestRunRow.project_id == pid)
        )
    return split_page(runs, limit, total or 0)


async def run_cases(db: Database, run: TestRun) -> list[StoredTestCase]:
    """All of the run's test cases (its pinned dataset version), in dataset order."""
    async with db.read() as conn:
        return await read_cases(conn, run.dataset_id, run.dataset_version)


async def run_case_page(
    db: Database, run: TestRun, *, after_position: int | None, limit: int
) -> Page[StoredTestCase]:
    return await version_page(
        db,
        run.dataset_id,
        run.dataset_version,
        run.case_count,
        after_position=after_position,
        limit=limit,
    )
