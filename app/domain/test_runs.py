"""Test runs: a named pass over a pinned dataset version (or a chosen subset of it).

Creating a run of a whole dataset writes one row (plus its target evaluations) whatever the
dataset's size; its test cases are read from the dataset at the pinned version.
"""

from collections.abc import AsyncIterator, Iterable
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Integer,
    Row,
    Select,
    and_,
    bindparam,
    cast,
    false,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import ReturningInsert
from sqlalchemy.sql.elements import ColumnElement

from app import metrics
from app.db.engine import Database, numbered
from app.db.tables import Dataset as DatasetRow
from app.db.tables import DatasetVersion as DatasetVersionRow
from app.db.tables import Flavor as FlavorRow
from app.db.tables import Project as ProjectRow
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
from app.db.types import JSONText, joined_ids
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

    @property
    def is_plain(self) -> bool:
        """A run of the whole dataset and nothing more: no flavor, targets, filter or
        execution (a field added later counts as more, unless left at its default)."""
        plain = NewTestRun(self.dataset_name, self.include_outputs, self.name, self.description)
        return self == plain


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


# What a create gives, with the type each is sent as: the columns of ``_insert_runs``'s rows.
_GIVEN = (
    ("id", TestRunRow.id.type),
    ("project_id", TestRunRow.project_id.type),
    ("dataset_name", DatasetRow.name.type),
    ("name", TestRunRow.name.type),
    ("description", TestRunRow.description.type),
    ("flavor_id", TestRunRow.flavor_id.type),
    ("include_outputs", TestRunRow.include_outputs.type),
    ("status", TestRunRow.status.type),
    ("case_filter", TestRunRow.case_filter.type),
    ("created_at", TestRunRow.created_at.type),
)


def _given(name: str, type_: Any) -> ColumnElement[Any]:
    # A JSON document is sent as text: PostgreSQL must be told it is JSONB, since a column of
    # a UNION takes no type from the column it is inserted into.
    given = bindparam(name, type_=type_)
    return cast(given, type_) if isinstance(type_, JSONText) else given


