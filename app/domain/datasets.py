"""Datasets: named, versioned collections of test cases of one type.

Test cases are immutable revisions (see ``test_cases``); every change makes a new dataset
version, so a test run pins a version and reads the same cases forever without copying them.
"""

import functools
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import (
    BindParameter,
    Row,
    Select,
    and_,
    bindparam,
    delete,
    false,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.engine import Database
from app.db.tables import Dataset as DatasetRow
from app.db.tables import DatasetVersion as DatasetVersionRow
from app.db.tables import TestCase as TestCaseRow
from app.db.tables import TestRun as TestRunRow
from app.db.tables import TestRunCase
from app.domain.errors import Conflict, InvalidInput, NotFound
from app.domain.examples import TestCaseType
from app.domain.ids import canonical_id, new_id, utcnow
from app.domain.jsontext import dumps, loads_or_none
from app.domain.keys import Principal
from app.domain.pagination import Page, Window, split_page
from app.domain.projects import claimed_project_id, visible_project_id
from app.domain.text import check_name, check_text

__all__ = ["Dataset", "DatasetVersion", "StoredTestCase", "TestCaseType"]


@dataclass(frozen=True)
class NewDataset:
    name: str
    test_case_type: TestCaseType
    description: str = ""
    input_names: tuple[str, ...] = ()
    media_input_names: tuple[str, ...] = ()
    support_history: bool = False
    compatible_agent_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class DatasetChanges:
    """A partial update of a dataset's description; None leaves a field as it is."""

    name: str | None = None
    description: str | None = None
    input_names: tuple[str, ...] | None = None
    media_input_names: tuple[str, ...] | None = None
    support_history: bool | None = None
    compatible_agent_ids: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Dataset:
    id: str
    project_id: str
    name: str
    description: str
    test_case_type: TestCaseType
    version: int
    case_count: int
    input_names: list[str]
    media_input_names: list[str]
    support_history: bool
    compatible_agent_ids: list[str]
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


@dataclass(frozen=True)
class DatasetVersion:
    dataset_id: str
    number: int
    created_at: datetime
    added: int
    edited: int
    deleted: int
    case_count: int


class StoredTestCase(Protocol):
    """A test case as read for a response: JSON fields are still their stored text.

    For a trace case ``inputs`` is the trace input and ``metadata`` its custom metadata.
    It is also a tuple of these values in this order (``CASE_COLUMNS``). Read with
    ``REVISION_COLUMNS`` it also has ``valid_from``, the version its revision was made in:
    with the dataset and position it names the revision (REST has no use for it).
    """

    id: str
    position: int
    inputs: str
    output: str | None
    output_message: str | None
    history: str | None
    metadata: str | None
    media_inputs: str | None
    valid_from: int

    def __iter__(self) -> Iterator[Any]: ...


# ---- reading -----------------------------------------------------------------------------

CASE_COLUMNS = (
    TestCaseRow.id,
    TestCaseRow.position,
    TestCaseRow.inputs,
    TestCaseRow.output,
    TestCaseRow.output_message,
    TestCaseRow.history,
    TestCaseRow.metadata_,
    TestCaseRow.media_inputs,
)
REVISION_COLUMNS = (*CASE_COLUMNS, TestCaseRow.valid_from)


def _select_datasets(*, include_deleted: bool = False) -> Select[*tuple[Any, ...]]:
    query = select(
        DatasetRow.id,
        DatasetRow.project_id,
        DatasetRow.name,
        DatasetRow.description,
        DatasetRow.test_case_type,
        DatasetRow.version,
        DatasetVersionRow.case_count,
        DatasetRow.input_names,
        DatasetRow.media_input_names,
        DatasetRow.support_history,
        DatasetRow.compatible_agent_ids,
        DatasetRow.created_at,
        DatasetRow.updated_at,
        DatasetRow.deleted_at,
    ).join(
        DatasetVersionRow,
        and_(
            DatasetVersionRow.dataset_id == DatasetRow.id,
            DatasetVersionRow.number == DatasetRow.version,
        ),
    )
    return query if include_deleted else query.where(DatasetRow.deleted_at.is_(None))


def _dataset(row: Row[*tuple[Any, ...]]) -> Dataset:
    return Dataset(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        description=row.description,
        test_case_type=TestCaseType(row.test_case_type),
        version=row.version,
        case_count=row.case_count,
        input_names=loads_or_none(row.input_names) or [],
        media_input_names=loads_or_none(row.media_input_names) or [],
        support_history=row.support_history,
        compatible_agent_ids=loads_or_none(row.compatible_agent_ids) or [],
        created_at=row.created_at,
        updated_at=row.updated_at,
        deleted_at=row.deleted_at,
    )


def visible_at(version: int | BindParameter[Any]) -> Any:
    """The revisions that make up a dataset at ``version``."""
    return and_(
        TestCaseRow.valid_from <= version,
        or_(TestCaseRow.valid_to.is_(None), TestCaseRow.valid_to > version),
    )


async def dataset_in_project(
    conn: AsyncConnection,
    principal: Principal,
    project_id: str,
    dataset_id: str,
    kind: TestCaseType | None = None,
) -> Dataset:
    """A live dataset of a project the principal may see (of ``kind``, when given)."""
    pid = await visible_project_id(conn, principal, project_id)
    did = canonical_id(dataset_id)
    row = None
    if did is not None:
        query = _select_datasets().where(DatasetRow.id == did, DatasetRow.project_id == pid)
        if kind is not None:
            query = query.where(DatasetRow.test_case_type == kind.value)
        row = (await conn.execute(query)).first()
    if row is None:
        raise NotFound(f"dataset {dataset_id} not found")
    return _dataset(row)


_DATASET_NAMED = _select_datasets().where(
    DatasetRow.project_id == bindparam("project_id"), DatasetRow.name == bindparam("name")
)


async def dataset_named(
    conn: AsyncConnection, principal: Principal, project_id: str, name: str
) -> Dataset:
    """A live dataset of a project the principal may see, by name."""
    pid = claimed_project_id(principal, project_id)
    row = (await conn.execute(_DATASET_NAMED, {"project_id": pid, "name": name})).first()
    if row is None:
        await visible_project_id(conn, principal, pid)  # which of the two is missing
        raise NotFound(f"dataset named {name!r} not found")
    return _dataset(row)


async def get_dataset(
    db: Database,
    principal: Principal,
    project_id: str,
    dataset_id: str,
    kind: TestCaseType | None = None,
) -> Dataset:
    async with db.read() as conn:
        return await dataset_in_project(conn, principal, project_id, dataset_id, kind)


async def get_dataset_by_name(
    db: Database, principal: Principal, project_id: str, name: str
) -> Dataset:
    async with db.read() as conn:
        return await dataset_named(conn, principal, project_id, name)


async def find_dataset(
    db: Database, principal: Principal, dataset_id: str, *, include_deleted: bool = False
) -> Dataset:
    """A dataset by id alone, in whichever project the principal may see it.

    ``include_deleted`` finds datasets deleted while test runs still use them.
    """
    did = canonical_id(dataset_id)
    row = None
    if did is not None:
        query = _select_datasets(include_deleted=include_deleted).where(DatasetRow.id == did)
        async with db.read() as conn:
            row = (await conn.execute(query)).first()
    if row is None or not principal.can_see(row.project_id):
        raise NotFound(f"dataset {dataset_id} not found")
    return _dataset(row)


async def datasets_by_id(conn: AsyncConnection, ids: list[str]) -> dict[str, Dataset]:
    """Datasets by id, deleted ones included (runs made from them still show them)."""
    rows = await conn.execute(_select_datasets(include_deleted=True).where(DatasetRow.id.in_(ids)))
    return {r.id: _dataset(r) for r in rows}


async def list_datasets(
    db: Database,
    principal: Principal,
    project_id: str,
    *,
    window: Window[str],
    offset: int = 0,
    kind: TestCaseType | None = None,
    dataset_id: str | None = None,
    name: str | None = None,
) -> Page[Dataset]:
    """The project's live datasets ordered by name: a keyset ``window`` of names, or from
    ``offset`` (numbered pages); only those of ``kind``, with ``dataset_id`` or named
    ``name`` when given."""
    async with db.read() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        conditions = [DatasetRow.project_id == pid, DatasetRow.deleted_at.is_(None)]
        if kind is not None:
            conditions.append(DatasetRow.test_case_type == kind.value)
        if dataset_id is not None:
            did = canonical_id(dataset_id)  # not a uuid: no such dataset
            conditions.append(false() if did is None else DatasetRow.id == did)
        if name is not None:
            conditions.append(DatasetRow.name == name)
        query = _select_datasets().where(*conditions)
        if window.after is not None:
            query = query.where(DatasetRow.name > window.after)
        if window.before is not None:
            query = query.where(DatasetRow.name < window.before)
        order = DatasetRow.name.desc() if window.backward else DatasetRow.name
        query = query.order_by(order).offset(offset).limit(window.limit + 1)
        rows = (await conn.execute(query)).all()
        total = await conn.scalar(select(func.count()).select_from(DatasetRow).where(*conditions))
    return window.page([_dataset(r) for r in rows], total or 0)


def in_run_subset(run_id: str | BindParameter[Any]) -> Any:
    """The cases chosen for a run made from a subset of its dataset version."""
    return TestCaseRow.id.in_(
        select(TestRunCase.test_case_id).where(TestRunCase.test_run_id == run_id)
    )


@functools.cache
def _cases_statement(
    subset: bool,
    after: bool,
    offset: bool,
    limit: bool,
    before: bool,
    backward: bool,
    revisions: bool,
) -> Select[*tuple[Any, ...]]:
    """The statement that reads cases, built once per shape (each request only binds)."""
    query = (
        select(*(REVISION_COLUMNS if revisions else CASE_COLUMNS))
        .where(TestCaseRow.dataset_id == bindparam("dataset_id"), visible_at(bindparam("version")))
        .order_by(TestCaseRow.position.desc() if backward else TestCaseRow.position)
    )
    if subset:
        query = query.where(in_run_subset(bindparam("run_id")))
    if after:
        query = query.where(TestCaseRow.position > bindparam("after"))
    if before:
        query = query.where(TestCaseRow.position < bindparam("before"))
    if offset:
        query = query.offset(bindparam("offset"))
    if limit:
        query = query.limit(bindparam("limit"))
    return query


async def read_cases(
    conn: AsyncConnection,
    dataset_id: str,
    version: int,
    *,
    subset_of: str | None = None,
    after_position: int | None = None,
    offset: int = 0,
    limit: int | None = None,
    before_position: int | None = None,
    backward: bool = False,
    revisions: bool = False,
) -> list[Any]:
    """The cases of a dataset version in dataset order (in reverse when ``backward``), as
    ``StoredTestCase`` rows (with ``valid_from`` when ``revisions``); only those chosen for
    run ``subset_of`` when given."""
    statement, parameters = _cases_query(
        dataset_id,
        version,
        subset_of=subset_of,
        after_position=after_position,
        offset=offset,
        limit=limit,
        before_position=before_position,
        backward=backward,
        revisions=revisions,
    )
    return list((await conn.execute(statement, parameters)).all())


async def fetch_cases(
    db: Database,
    dataset_id: str,
    version: int,
    *,
    subset_of: str | None = None,
    after_position: int | None = None,
    limit: int | None = None,
) -> list[Any]:
    """``read_cases`` on its own, with no transaction (a version's cases never change)."""
    statement, parameters = _cases_query(
        dataset_id, version, subset_of=subset_of, after_position=after_position, limit=limit
    )
    return list(await db.fetch(statement, parameters))


def _cases_query(
    dataset_id: str,
    version: int,
    *,
    subset_of: str | None = None,
    after_position: int | None = None,
    offset: int = 0,
    limit: int | None = None,
    before_position: int | None = None,
    backward: bool = False,
    revisions: bool = False,
) -> tuple[Select[Any], dict[str, Any]]:
    statement = _cases_statement(
        subset_of is not None,
        after_position is not None,
        bool(offset),
        limit is not None,
        before_position is not None,
        backward,
        revisions,
    )
    parameters = {
        "dataset_id": dataset_id,
        "version": version,
        "run_id": subset_of,
        "after": after_position,
        "before": before_position,
        "offset": offset,
        "limit": limit,
    }
    return statement, parameters


async def list_test_cases(
    db: Database,
    principal: Principal,
    project_id: str,
    dataset_id: str,
    *,
    version: int | None = None,
    offset: int = 0,
    limit: int | None = None,
    kind: TestCaseType | None = None,
) -> tuple[Dataset, list[StoredTestCase]]:
    """The dataset's cases at ``version`` (default: the latest), all or one numbered page."""
    async with db.read() as conn:
        dataset = await dataset_in_project(conn, principal, project_id, dataset_id, kind)
        at = check_version(dataset, version)
        return dataset, await read_cases(conn, dataset.id, at, offset=offset, limit=limit)


async def case_number_page(
    db: Database,
    principal: Principal,
    project_id: str,
    dataset_id: str,
    *,
    page: int,
    page_size: int,
    kind: TestCaseType | None = None,
) -> tuple[Dataset, Page[StoredTestCase]]:
    """Numbered page ``page`` (from 1) of the latest version's cases."""
    dataset, rows = await list_test_cases(
        db,
        principal,
        project_id,
        dataset_id,
        offset=(page - 1) * page_size,
        limit=page_size + 1,
        kind=kind,
    )
    return dataset, split_page(rows, page_size, dataset.case_count)


def check_version(dataset: Dataset, version: int | None, field: str = "version") -> int:
    if version is None:
        return dataset.version
    if not 0 <= version <= dataset.version:
        raise InvalidInput.at(
            (field,), f"{field} must be between 0 and {dataset.version} (the latest); got {version}"
        )
    return version


async def version_info(db: Database, dataset_id: str, number: int) -> DatasetVersion:
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(DatasetVersionRow).where(
                    DatasetVersionRow.dataset_id == dataset_id, DatasetVersionRow.number == number
                )
            )
        ).one()
    return _version(row)


