"""Changing a dataset's test cases. Every change is one new dataset version.

A change locks the dataset row first (a row lock on PostgreSQL; SQLite's write transaction),
so concurrent writers to one dataset take consecutive version numbers with no gaps, and then
closes the revisions it replaces and appends new ones; nothing already stored is rewritten.
"""

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import partial
from itertools import islice
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.bulk import CASE_ROW, VersionInserter, insert_cases, timestamp_param
from app.db.engine import Database
from app.db.scratch import ScratchRows
from app.db.tables import Dataset as DatasetRow
from app.db.tables import DatasetVersion as DatasetVersionRow
from app.db.tables import TestCase as TestCaseRow
from app.domain.datasets import (
    REVISION_COLUMNS,
    Dataset,
    DatasetVersion,
    StoredTestCase,
    cases_by_id,
    check_version,
    dataset_in_project,
    get_dataset,
    read_cases,
)
from app.domain.errors import FieldError, InvalidInput, NotFound
from app.domain.examples import (
    MAX_REPORTED_ERRORS,
    Checked,
    CheckedRow,
    Columns,
    ExampleError,
    TestCaseType,
    case_rows,
    check_chunk,
    from_columns,
    invalid,
    to_columns,
    validate_all,
)
from app.domain.ids import canonical_id, utcnow
from app.domain.keys import Principal

IMPORT_CHUNK = 5_000
CHECKED_AHEAD = 3  # chunks being checked while one is inserted


@dataclass(frozen=True)
class AddedCases:
    version: DatasetVersion
    case_ids: tuple[str, ...]


@dataclass(frozen=True)
class EditedCase:
    dataset: Dataset
    version: DatasetVersion
    case: StoredTestCase


class _NewVersion:
    """The version a change is writing; created with the dataset row locked."""

    def __init__(self, dataset_id: str, previous: int, next_position: int, count: int) -> None:
        self.dataset_id = dataset_id
        self.number = previous + 1
        self.next_position = next_position
        self.case_count = count
        self.added = self.edited = self.deleted = 0
        self.created_at = utcnow()

    @classmethod
    async def open(cls, conn: AsyncConnection, dataset_id: str) -> "_NewVersion":
        locked = (
            await conn.execute(
                update(DatasetRow)
                .where(DatasetRow.id == dataset_id, DatasetRow.deleted_at.is_(None))
                .values(updated_at=utcnow())
                .returning(DatasetRow.version, DatasetRow.next_position)
            )
        ).first()
        if locked is None:
            raise NotFound(f"dataset {dataset_id} not found")
        count = await conn.scalar(
            select(DatasetVersionRow.case_count).where(
                DatasetVersionRow.dataset_id == dataset_id,
                DatasetVersionRow.number == locked.version,
            )
        )
        return cls(dataset_id, locked.version, locked.next_position, count or 0)

    async def append(self, conn: AsyncConnection, columns: list[Columns]) -> list[str]:
        """Insert brand-new cases after every existing position; their ids."""
        rows = case_rows(
            columns,
            self.dataset_id,
            self.number,
            self.next_position,
            timestamp_param(conn, self.created_at),
        )
        await insert_cases(conn, rows)
        self.appended(len(rows))
        return [row[CASE_ROW.index("id")] for row in rows]

    def appended(self, count: int) -> None:
        self.next_position += count
        self.added += count
        self.case_count += count

    async def close(self, conn: AsyncConnection) -> DatasetVersion:
        await conn.execute(
            update(DatasetRow)
            .where(DatasetRow.id == self.dataset_id)
            .values(version=self.number, next_position=self.next_position)
        )
        info = DatasetVersion(
            dataset_id=self.dataset_id,
            number=self.number,
            created_at=self.created_at,
            added=self.added,
            edited=self.edited,
            deleted=self.deleted,
            case_count=self.case_count,
        )
        await conn.execute(
            DatasetVersionRow.__table__.insert().values(
                dataset_id=self.dataset_id,
                number=self.number,
                created_at=self.created_at,
                added=self.added,
                edited=self.edited,
                deleted=self.deleted,
                case_count=self.case_count,
            )
        )
        return info