@cache
def _insert_runs(count: int) -> ReturningInsert[str, str, int, int, str]:
    """``count`` runs, each of the live dataset of its name, written in one statement that
    reads each dataset's current version as it inserts. Its parameters are ``_GIVEN``'s
    names numbered by run (``id_0``, ``name_0``, ...; ``engine.numbered``); a run whose
    dataset is missing is not written, and returns no row."""
    rows = [
        select(*(_given(f"{name}_{n}", type_).label(name) for name, type_ in _GIVEN))
        for n in range(count)
    ]
    given = (rows[0] if count == 1 else union_all(*rows)).subquery("given")
    return (
        insert(TestRunRow)
        .from_select(
            [
                TestRunRow.id,
                TestRunRow.project_id,
                TestRunRow.dataset_id,
                TestRunRow.dataset_version,
                TestRunRow.name,
                TestRunRow.description,
                TestRunRow.flavor_id,
                TestRunRow.include_outputs,
                TestRunRow.status,
                TestRunRow.case_count,
                TestRunRow.done_count,
                TestRunRow.case_filter,
                TestRunRow.created_at,
            ],
            select(
                given.c.id,
                DatasetRow.project_id,
                DatasetRow.id,
                DatasetRow.version,
                given.c.name,
                given.c.description,
                given.c.flavor_id,
                given.c.include_outputs,
                given.c.status,
                DatasetVersionRow.case_count,
                literal(0),
                given.c.case_filter,
                given.c.created_at,
            )
            .select_from(given)
            .join(
                DatasetRow,
                and_(
                    DatasetRow.project_id == given.c.project_id,
                    DatasetRow.name == given.c.dataset_name,
                    DatasetRow.deleted_at.is_(None),
                ),
            )
            .join(
                DatasetVersionRow,
                and_(
                    DatasetVersionRow.dataset_id == DatasetRow.id,
                    DatasetVersionRow.number == DatasetRow.version,
                ),
            ),
        )
        .returning(
            TestRunRow.id,
            TestRunRow.dataset_id,
            TestRunRow.dataset_version,
            TestRunRow.case_count,
            # Written out: SQLAlchemy neither correlates a subquery in an INSERT's RETURNING
            # nor keeps its columns' table names there on SQLite.
            literal_column(
                "(SELECT datasets.test_case_type FROM datasets"
                " WHERE datasets.id = test_runs.dataset_id)"
            ),
        )
    )


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
    pid = claimed_project_id(principal, project_id)
    now = utcnow()
    run = TestRun(
        id=new_id(),
        project_id=pid,
        dataset_id="",  # these four are the dataset's, known once the run is written
        dataset_name=new.dataset_name,  # the name it is found by, exactly
        dataset_version=0,
        test_case_type=TestCaseType.COMPLETION,
        name=new.name or default_run_name(new.dataset_name, now),
        description=new.description or "",
        status=TestRunStatus.CREATED,
        flavor_name=new.flavor_name,
        include_outputs=new.include_outputs,
        case_count=0,
        done_count=0,
        target_evaluation_ids=(),
        case_filter=None if new.case_filter is None else new.case_filter.as_dict(),
        created_at=now,
        completed_at=None,
    )
    key = None if idempotency_key is None else idempotency.normalize_key(idempotency_key)
    if key is None and new.is_plain:
        # The plain run, the one SDKs make all day: one statement, its own transaction.
        written = await db.insert_together(_insert_runs, _insert_values(run, None))
        if written:
            metrics.test_run_created()
            return _written(run, written[0])
        async with db.statement() as conn:
            await dataset_named(conn, principal, pid, new.dataset_name)  # says which is missing
        # The dataset was made just after the statement looked: made as any other run.
    async with db.write() as conn:
        if key is not None:
            request = {"project_id": pid, **asdict(new)}
            earlier = await idempotency.claim(
                conn, principal, key, request, db.settings.idempotency_ttl_seconds, db.clock()
            )
            if earlier is not None:
                return (await _runs(conn, _RUNS.where(TestRunRow.id == earlier)))[0]
        # Checked in the order a caller reads its request: the dataset first.
        dataset = await dataset_named(conn, principal, pid, new.dataset_name)
        flavor_id = (
            None if new.flavor_name is None else await flavor_id_named(conn, pid, new.flavor_name)
        )
        evaluation_ids, criterion_ids = await resolve_target_ids(
            conn, pid, list(new.target_evaluation_ids), "target_evaluation_ids"
        )
        values = numbered(_insert_values(run, flavor_id), 0)
        row = (await conn.execute(_insert_runs(1), values)).first()
        if row is None:  # deleted since it was read (PostgreSQL reads committed rows)
            raise NotFound(f"dataset named {new.dataset_name!r} not found")
        run = replace(
            _written(run, row),
            target_evaluation_ids=tuple(sorted(evaluation_ids)),
            target_criterion_ids=tuple(sorted(criterion_ids)),
        )
        if evaluation_ids:
            await conn.execute(
                TestRunEvaluation.__table__.insert(),
                [{"test_run_id": run.id, "evaluation_id": e} for e in evaluation_ids],
            )
        if criterion_ids:
            await conn.execute(
                TestRunCriterion.__table__.insert(),
                [{"test_run_id": run.id, "criterion_id": c} for c in criterion_ids],
            )
        if new.case_filter is not None:
            # Chosen from the version the run pinned as it was written.
            pinned = replace(dataset, version=run.dataset_version)
            subset = await _choose_cases(conn, pid, pinned, new.case_filter)
            await conn.execute(
                TestRunCase.__table__.insert(),
                [{"test_run_id": run.id, "test_case_id": case_id} for case_id in subset],
            )
            await conn.execute(
                update(TestRunRow).where(TestRunRow.id == run.id).values(case_count=len(subset))
            )
            run = replace(run, case_count=len(subset))
        if new.execute is not None:
            from app.domain import execution  # it builds on this module

            cases = await execution.prepare_execution(conn, run, new.execute)
            await execution.start_execution(conn, run, new.execute, cases)
            run = replace(run, status=TestRunStatus.RUNNING)
        if key is not None:
            await idempotency.remember(conn, principal, key, run.id)
    metrics.test_run_created()  # committed; a repeat answered by its idempotency key is not
    return run


def _insert_values(run: TestRun, flavor_id: str | None) -> dict[str, Any]:
    return {
        "id": run.id,
        "project_id": run.project_id,
        "dataset_name": run.dataset_name,
        "name": run.name,
        "description": run.description,
        "flavor_id": flavor_id,
        "include_outputs": run.include_outputs,
        "status": run.status.value,
        "case_filter": None if run.case_filter is None else dumps(run.case_filter),
        "created_at": run.created_at,
    }