async def version_page(
    db: Database,
    dataset_id: str,
    version: int,
    total: int,
    *,
    subset_of: str | None = None,
    window: Window[int],
) -> Page[StoredTestCase]:
    """One keyset page (by position) of a dataset version's cases. The caller has already
    checked access."""
    async with db.read() as conn:
        rows = await read_cases(
            conn,
            dataset_id,
            version,
            subset_of=subset_of,
            after_position=window.after,
            before_position=window.before,
            backward=window.backward,
            limit=window.limit + 1,
            revisions=True,
        )
    return window.page(rows, total)


SMALL_VERSIONS_KEPT = 256  # small versions whose cases a process keeps
SMALL_VERSION_BYTES = 64 * 1024  # of stored JSON text, at most, in a version kept
_small_versions: dict[tuple[str, int], tuple[StoredTestCase, ...]] = {}


def _kept_version(dataset_id: str, version: int) -> tuple[StoredTestCase, ...] | None:
    key = (dataset_id, version)
    cases = _small_versions.pop(key, None)
    if cases is not None:
        _small_versions[key] = cases  # now the most recently used
    return cases


def _keep_version(dataset_id: str, version: int, cases: list[StoredTestCase]) -> None:
    text = sum(len(value) for case in cases for value in case if isinstance(value, str))
    if text > SMALL_VERSION_BYTES:
        return
    _small_versions[(dataset_id, version)] = tuple(cases)
    if len(_small_versions) > SMALL_VERSIONS_KEPT:
        del _small_versions[next(iter(_small_versions))]  # the least recently used


