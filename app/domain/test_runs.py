"""Test runs: a named pass over a pinned dataset version (or a chosen subset of it).

Creating a run of a whole dataset writes one row (plus its target evaluations) whatever the
dataset's size; its test cases are read from the dataset at the pinned version.
"""

from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BindParameter,
    Row,
    Select,
    and_,
    bindparam,
    false,
    func,
    insert,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from app import metrics
from app.db.engine import Database
from app.db.tables import Dataset as DatasetRow
from app.db.tables import Flavor as FlavorRow
from app.db.tables import (
    Recording,
    ResultScore,
    TestRunCase,
    TestRunCriterion,
    TestRunEvaluation,
    TestRunResult,
)
from app.db.tables import TestCase as TestCaseRow
from app.db.tables import TestRun as TestRunRow
from app.domain import idempotency
from app.domain.criteria import resolve_target_ids
from app.domain.datasets import (
    Dataset,
    StoredTestCase,
    TestCaseType,
    dataset_named,
    version_page,
    version_pages,
    visible_at,
)
from app.domain.errors import InvalidInput, NotFound
from app.domain.evaluations import flavor_id_named
from app.domain.ids import canonical_id, new_id, utcnow
from app.domain.jsontext import dumps, loads_or_none
from app.domain.keys import Principal
from app.domain.pagination import Page, Window
from app.domain.projects import claimed_project_id, visible_project_id
from app.domain.scores import failing_score
from app.domain.text import check_text

if TYPE_CHECKING:
    from app.domain.execution import Execute

MAX_NAME = 400


class TestRunStatus(StrEnum):
    CREATED = "created"
    RUNNING = "running"
    COMPLETED = "completed"


@dataclass(frozen=True)
class FailedIn:
    """The cases that failed an evaluation in an earlier run: scored false (a boolean
    evaluation) or, with ``below``, scored under that number."""

    test_run_id: str
    evaluation: str
    below: float | None = None


@dataclass(frozen=True)
class CaseFilter:
    """Which cases of the dataset version a run takes; every criterion given must hold."""

    test_case_ids: tuple[str, ...] | None = None
    # Any JSON value a client sent: checked (a non-empty object) when the run picks its cases.
    metadata: object = None
    failed_in: FailedIn | None = None

    def as_dict(self) -> dict[str, Any]:
        described: dict[str, Any] = {}
        if self.test_case_ids is not None:
            described["test_case_ids"] = list(self.test_case_ids)
        if self.metadata is not None:
            described["metadata"] = self.metadata
        if self.failed_in is not None:
            described["failed_in"] = {
                "test_run_id": self.failed_in.test_run_id,
                "evaluation": self.failed_in.evaluation,
                "below": self.failed_in.below,
            }
        return described


@dataclass(frozen=True)
class NewTestRun:
    dataset_name: str
    include_outputs: bool = False
    name: str | None = None
    description: str | None = None
    flavor_name: str | None = None
    target_evaluation_ids: tuple[str, ...] = ()
    case_filter: CaseFilter | None = None
    # Have the server run the cases (see app.domain.execution).
    execute: "Execute | None" = None


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
    done_count: int
    target_evaluation_ids: tuple[str, ...]
    case_filter: dict[str, Any] | None
    created_at: datetime
    completed_at: datetime | None
    # Evaluation criteria named in target_evaluation_ids (which holds only evaluations).
    target_criterion_ids: tuple[str, ...] = ()

    @property
    def subset_of(self) -> str | None:
        """This run's id when it holds a chosen subset of its dataset version."""
        return None if self.case_filter is None else self.id


_INSERT_RUN = insert(TestRunRow)


def default_run_name(dataset_name: str, created_at: datetime) -> str:
    return f"{dataset_name} {created_at:%Y-%m-%d %H:%M:%S}"