def check_case_kinds(dataset: Dataset, kinds: Iterable[TestCaseType]) -> None:
    """Cases a caller gives as of a kind (GraphQL's ``completionCases`` / ``traceCases``,
    ``completion`` / ``trace``) must be of the dataset's kind."""
    for kind in kinds:
        if kind is not dataset.test_case_type:
            own = dataset.test_case_type.value
            raise InvalidInput(f"{dataset.name!r} is a {own} dataset; give {own} cases only")


def _check_count(field: str, count: int, limit: int) -> None:
    if count > limit:
        raise InvalidInput.at(
            (field,), f"{count} test cases in one request; at most {limit} allowed"
        )


async def add_test_cases(
    db: Database,
    principal: Principal,
    project_id: str,
    dataset_id: str,
    examples: list[Any],
    kind: TestCaseType | None = None,
    field: str = "examples",
    case_kinds: Iterable[TestCaseType] = (),
) -> AddedCases:
    """Add cases in one new version: all of them, or none when any is invalid.

    ``kind`` finds only a dataset of that kind; ``case_kinds``, the kinds the caller says its
    cases are, must be the dataset's (``check_case_kinds``)."""
    settings = db.settings
    if not examples:
        raise InvalidInput.at((field,), f"{field} must hold at least one test case")
    _check_count(field, len(examples), settings.max_cases_per_request)
    async with db.read() as conn:
        dataset = await dataset_in_project(conn, principal, project_id, dataset_id, kind)
    check_case_kinds(dataset, case_kinds)
    columns = validate_all(dataset.test_case_type, examples, settings.max_test_case_bytes, (field,))
    async with db.write() as conn:
        version = await _NewVersion.open(conn, dataset.id)
        ids = await version.append(conn, columns)
        return AddedCases(await version.close(conn), tuple(ids))


# Freeplay's bulk routes take at most this many test cases per request.
MAX_BULK = 100


async def bulk_add_test_cases(
    db: Database,
    principal: Principal,
    project_id: str,
    dataset_id: str,
    examples: list[Any],
    kind: TestCaseType | None = None,
    case_kinds: Iterable[TestCaseType] = (),
) -> tuple[Dataset, list[StoredTestCase]]:
    """Add up to ``MAX_BULK`` cases in one new version; the dataset and the cases made, in
    the order given."""
    _check_count("data", len(examples), MAX_BULK)
    added = await add_test_cases(
        db, principal, project_id, dataset_id, examples, kind, "data", case_kinds
    )
    dataset = await get_dataset(db, principal, project_id, dataset_id)
    made = await cases_by_id(db, dataset.id, added.version.number, list(added.case_ids))
    return dataset, [made[case_id] for case_id in added.case_ids]


async def get_test_case(
    db: Database,
    principal: Principal,
    project_id: str,
    dataset_id: str,
    case_id: str,
    kind: TestCaseType | None = None,
) -> tuple[Dataset, StoredTestCase]:
    """One case of the dataset's latest version."""
    async with db.read() as conn:
        dataset = await dataset_in_project(conn, principal, project_id, dataset_id, kind)
    cid = canonical_id(case_id)
    found = await cases_by_id(db, dataset.id, dataset.version, [cid] if cid else [])
    if cid not in found:
        raise NotFound(f"test case {case_id} not found in this dataset")
    return dataset, found[cid]


async def _current_revisions(
    conn: AsyncConnection, dataset_id: str, case_ids: list[str]
) -> dict[str, Any]:
    canonical = {cid for cid in map(canonical_id, case_ids) if cid}
    rows = await conn.execute(
        select(*REVISION_COLUMNS).where(
            TestCaseRow.dataset_id == dataset_id,
            TestCaseRow.id.in_(canonical),
            TestCaseRow.valid_to.is_(None),
        )
    )
    found = {row.id: row for row in rows}
    missing = [c for c in case_ids if canonical_id(c) not in found]
    if missing:
        raise NotFound(f"test case {missing[0]} not found in this dataset")
    return found