async def version_pages(
    db: Database,
    dataset_id: str,
    version: int,
    page_size: int,
    *,
    subset_of: str | None = None,
) -> AsyncIterator[list[StoredTestCase]]:
    """Every case of a dataset version in order, a page at a time. Each page is its own
    short read: a version's cases never change, so the pages fit together.

    For the same reason a process keeps the cases of the small versions it read whole (a
    dataset of a few dozen cases, run again and again from CI), and does not read them
    again: creating a run of one is then a single statement."""
    kept = None if subset_of is not None else _kept_version(dataset_id, version)
    if kept is not None and len(kept) < page_size:
        if kept:
            yield list(kept)
        return
    after: int | None = None
    while True:
        page = await fetch_cases(
            db, dataset_id, version, subset_of=subset_of, after_position=after, limit=page_size
        )
        if page:
            yield page
        if len(page) < page_size:
            if after is None and subset_of is None:
                _keep_version(dataset_id, version, page)
            return
        after = page[-1].position


async def case_page(
    db: Database,
    dataset: Dataset,
    *,
    version: int | None = None,
    window: Window[int],
) -> Page[StoredTestCase]:
    at = check_version(dataset, version, "atVersion")
    total = (
        dataset.case_count
        if at == dataset.version
        else (await version_info(db, dataset.id, at)).case_count
    )
    return await version_page(db, dataset.id, at, total, window=window)