async def create_test_run(
    db: Database,
    principal: Principal,
    project_id: str,
    new: NewTestRun,
    idempotency_key: str | None = None,
) -> TestRun:
    """Make a run. With an idempotency key, a repeat of the request gets the same run."""
    if new.name is not None:
        check_text(new.name, ("test_run_name",))
        if len(new.name) > MAX_NAME:
            raise InvalidInput.at(
                ("test_run_name",), f"test_run_name is at most {MAX_NAME} characters"
            )
    if new.description is not None:
        check_text(new.description, ("test_run_description",))
    now = utcnow()
    run_id = new_id()
    key = None if idempotency_key is None else idempotency.normalize_key(idempotency_key)
    async with db.write() as conn:
        pid = claimed_project_id(principal, project_id)  # dataset_named checks it exists
        if key is not None:
            request = {"project_id": pid, **asdict(new)}
            earlier = await idempotency.claim(
                conn, principal, key, request, db.settings.idempotency_ttl_seconds, db.clock()
            )
            if earlier is not None:
                return (await _runs(conn, _RUNS.where(TestRunRow.id == earlier)))[0]
        dataset = await dataset_named(conn, principal, pid, new.dataset_name)
        flavor_id = (
            None if new.flavor_name is None else await flavor_id_named(conn, pid, new.flavor_name)
        )
        evaluation_ids, criterion_ids = await resolve_target_ids(
            conn, pid, list(new.target_evaluation_ids), "target_evaluation_ids"
        )
        subset = (
            None
            if new.case_filter is None
            else await _choose_cases(conn, pid, dataset, new.case_filter)
        )
        run = TestRun(
            id=run_id,
            project_id=pid,
            dataset_id=dataset.id,
            dataset_name=dataset.name,
            dataset_version=dataset.version,
            test_case_type=dataset.test_case_type,
            name=new.name or default_run_name(dataset.name, now),
            description=new.description or "",
            status=TestRunStatus.CREATED,
            flavor_name=new.flavor_name,
            include_outputs=new.include_outputs,
            case_count=dataset.case_count if subset is None else len(subset),
            done_count=0,
            target_evaluation_ids=tuple(sorted(evaluation_ids)),
            case_filter=None if new.case_filter is None else new.case_filter.as_dict(),
            created_at=now,
            completed_at=None,
            target_criterion_ids=tuple(sorted(criterion_ids)),
        )
        await conn.execute(
            _INSERT_RUN,
            {
                "id": run.id,
                "project_id": pid,
                "dataset_id": dataset.id,
                "dataset_version": run.dataset_version,
                "name": run.name,
                "description": run.description,
                "flavor_id": flavor_id,
                "include_outputs": run.include_outputs,
                "status": run.status.value,
                "case_count": run.case_count,
                "done_count": 0,
                "case_filter": None if run.case_filter is None else dumps(run.case_filter),
                "created_at": now,
            },
        )
        if evaluation_ids:
            await conn.execute(
                TestRunEvaluation.__table__.insert(),
                [{"test_run_id": run_id, "evaluation_id": e} for e in evaluation_ids],
            )
        if criterion_ids:
            await conn.execute(
                TestRunCriterion.__table__.insert(),
                [{"test_run_id": run_id, "criterion_id": c} for c in criterion_ids],
            )
        if subset:
            await conn.execute(
                TestRunCase.__table__.insert(),
                [{"test_run_id": run_id, "test_case_id": case_id} for case_id in subset],
            )
        if new.execute is not None:
            from app.domain import execution  # it builds on this module

            cases = await execution.prepare_execution(conn, run, new.execute)
            await execution.start_execution(conn, run, new.execute, cases)
            run = replace(run, status=TestRunStatus.RUNNING)
        if key is not None:
            await idempotency.remember(conn, principal, key, run_id)
    metrics.test_run_created()  # committed; a repeat answered by its idempotency key is not
    return run