async def _close_revision(conn: AsyncConnection, dataset_id: str, row: Any, version: int) -> None:
    """The revision ``row`` stops being visible from ``version`` on."""
    await conn.execute(
        update(TestCaseRow)
        .where(
            TestCaseRow.dataset_id == dataset_id,
            TestCaseRow.position == row.position,
            TestCaseRow.valid_from == row.valid_from,
        )
        .values(valid_to=version)
    )


async def update_test_case(
    db: Database,
    principal: Principal,
    project_id: str,
    dataset_id: str,
    case_id: str,
    changes: dict[str, Any],
    kind: TestCaseType | None = None,
    case_kinds: Iterable[TestCaseType] = (),
) -> EditedCase:
    """Change some keys of one case (the example keys of its kind), as a new version;
    ``kind`` and ``case_kinds`` as for ``add_test_cases``."""
    async with db.write() as conn:
        dataset = await dataset_in_project(conn, principal, project_id, dataset_id, kind)
        check_case_kinds(dataset, case_kinds)
        if not changes:
            raise InvalidInput("nothing to change: give at least one test case key")
        version = await _NewVersion.open(conn, dataset.id)
        (current,) = (await _current_revisions(conn, dataset.id, [case_id])).values()
        example = {**from_columns(dataset.test_case_type, current), **changes}
        try:
            columns = to_columns(dataset.test_case_type, example, db.settings.max_test_case_bytes)
        except ExampleError as error:
            raise invalid([FieldError(error.loc, error.msg)]) from error
        await _close_revision(conn, dataset.id, current, version.number)
        await conn.execute(
            TestCaseRow.__table__.insert().values(
                **columns,
                dataset_id=dataset.id,
                position=current.position,
                valid_from=version.number,
                id=current.id,
                created_at=version.created_at,
            )
        )
        version.edited = 1
        info = await version.close(conn)
        [case] = await read_cases(
            conn,
            dataset.id,
            version.number,
            after_position=current.position - 1,
            limit=1,
        )
        return EditedCase(dataset, info, case)


async def delete_test_cases(
    db: Database,
    principal: Principal,
    project_id: str,
    dataset_id: str,
    case_ids: list[str],
    kind: TestCaseType | None = None,
    limit: int | None = None,
) -> DatasetVersion:
    """Remove cases from the dataset as one new version (runs made earlier keep them): all
    of them, or none when one is not a case of the dataset. At most ``limit`` ids when
    given (``MAX_BULK`` for Freeplay's bulk routes)."""
    if not case_ids:
        raise InvalidInput.at(("test_case_ids",), "name at least one test case to delete")
    if limit is not None:
        _check_count("test_case_ids", len(case_ids), limit)
    async with db.write() as conn:
        dataset = await dataset_in_project(conn, principal, project_id, dataset_id, kind)
        version = await _NewVersion.open(conn, dataset.id)
        current = await _current_revisions(conn, dataset.id, case_ids)
        for row in current.values():
            await _close_revision(conn, dataset.id, row, version.number)
        version.deleted = len(current)
        version.case_count -= len(current)
        return await version.close(conn)


# ---- bulk import and export --------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    version: DatasetVersion
    rows: int