def _version(row: Any) -> DatasetVersion:
    return DatasetVersion(
        dataset_id=row.dataset_id,
        number=row.number,
        created_at=row.created_at,
        added=row.added,
        edited=row.edited,
        deleted=row.deleted,
        case_count=row.case_count,
    )


async def list_versions(
    db: Database, dataset: Dataset, *, window: Window[int]
) -> Page[DatasetVersion]:
    """The dataset's versions, newest first: a keyset ``window`` of version numbers."""
    number = DatasetVersionRow.number
    query = select(DatasetVersionRow).where(DatasetVersionRow.dataset_id == dataset.id)
    if window.after is not None:
        query = query.where(number < window.after)
    if window.before is not None:
        query = query.where(number > window.before)
    query = query.order_by(number if window.backward else number.desc()).limit(window.limit + 1)
    async with db.read() as conn:
        rows = (await conn.execute(query)).all()
    return window.page([_version(r) for r in rows], dataset.version + 1)


# ---- revisions ---------------------------------------------------------------------------
# A test case keeps its id across versions; each revision of it (its content from one version
# on) has an id of its own, made from the revision's primary key: the dataset, the case's
# position and the version the revision was made in. A view of a revision without its
# expected outputs (a run made without them) is other content, so it has another id.

WITHOUT_OUTPUTS = "no-outputs"