async def _choose_cases(
    conn: AsyncConnection, project_id: str, dataset: Dataset, chosen: CaseFilter
) -> list[str]:
    """The ids, in dataset order, of the version's cases that the filter picks."""
    where = ("test_case_filter",)
    visible = (TestCaseRow.dataset_id == dataset.id, visible_at(dataset.version))
    if chosen.metadata is None:
        ids = list(
            await conn.scalars(
                select(TestCaseRow.id).where(*visible).order_by(TestCaseRow.position)
            )
        )
    else:
        if not isinstance(chosen.metadata, dict) or not chosen.metadata:
            raise InvalidInput.at((*where, "metadata"), "metadata must be a non-empty object")
        rows = await conn.execute(
            select(TestCaseRow.id, TestCaseRow.metadata_)
            .where(*visible)
            .order_by(TestCaseRow.position)
        )
        ids = []
        for case_id, text in rows:
            metadata = loads_or_none(text) or {}
            if all(metadata.get(key) == value for key, value in chosen.metadata.items()):
                ids.append(case_id)
    if chosen.test_case_ids is not None:
        wanted = []
        for index, value in enumerate(chosen.test_case_ids):
            cid = canonical_id(value)
            if cid is None:
                raise InvalidInput.at((*where, "test_case_ids", index), f"{value!r} is not a uuid")
            wanted.append(cid)
        present = set(
            await conn.scalars(select(TestCaseRow.id).where(*visible, TestCaseRow.id.in_(wanted)))
        )
        missing = [w for w in wanted if w not in present]
        if missing:
            raise InvalidInput.at(
                (*where, "test_case_ids"),
                f"not cases of dataset {dataset.name!r} (version {dataset.version}): "
                + ", ".join(missing),
            )
        keep = set(wanted)
        ids = [i for i in ids if i in keep]
    if chosen.failed_in is not None:
        failed = await _failed_cases(conn, project_id, dataset, chosen.failed_in)
        ids = [i for i in ids if i in failed]
    if not ids:
        raise InvalidInput.at(where, "the filter picks none of the dataset's test cases")
    return ids


async def _failed_cases(
    conn: AsyncConnection, project_id: str, dataset: Dataset, failed_in: FailedIn
) -> set[str]:
    where = ("test_case_filter", "failed_in")
    rid = canonical_id(failed_in.test_run_id)
    earlier = None
    if rid is not None:
        earlier = (
            await conn.execute(
                select(TestRunRow.dataset_id).where(
                    TestRunRow.id == rid, TestRunRow.project_id == project_id
                )
            )
        ).first()
    if rid is None or earlier is None:
        raise InvalidInput.at(
            (*where, "test_run_id"), f"no test run {failed_in.test_run_id} in this project"
        )
    if earlier.dataset_id != dataset.id:
        raise InvalidInput.at(
            (*where, "test_run_id"), f"test run {rid} was not made from dataset {dataset.name!r}"
        )
    condition = failing_score(
        conn,
        failed_in.evaluation,
        passed=False if failed_in.below is None else None,
        below=failed_in.below,
    )
    return set(
        await conn.scalars(
            select(TestRunResult.test_case_id)
            .join(ResultScore, ResultScore.result_id == TestRunResult.id)
            .where(TestRunResult.test_run_id == rid, condition)
        )
    )


def _select_runs() -> Select[*tuple[Any, ...]]:
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
            TestRunRow.done_count,
            TestRunRow.case_filter,
            TestRunRow.created_at,
            TestRunRow.completed_at,
        )
        .join(DatasetRow, DatasetRow.id == TestRunRow.dataset_id)
        .outerjoin(FlavorRow, FlavorRow.id == TestRunRow.flavor_id)
    )


# Built once per process: a request binds its values and SQLAlchemy reuses the compiled form.
_RUNS = _select_runs()
_PROJECT_RUNS = (
    _RUNS.where(TestRunRow.project_id == bindparam("project_id"))
    .order_by(TestRunRow.created_at.desc(), TestRunRow.id.desc())
    .offset(bindparam("offset"))
    .limit(bindparam("limit"))
)
_COUNT_PROJECT_RUNS = (
    select(func.count())
    .select_from(TestRunRow)
    .where(TestRunRow.project_id == bindparam("project_id"))
)
_RUN_IDS: BindParameter[str] = bindparam("ids", expanding=True)
# Each run's target evaluations and criteria, in one statement: (run id, target id, is a
# criterion), in target id order.
_RUN_TARGETS = (
    select(
        TestRunEvaluation.test_run_id,
        TestRunEvaluation.evaluation_id.label("target_id"),
        false().label("is_criterion"),
    )
    .where(TestRunEvaluation.test_run_id.in_(_RUN_IDS))
    .union_all(
        select(
            TestRunCriterion.test_run_id,
            TestRunCriterion.criterion_id,
            true().label("is_criterion"),
        ).where(TestRunCriterion.test_run_id.in_(_RUN_IDS))
    )
    .order_by("target_id")
)