async def import_checked(
    db: Database,
    principal: Principal,
    project_id: str,
    dataset_id: str,
    kind: TestCaseType,
    chunks: AsyncIterator[tuple[list[CheckedRow] | ScratchRows, list[FieldError]]],
    *,
    on_progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Stream chunks of checked rows (``examples.check_chunk``, for datasets of ``kind``;
    given as a list or in a scratch file) into one new version: every row, or none.

    Chunks are inserted one by one inside one transaction, so memory stays flat however long
    the file is, and a failed or interrupted import leaves the dataset as it was. After the
    first problem nothing more is inserted, but chunks are still taken in to report up to
    ``MAX_REPORTED_ERRORS`` problems. A chunk is inserted in the driver (SQLite's thread, or
    PostgreSQL's COPY) while the next one is awaited, so the two run side by side.
    """
    async with db.write() as conn:
        dataset = await dataset_in_project(conn, principal, project_id, dataset_id)
        if dataset.test_case_type is not kind:
            raise InvalidInput(f"the rows were checked as {kind} test cases")
        version = await _NewVersion.open(conn, dataset.id)
        inserter = await VersionInserter.open(conn, dataset.id, version.number, version.created_at)
        errors: list[FieldError] = []
        inserting: asyncio.Future[None] | None = None
        async for rows, problems in chunks:
            if inserting is not None:
                await inserting
                inserting = None
            errors.extend(problems[: MAX_REPORTED_ERRORS - len(errors)])
            if errors:
                if len(errors) >= MAX_REPORTED_ERRORS:
                    break
                continue
            inserting = asyncio.ensure_future(inserter.insert(version.next_position, rows))
            await asyncio.sleep(0)  # hand the rows to the driver before taking in more
            version.appended(len(rows))
            if on_progress is not None:
                on_progress(version.added)
        if inserting is not None:
            await inserting
        if errors:
            raise invalid(errors)
        if version.added == 0:
            raise InvalidInput("the file holds no test cases")
        return ImportResult(await version.close(conn), version.added)


async def import_cases(
    db: Database,
    principal: Principal,
    project_id: str,
    dataset_id: str,
    records: Iterable[tuple[int, Any]],
    *,
    decode: Callable[[Any], Any] | None = None,
    on_progress: Callable[[int], None] | None = None,
    executor: Executor | None = None,
) -> ImportResult:
    """Stream ``(line number, record)`` pairs into one new version: every row, or none.

    Records are decoded (with ``decode``, when given) and checked chunk by chunk; given a
    process ``executor``, the next chunks are checked there while this process inserts.
    """
    async with db.read() as conn:
        dataset = await dataset_in_project(conn, principal, project_id, dataset_id)
    kind, max_bytes = dataset.test_case_type, db.settings.max_test_case_bytes
    loop = asyncio.get_running_loop()

    def check(chunk: list[tuple[int, Any]]) -> Awaitable[Checked]:
        job = partial(check_chunk, kind, max_bytes, decode, chunk)
        if executor is not None:
            return loop.run_in_executor(executor, job)
        done: asyncio.Future[Checked] = loop.create_future()
        done.set_result(job())
        return done

    async def checked() -> AsyncIterator[Checked]:
        chunks = iter(_chunks(records, IMPORT_CHUNK))
        checking = deque(check(chunk) for chunk in islice(chunks, CHECKED_AHEAD))
        while checking:
            done = await checking.popleft()
            following = next(chunks, None)
            if following is not None:
                checking.append(check(following))
            yield done

    return await import_checked(
        db, principal, project_id, dataset_id, kind, checked(), on_progress=on_progress
    )


def _chunks(records: Iterable[tuple[int, Any]], size: int) -> Iterable[list[tuple[int, Any]]]:
    chunk: list[tuple[int, Any]] = []
    for record in records:
        chunk.append(record)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def export_examples(
    db: Database,
    principal: Principal,
    project_id: str,
    dataset_id: str,
    version: int | None = None,
    page: int = 1_000,
) -> AsyncIterator[dict[str, Any]]:
    """The examples of a dataset version, in order, in the form ``import_cases`` reads."""
    async with db.read() as conn:
        dataset = await dataset_in_project(conn, principal, project_id, dataset_id)
    at = check_version(dataset, version)
    after: int | None = None
    while True:
        async with db.read() as conn:
            rows = await read_cases(conn, dataset.id, at, after_position=after, limit=page)
        for row in rows:
            yield from_columns(dataset.test_case_type, row)
        if len(rows) < page:
            return
        after = rows[-1].position