@dataclass(frozen=True)
class RevisionKey:
    dataset_id: str
    position: int
    valid_from: int
    outputs: bool = True

    @classmethod
    def parse(cls, value: str) -> "RevisionKey | None":
        """The key a revision id (``revision_id``) names, or None when ``value`` is not one."""
        parts = value.split(".")
        if len(parts) not in (3, 4) or (len(parts) == 4 and parts[3] != WITHOUT_OUTPUTS):
            return None
        dataset_id = canonical_id(parts[0])
        if dataset_id is None or not all(
            p.isascii() and p.isdigit() and len(p) <= 18 for p in parts[1:3]
        ):
            return None
        return cls(dataset_id, int(parts[1]), int(parts[2]), outputs=len(parts) == 3)


def revision_id(dataset_id: str, case: StoredTestCase, outputs: bool = True) -> str:
    """The id of a case's content as read: ``<dataset>.<position>.<valid_from>``, and
    ``.no-outputs`` after it for the case without its expected outputs. (Runs per case.)"""
    if outputs:
        return f"{dataset_id}.{case.position}.{case.valid_from}"
    return f"{dataset_id}.{case.position}.{case.valid_from}.{WITHOUT_OUTPUTS}"


@dataclass(frozen=True)
class Revision:
    key: RevisionKey
    project_id: str
    test_case_type: TestCaseType
    case: StoredTestCase


async def revisions_by_key(
    conn: AsyncConnection, keys: list[RevisionKey]
) -> dict[RevisionKey, Revision]:
    """The revisions with these keys (of any dataset, deleted ones included)."""
    if not keys:
        return {}
    rows = await conn.execute(
        select(
            *REVISION_COLUMNS,
            TestCaseRow.dataset_id,
            DatasetRow.project_id,
            DatasetRow.test_case_type,
        )
        .join(DatasetRow, DatasetRow.id == TestCaseRow.dataset_id)
        .where(
            tuple_(TestCaseRow.dataset_id, TestCaseRow.position, TestCaseRow.valid_from).in_(
                list({(k.dataset_id, k.position, k.valid_from) for k in keys})
            )
        )
    )
    found = {(r.dataset_id, r.position, r.valid_from): r for r in rows}
    revisions = {}
    for key in keys:
        row = found.get((key.dataset_id, key.position, key.valid_from))
        if row is not None:
            kind = TestCaseType(row.test_case_type)
            revisions[key] = Revision(key, row.project_id, kind, row)
    return revisions


# ---- writing -----------------------------------------------------------------------------


def _name_taken(name: str) -> Conflict:
    return Conflict(f"a dataset named {name!r} already exists in this project")


async def _check_name_free(
    conn: AsyncConnection, project_id: str, name: str, except_id: str | None = None
) -> None:
    query = select(DatasetRow.id).where(
        DatasetRow.project_id == project_id,
        DatasetRow.name == name,
        DatasetRow.deleted_at.is_(None),
    )
    if except_id is not None:
        query = query.where(DatasetRow.id != except_id)
    if await conn.scalar(query):
        raise _name_taken(name)


def _check_names(field: str, names: tuple[str, ...] | None) -> None:
    for index, name in enumerate(names or ()):
        check_text(name, (field, index))