def _written(run: TestRun, row: Row[*tuple[Any, ...]]) -> TestRun:
    """The run with what ``_insert_runs`` took from its dataset."""
    _, dataset_id, version, case_count, test_case_type = row
    return replace(
        run,
        dataset_id=dataset_id,
        dataset_version=version,
        case_count=case_count,
        test_case_type=TestCaseType(test_case_type),
    )


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


def _ids_of(column: Any, run_column: Any) -> Any:
    """A run's ids in a table of its targets, joined (see ``joined_ids``), as a column."""
    return select(joined_ids(column)).where(run_column == TestRunRow.id).scalar_subquery()


def _of_run(column: Any, key: Any, name: str) -> Any:
    """A column of the row ``key`` of the run points to, as a column of the run's."""
    return select(column).where(key).scalar_subquery().label(name)


def _select_runs() -> Select[*tuple[Any, ...]]:
    # One table in FROM, its dataset's and flavor's names read by key: the database then
    # reads a project's runs in the order of its index and stops after the page, however
    # stale its statistics (joined, PostgreSQL sorted every run of the project when they
    # said the table was empty).
    return select(
        TestRunRow.id,
        TestRunRow.project_id,
        TestRunRow.dataset_id,
        _of_run(DatasetRow.name, DatasetRow.id == TestRunRow.dataset_id, "dataset_name"),
        _of_run(
            DatasetRow.test_case_type, DatasetRow.id == TestRunRow.dataset_id, "test_case_type"
        ),
        TestRunRow.dataset_version,
        TestRunRow.name,
        TestRunRow.description,
        TestRunRow.status,
        _of_run(FlavorRow.name, FlavorRow.id == TestRunRow.flavor_id, "flavor_name"),
        TestRunRow.include_outputs,
        TestRunRow.case_count,
        TestRunRow.done_count,
        TestRunRow.case_filter,
        TestRunRow.created_at,
        TestRunRow.completed_at,
        # A run's target evaluations and criteria come in its own row: one statement
        # reads any number of runs whole.
        _ids_of(TestRunEvaluation.evaluation_id, TestRunEvaluation.test_run_id).label(
            "evaluation_ids"
        ),
        _ids_of(TestRunCriterion.criterion_id, TestRunCriterion.test_run_id).label("criterion_ids"),
    )


# What a run's recordings tell (see RunDetails), as columns of its row.
_SESSIONS_COUNT = (
    select(func.count(func.distinct(Recording.session_id)))
    .where(Recording.test_run_id == TestRunRow.id)
    .scalar_subquery()
    .label("sessions_count")
)
_LATEST_COMPLETION = (
    select(Recording.body)
    .where(Recording.test_run_id == TestRunRow.id, Recording.kind == "completion")
    .order_by(Recording.created_at.desc(), Recording.id.desc())
    .limit(1)
    .scalar_subquery()
    .label("latest_completion")
)
_DETAILS = (_SESSIONS_COUNT, _LATEST_COMPLETION)

# Built once per process: a request binds its values and SQLAlchemy reuses the compiled form.
_RUNS = _select_runs()
_PROJECT_RUNS = (
    _RUNS.where(TestRunRow.project_id == bindparam("project_id"))
    .order_by(TestRunRow.created_at.desc(), TestRunRow.id.desc())
    # Written into the statement's text: PostgreSQL plans a LIMIT it cannot see for a tenth
    # of the rows, finds that worse than planning each time, and plans each time (about as
    # long as running it). With the numbers in the text, its one plan is kept.
    .offset(bindparam("offset", type_=Integer, literal_execute=True))
    .limit(bindparam("limit", type_=Integer, literal_execute=True))
)
# Kept by the database: a trigger counts each run inserted (migration 0009).
_COUNT_PROJECT_RUNS = select(ProjectRow.test_run_count).where(
    ProjectRow.id == bindparam("project_id")
)
# The common first page with its runs' details and the project's total, in one statement.
_PROJECT_RUNS_WITH_DETAILS = _PROJECT_RUNS.add_columns(
    *_DETAILS, _COUNT_PROJECT_RUNS.scalar_subquery().label("total")
)