def _run(
    row: Row[*tuple[Any, ...]], evaluation_ids: tuple[str, ...], criterion_ids: tuple[str, ...] = ()
) -> TestRun:
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
        done_count=row.done_count,
        target_evaluation_ids=evaluation_ids,
        case_filter=loads_or_none(row.case_filter),
        created_at=row.created_at,
        completed_at=row.completed_at,
        target_criterion_ids=criterion_ids,
    )


async def _runs(
    conn: AsyncConnection, query: Select[*tuple[Any, ...]], values: dict[str, Any] | None = None
) -> list[TestRun]:
    rows = (await conn.execute(query, values)).all()
    if not rows:
        return []
    evaluations: dict[str, list[str]] = {}
    criteria: dict[str, list[str]] = {}
    for run_id, target_id, is_criterion in await conn.execute(
        _RUN_TARGETS, {"ids": [r.id for r in rows]}
    ):
        (criteria if is_criterion else evaluations).setdefault(run_id, []).append(target_id)
    return [_run(r, tuple(evaluations.get(r.id, ())), tuple(criteria.get(r.id, ()))) for r in rows]


async def runs_by_id(conn: AsyncConnection, ids: list[str]) -> dict[str, TestRun]:
    return {r.id: r for r in await _runs(conn, _RUNS.where(TestRunRow.id.in_(ids)))}


async def get_test_run(
    db: Database, principal: Principal, run_id: str, project_id: str | None = None
) -> TestRun:
    """A run by id; with ``project_id`` it must also belong to that project."""
    rid = canonical_id(run_id)
    async with db.read() as conn:
        if project_id is not None:
            project_id = await visible_project_id(conn, principal, project_id)
        runs = [] if rid is None else await _runs(conn, _RUNS.where(TestRunRow.id == rid))
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
    window: Window[tuple[datetime, str]],
    offset: int = 0,
    dataset_id: str | None = None,
    status: TestRunStatus | None = None,
) -> Page[TestRun]:
    """The project's runs, newest first: a keyset ``window`` of (created_at, id) keys or from
    ``offset`` (numbered pages); only of one dataset or in one status when asked."""
    async with db.read() as conn:
        return await _list_test_runs(
            conn,
            principal,
            project_id,
            window=window,
            offset=offset,
            dataset_id=dataset_id,
            status=status,
        )


async def list_test_runs_with_details(
    db: Database,
    principal: Principal,
    project_id: str,
    *,
    window: Window[tuple[datetime, str]],
    offset: int = 0,
    dataset_id: str | None = None,
    status: TestRunStatus | None = None,
) -> tuple[Page[TestRun], dict[str, "RunDetails"]]:
    """``list_test_runs`` and the ``run_details`` of its runs, in one transaction."""
    async with db.read() as conn:
        found = await _list_test_runs(
            conn,
            principal,
            project_id,
            window=window,
            offset=offset,
            dataset_id=dataset_id,
            status=status,
        )
        return found, await _run_details(conn, [r.id for r in found.items])