async def create_dataset(
    db: Database, principal: Principal, project_id: str, new: NewDataset
) -> Dataset:
    check_name(new.name)
    check_text(new.description, ("description",))
    _check_names("input_names", new.input_names)
    _check_names("media_input_names", new.media_input_names)
    _check_names("compatible_agent_ids", new.compatible_agent_ids)
    now = utcnow()
    dataset_id = new_id()
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        await _check_name_free(conn, pid, new.name)
        try:
            await conn.execute(
                DatasetRow.__table__.insert().values(
                    id=dataset_id,
                    project_id=pid,
                    name=new.name,
                    description=new.description,
                    test_case_type=new.test_case_type.value,
                    version=0,
                    next_position=0,
                    input_names=dumps(list(new.input_names)),
                    media_input_names=dumps(list(new.media_input_names)),
                    support_history=new.support_history,
                    compatible_agent_ids=dumps(list(new.compatible_agent_ids)),
                    created_at=now,
                    updated_at=now,
                )
            )
        except IntegrityError as exc:  # a concurrent writer on another replica won the name
            raise _name_taken(new.name) from exc
        await conn.execute(
            DatasetVersionRow.__table__.insert().values(
                dataset_id=dataset_id, number=0, created_at=now, case_count=0
            )
        )
        return await dataset_in_project(conn, principal, pid, dataset_id)


async def update_dataset(
    db: Database,
    principal: Principal,
    project_id: str,
    dataset_id: str,
    changes: DatasetChanges,
    kind: TestCaseType | None = None,
) -> Dataset:
    """Rename or re-describe a dataset. Its cases and version do not change."""
    if changes.name is not None:
        check_name(changes.name)
    if changes.description is not None:
        check_text(changes.description, ("description",))
    _check_names("input_names", changes.input_names)
    _check_names("media_input_names", changes.media_input_names)
    _check_names("compatible_agent_ids", changes.compatible_agent_ids)
    values: dict[str, Any] = {"updated_at": utcnow()}
    for field in ("name", "description", "support_history"):
        if getattr(changes, field) is not None:
            values[field] = getattr(changes, field)
    for field in ("input_names", "media_input_names", "compatible_agent_ids"):
        if getattr(changes, field) is not None:
            values[field] = dumps(list(getattr(changes, field)))
    async with db.write() as conn:
        dataset = await dataset_in_project(conn, principal, project_id, dataset_id, kind)
        if changes.name is not None:
            await _check_name_free(conn, dataset.project_id, changes.name, except_id=dataset.id)
        try:
            await conn.execute(update(DatasetRow).where(DatasetRow.id == dataset.id).values(values))
        except IntegrityError as exc:
            raise _name_taken(changes.name or "") from exc
        return await dataset_in_project(conn, principal, dataset.project_id, dataset.id)


async def delete_dataset(
    db: Database,
    principal: Principal,
    project_id: str,
    dataset_id: str,
    *,
    force: bool = False,
    kind: TestCaseType | None = None,
) -> None:
    """Delete a dataset. If test runs were made from it, only with ``force``; then it is
    hidden (its name free again) but kept, so those runs keep reading their cases."""
    async with db.write() as conn:
        dataset = await dataset_in_project(conn, principal, project_id, dataset_id, kind)
        runs = await conn.scalar(
            select(func.count()).select_from(TestRunRow).where(TestRunRow.dataset_id == dataset.id)
        )
        if runs and not force:
            raise Conflict(
                f"{runs} test run(s) use dataset {dataset.name!r}; delete with force to hide "
                "the dataset while those runs keep their cases"
            )
        if runs:
            now = utcnow()
            await conn.execute(
                update(DatasetRow)
                .where(DatasetRow.id == dataset.id)
                .values(deleted_at=now, updated_at=now)
            )
        else:
            await conn.execute(delete(DatasetRow).where(DatasetRow.id == dataset.id))


async def cases_by_id(
    db: Database, dataset_id: str, version: int, case_ids: list[str]
) -> dict[str, StoredTestCase]:
    """The named cases of a dataset version (those present), by id."""
    if not case_ids:
        return {}
    async with db.read() as conn:
        rows = await conn.execute(
            select(*REVISION_COLUMNS).where(
                TestCaseRow.dataset_id == dataset_id,
                visible_at(version),
                TestCaseRow.id.in_(case_ids),
            )
        )
        return {row.id: row for row in rows}