def _id_tuple(joined: str | None) -> tuple[str, ...]:
    return () if not joined else tuple(sorted(joined.split(",")))


def _run(row: Row[*tuple[Any, ...]]) -> TestRun:
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
        target_evaluation_ids=_id_tuple(row.evaluation_ids),
        case_filter=loads_or_none(row.case_filter),
        created_at=row.created_at,
        completed_at=row.completed_at,
        target_criterion_ids=_id_tuple(row.criterion_ids),
    )


async def _runs(
    conn: AsyncConnection, query: Select[*tuple[Any, ...]], values: dict[str, Any] | None = None
) -> list[TestRun]:
    return [_run(r) for r in await conn.execute(query, values)]


async def runs_by_id(conn: AsyncConnection, ids: list[str]) -> dict[str, TestRun]:
    return {r.id: r for r in await _runs(conn, _RUNS.where(TestRunRow.id.in_(ids)))}


async def get_test_run(
    db: Database, principal: Principal, run_id: str, project_id: str | None = None
) -> TestRun:
    """A run by id; with ``project_id`` it must also belong to that project."""
    rid = canonical_id(run_id)
    async with db.statement() as conn:  # the project's and the run's reads need not agree
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
        found, _ = await _list_test_runs(
            conn,
            principal,
            project_id,
            window=window,
            offset=offset,
            dataset_id=dataset_id,
            status=status,
            details=False,
        )
        return found


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
    """``list_test_runs`` and the ``run_details`` of its runs, read together."""
    if _is_first_page(window, dataset_id, status):
        # The common first page (REST's), in one statement built once: its runs, their
        # details and the project's total. A run of the project proves the project is
        # there, so only an empty page asks whether it exists and counts on its own.
        pid = claimed_project_id(principal, project_id)
        values = {"project_id": pid, "offset": offset, "limit": window.limit + 1}
        rows = await db.fetch(_PROJECT_RUNS_WITH_DETAILS, values)
        if rows:
            return window.page([_run(r) for r in rows], rows[0].total), _details_of(rows)
    async with db.read() as conn:
        return await _list_test_runs(
            conn,
            principal,
            project_id,
            window=window,
            offset=offset,
            dataset_id=dataset_id,
            status=status,
            details=True,
        )


def _is_first_page(
    window: Window[tuple[datetime, str]], dataset_id: str | None, status: TestRunStatus | None
) -> bool:
    """Newest first from an offset, unfiltered: what REST lists most."""
    return (
        dataset_id is None
        and status is None
        and window.after is None
        and window.before is None
        and not window.backward
    )


async def _list_test_runs(
    conn: AsyncConnection,
    principal: Principal,
    project_id: str,
    *,
    window: Window[tuple[datetime, str]],
    offset: int,
    dataset_id: str | None,
    status: TestRunStatus | None,
    details: bool,
) -> tuple[Page[TestRun], dict[str, "RunDetails"]]:
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
    if details:
        query = query.add_columns(*_DETAILS)
    rows = (await conn.execute(query.order_by(*order).offset(offset).limit(window.limit + 1))).all()
    if dataset_id is None and status is None:
        total = await conn.scalar(_COUNT_PROJECT_RUNS, {"project_id": pid})
    else:
        total = await conn.scalar(select(func.count()).select_from(TestRunRow).where(*conditions))
    found = window.page([_run(r) for r in rows], total or 0)
    return found, _details_of(rows) if details else {}


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


async def run_details(db: Database, run_ids: list[str]) -> dict[str, RunDetails]:
    """The details of each of these runs, in one statement whatever their number."""
    if not run_ids:
        return {}
    async with db.read() as conn:
        rows = await conn.execute(
            select(TestRunRow.id, *_DETAILS).where(TestRunRow.id.in_(run_ids))
        )
        found = _details_of(rows)
    # A run gone meanwhile (its project deleted) has nothing recorded.
    return {run_id: found.get(run_id, RunDetails()) for run_id in run_ids}


def _details_of(rows: Iterable[Row[*tuple[Any, ...]]]) -> dict[str, RunDetails]:
    """The details of runs read with the ``_DETAILS`` columns."""
    return {r.id: _details(loads_or_none(r.latest_completion), r.sessions_count or 0) for r in rows}