async def _list_test_runs(
    conn: AsyncConnection,
    principal: Principal,
    project_id: str,
    *,
    window: Window[tuple[datetime, str]],
    offset: int,
    dataset_id: str | None,
    status: TestRunStatus | None,
) -> Page[TestRun]:
    if (
        dataset_id is None
        and status is None
        and window.after is None
        and window.before is None
        and not window.backward
    ):
        # The common first page, on statements built once; a run of the project proves the
        # project is there, so only an empty page asks whether it exists.
        pid = claimed_project_id(principal, project_id)
        values = {"project_id": pid, "offset": offset, "limit": window.limit + 1}
        runs = await _runs(conn, _PROJECT_RUNS, values)
        if not runs:
            await visible_project_id(conn, principal, project_id)
        total = await conn.scalar(_COUNT_PROJECT_RUNS, {"project_id": pid})
        return window.page(runs, total or 0)
    pid = await visible_project_id(conn, principal, project_id)
    conditions = [TestRunRow.project_id == pid]
    if dataset_id is not None:
        did = canonical_id(dataset_id)  # not a uuid: no dataset, so no runs
        conditions.append(false() if did is None else TestRunRow.dataset_id == did)
    if status is not None:
        conditions.append(TestRunRow.status == status.value)
    query = _RUNS.where(*conditions)
    if window.after is not None:
        created_at, run_id = window.after
        query = query.where(
            or_(
                TestRunRow.created_at < created_at,
                and_(TestRunRow.created_at == created_at, TestRunRow.id < run_id),
            )
        )
    if window.before is not None:
        created_at, run_id = window.before
        query = query.where(
            or_(
                TestRunRow.created_at > created_at,
                and_(TestRunRow.created_at == created_at, TestRunRow.id > run_id),
            )
        )
    order = (
        (TestRunRow.created_at, TestRunRow.id)
        if window.backward
        else (TestRunRow.created_at.desc(), TestRunRow.id.desc())
    )
    runs = await _runs(conn, query.order_by(*order).offset(offset).limit(window.limit + 1))
    total = await conn.scalar(select(func.count()).select_from(TestRunRow).where(*conditions))
    return window.page(runs, total or 0)


def run_case_pages(
    db: Database, run: TestRun, page_size: int
) -> AsyncIterator[list[StoredTestCase]]:
    """All of the run's test cases in dataset order, a page at a time."""
    return version_pages(
        db, run.dataset_id, run.dataset_version, page_size, subset_of=run.subset_of
    )


async def run_case_page(db: Database, run: TestRun, *, window: Window[int]) -> Page[StoredTestCase]:
    return await version_page(
        db,
        run.dataset_id,
        run.dataset_version,
        run.case_count,
        subset_of=run.subset_of,
        window=window,
    )


@dataclass(frozen=True)
class RunDetails:
    """What a run's recordings tell about it: the prompt and model of its latest recorded
    completion (None until one says) and how many sessions recorded results in it."""

    prompt_name: str | None = None
    prompt_version: str | None = None
    model_name: str | None = None
    sessions_count: int = 0


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _details(body: Any, sessions: int) -> RunDetails:
    body = body if isinstance(body, dict) else {}
    prompt = body.get("prompt_info") if isinstance(body.get("prompt_info"), dict) else {}
    call = body.get("call_info") if isinstance(body.get("call_info"), dict) else {}
    return RunDetails(
        prompt_name=_text(prompt.get("template_name") or prompt.get("prompt_template_name")),
        prompt_version=_text(prompt.get("prompt_template_version_id")),
        model_name=_text(call.get("model") or prompt.get("model")),
        sessions_count=sessions,
    )


_LATEST_COMPLETION = (
    select(
        Recording.test_run_id,
        Recording.body,
        func.row_number()
        .over(
            partition_by=Recording.test_run_id,
            order_by=(Recording.created_at.desc(), Recording.id.desc()),
        )
        .label("rank"),
    )
    .where(Recording.test_run_id.in_(_RUN_IDS), Recording.kind == "completion")
    .subquery()
)
_LATEST_BODIES = select(_LATEST_COMPLETION.c.test_run_id, _LATEST_COMPLETION.c.body).where(
    _LATEST_COMPLETION.c.rank == 1
)
_SESSIONS = (
    select(Recording.test_run_id, func.count(func.distinct(Recording.session_id)))
    .where(Recording.test_run_id.in_(_RUN_IDS))
    .group_by(Recording.test_run_id)
)


async def run_details(db: Database, run_ids: list[str]) -> dict[str, RunDetails]:
    """The details of each of these runs, in two statements whatever their number."""
    if not run_ids:
        return {}
    async with db.read() as conn:
        return await _run_details(conn, run_ids)


async def _run_details(conn: AsyncConnection, run_ids: list[str]) -> dict[str, RunDetails]:
    if not run_ids:
        return {}
    sessions = dict((await conn.execute(_SESSIONS, {"ids": run_ids})).all())
    bodies = dict((await conn.execute(_LATEST_BODIES, {"ids": run_ids})).all())
    return {
        run_id: _details(loads_or_none(bodies.get(run_id)), sessions.get(run_id, 0))
        for run_id in run_ids
    }
