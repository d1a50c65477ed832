"""Datasets and their test cases.

Test cases are immutable revisions; every change to a dataset makes a new version, so a test
run pins a version and reads the same cases forever without copying them.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator
from sqlalchemy import Row, Select, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.engine import Database
from app.db.tables import Dataset as DatasetRow
from app.db.tables import DatasetVersion as DatasetVersionRow
from app.db.tables import TestCase as TestCaseRow
from app.domain.errors import Conflict, FieldError, InvalidInput, NotFound
from app.domain.ids import canonical_id, new_id, utcnow
from app.domain.jsontext import dumps, loads_or_none
from app.domain.keys import Principal
from app.domain.pagination import Page, split_page
from app.domain.projects import visible_project_id
from app.settings import Settings


class TestCaseType(StrEnum):
    COMPLETION = "completion"
    TRACE = "trace"


# ---- what callers send -------------------------------------------------------------------


class TextPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["text"] = "text"
    text: str


class Message(BaseModel):
    """A chat message. ``content`` may be given as a plain string; it is stored as parts."""

    role: str = Field(min_length=1)
    content: list[TextPart]

    @field_validator("content", mode="before")
    @classmethod
    def _string_content(cls, value: Any) -> Any:
        return [{"type": "text", "text": value}] if isinstance(value, str) else value


class CompletionExample(BaseModel):
    """A completion test case as the Freeplay SDK sends it (``inputs`` are its variables)."""

    inputs: dict[str, Any]
    output: str | None = None
    output_message: Message | None = None
    history: list[Message] | None = None
    metadata: dict[str, Any] | None = None
    media_inputs: dict[str, Any] | None = None


class TraceExample(BaseModel):
    """An agent/trace test case: an input (any JSON but null) and an optional output."""

    input: Any = Field(...)
    output: Any = None
    custom_metadata: dict[str, Any] | None = None

    @field_validator("input")
    @classmethod
    def _input_present(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("input is required and may not be null")
        return value


_EXAMPLES = {
    TestCaseType.COMPLETION: TypeAdapter(list[CompletionExample]),
    TestCaseType.TRACE: TypeAdapter(list[TraceExample]),
}


@dataclass(frozen=True)
class NewDataset:
    name: str
    test_case_type: TestCaseType
    description: str = ""
    input_names: tuple[str, ...] = ()
    media_input_names: tuple[str, ...] = ()
    support_history: bool = False
    compatible_agent_ids: tuple[str, ...] = ()


# ---- what callers get back ---------------------------------------------------------------


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


@dataclass(frozen=True)
class DatasetVersion:
    dataset_id: str
    number: int
    created_at: datetime
    added: int
    edited: int
    deleted: int
    case_count: int


@dataclass(frozen=True)
class AddedCases:
    version: DatasetVersion
    case_ids: tuple[str, ...]


class StoredTestCase(Protocol):
    """A test case as read for a response: JSON fields are still their stored text.

    For a trace case ``inputs`` is the trace input and ``metadata`` its custom metadata.
    """

    id: str
    position: int
    inputs: str
    output: str | None
    output_message: str | None
    history: str | None
    metadata: str | None
    media_inputs: str | None


# ---- reading -----------------------------------------------------------------------------

_DATASET_COLUMNS = (
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
)

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


def _select_datasets() -> Select[Any]:
    return (
        select(*_DATASET_COLUMNS)
        .join(
            DatasetVersionRow,
            and_(
                DatasetVersionRow.dataset_id == DatasetRow.id,
                DatasetVersionRow.number == DatasetRow.version,
            ),
        )
        .where(DatasetRow.deleted_at.is_(None))
    )


def _dataset(row: Row[Any]) -> Dataset:
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
    )


def visible_at(version: int) -> Any:
    """The revisions that make up a dataset at ``version``."""
    return and_(
        TestCaseRow.valid_from <= version,
        or_(TestCaseRow.valid_to.is_(None), TestCaseRow.valid_to > version),
    )


async def dataset_in_project(
    conn: AsyncConnection, principal: Principal, project_id: str, dataset_id: str
) -> Dataset:
    pid = await visible_project_id(conn, principal, project_id)
    did = canonical_id(dataset_id)
    row = None
    if did is not None:
        query = _select_datasets().where(DatasetRow.id == did, DatasetRow.project_id == pid)
        row = (await conn.execute(query)).first()
    if row is None:
        raise NotFound(f"dataset {dataset_id} not found")
    return _dataset(row)


async def dataset_named(
    conn: AsyncConnection, principal: Principal, project_id: str, name: str
) -> Dataset:
    pid = await visible_project_id(conn, principal, project_id)
    query = _select_datasets().where(DatasetRow.project_id == pid, DatasetRow.name == name)
    row = (await conn.execute(query)).first()
    if row is None:
        raise NotFound(f"dataset named {name!r} not found")
    return _dataset(row)


async def get_dataset(
    db: Database, principal: Principal, project_id: str, dataset_id: str
) -> Dataset:
    async with db.read() as conn:
        return await dataset_in_project(conn, principal, project_id, dataset_id)


async def get_dataset_by_name(
    db: Database, principal: Principal, project_id: str, name: str
) -> Dataset:
    async with db.read() as conn:
        return await dataset_named(conn, principal, project_id, name)


async def find_dataset(db: Database, principal: Principal, dataset_id: str) -> Dataset:
    """A dataset by id alone, in whichever project the principal may see it."""
    did = canonical_id(dataset_id)
    async with db.read() as conn:
        row = None
        if did is not None:
            row = (await conn.execute(_select_datasets().where(DatasetRow.id == did))).first()
    if row is None or not principal.can_see(row.project_id):
        raise NotFound(f"dataset {dataset_id} not found")
    return _dataset(row)


async def list_datasets(
    db: Database,
    principal: Principal,
    project_id: str,
    *,
    after_name: str | None = None,
    limit: int,
) -> Page[Dataset]:
    """The project's datasets ordered by name, ``limit`` of them after ``after_name``."""
    async with db.read() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        query = _select_datasets().where(DatasetRow.project_id == pid)
        if after_name is not None:
            query = query.where(DatasetRow.name > after_name)
        rows = (await conn.execute(query.order_by(DatasetRow.name).limit(limit + 1))).all()
        total = await conn.scalar(
            select(func.count())
            .select_from(DatasetRow)
            .where(DatasetRow.project_id == pid, DatasetRow.deleted_at.is_(None))
        )
    return split_page([_dataset(r) for r in rows], limit, total or 0)


async def read_cases(
    conn: AsyncConnection,
    dataset_id: str,
    version: int,
    *,
    after_position: int | None = None,
    limit: int | None = None,
) -> list[Any]:
    """The cases of a dataset version in dataset order, as ``StoredTestCase`` rows."""
    query = (
        select(*CASE_COLUMNS)
        .where(TestCaseRow.dataset_id == dataset_id, visible_at(version))
        .order_by(TestCaseRow.position)
    )
    if after_position is not None:
        query = query.where(TestCaseRow.position > after_position)
    if limit is not None:
        query = query.limit(limit)
    return list((await conn.execute(query)).all())


async def list_test_cases(
    db: Database, principal: Principal, project_id: str, dataset_id: str
) -> tuple[Dataset, list[StoredTestCase]]:
    """All of the dataset's current cases."""
    async with db.read() as conn:
        dataset = await dataset_in_project(conn, principal, project_id, dataset_id)
        return dataset, await read_cases(conn, dataset.id, dataset.version)


async def case_page(
    db: Database,
    dataset_id: str,
    version: int,
    case_count: int,
    *,
    after_position: int | None,
    limit: int,
) -> Page[StoredTestCase]:
    """One page of a dataset version's cases. The caller has already checked access."""
    async with db.read() as conn:
        rows = await read_cases(
            conn, dataset_id, version, after_position=after_position, limit=limit + 1
        )
    return split_page(rows, limit, case_count)


# ---- writing -----------------------------------------------------------------------------


def _check_name(name: str) -> None:
    if not name.strip() or len(name) > 200:
        raise InvalidInput.at(("name",), "name must be 1 to 200 characters, not all blank")


async def create_dataset(
    db: Database, principal: Principal, project_id: str, new: NewDataset
) -> Dataset:
    _check_name(new.name)
    now = utcnow()
    dataset_id = new_id()
    async with db.write() as conn:
        pid = await visible_project_id(conn, principal, project_id)
        if await conn.scalar(
            select(DatasetRow.id).where(
                DatasetRow.project_id == pid,
                DatasetRow.name == new.name,
                DatasetRow.deleted_at.is_(None),
            )
        ):
            raise Conflict(f"a dataset named {new.name!r} already exists in this project")
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
            raise Conflict(f"a dataset named {new.name!r} already exists in this project") from exc
        await conn.execute(
            DatasetVersionRow.__table__.insert().values(
                dataset_id=dataset_id, number=0, created_at=now, case_count=0
            )
        )
        return await dataset_in_project(conn, principal, pid, dataset_id)


def _validation_error(exc: ValidationError, prefix: tuple[str | int, ...]) -> InvalidInput:
    errors = [FieldError(prefix + tuple(e["loc"]), e["msg"]) for e in exc.errors()]
    first = errors[0]
    where = ".".join(str(part) for part in first.loc)
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return InvalidInput(f"{where}: {first.msg}{more}", errors)


def _case_values(
    example: CompletionExample | TraceExample, settings: Settings, index: int
) -> dict[str, Any]:
    """The stored columns of one validated example (JSON already serialised)."""
    if isinstance(example, CompletionExample):
        values = {
            "inputs": dumps(example.inputs),
            "output": None if example.output is None else dumps(example.output),
            "output_message": None
            if example.output_message is None
            else dumps(example.output_message.model_dump()),
            "history": None
            if example.history is None
            else dumps([m.model_dump() for m in example.history]),
            "metadata": None if example.metadata is None else dumps(example.metadata),
            "media_inputs": None if example.media_inputs is None else dumps(example.media_inputs),
        }
    else:
        values = {
            "inputs": dumps(example.input),
            "output": None if example.output is None else dumps(example.output),
            "output_message": None,
            "history": None,
            "metadata": None if example.custom_metadata is None else dumps(example.custom_metadata),
            "media_inputs": None,
        }
    size = sum(len(v) for v in values.values() if v is not None)
    if size > settings.max_test_case_bytes:
        raise InvalidInput.at(
            ("examples", index),
            f"test case is {size} bytes of JSON; at most {settings.max_test_case_bytes} allowed",
        )
    return values


def validate_examples(
    test_case_type: TestCaseType, examples: list[Any], settings: Settings
) -> list[dict[str, Any]]:
    """Check examples against the dataset's type and limits; return their stored columns."""
    if not examples:
        raise InvalidInput.at(("examples",), "examples must hold at least one test case")
    if len(examples) > settings.max_cases_per_request:
        raise InvalidInput.at(
            ("examples",),
            f"{len(examples)} test cases in one request; at most "
            f"{settings.max_cases_per_request} allowed",
        )
    try:
        parsed = _EXAMPLES[test_case_type].validate_python(examples)
    except ValidationError as exc:
        raise _validation_error(exc, ("examples",)) from exc
    return [_case_values(example, settings, i) for i, example in enumerate(parsed)]


async def add_test_cases(
    db: Database,
    principal: Principal,
    project_id: str,
    dataset_id: str,
    examples: list[Any],
) -> AddedCases:
    """Add cases in one new version: all of them, or none when any is invalid."""
    dataset = await get_dataset(db, principal, project_id, dataset_id)
    rows = validate_examples(dataset.test_case_type, examples, db.settings)
    async with db.write() as conn:
        return await insert_cases(conn, dataset.id, rows)


async def insert_cases(
    conn: AsyncConnection, dataset_id: str, rows: list[dict[str, Any]]
) -> AddedCases:
    """Append validated case rows to a dataset as one new version (inside a write txn)."""
    now = utcnow()
    bumped = (
        await conn.execute(
            update(DatasetRow)
            .where(DatasetRow.id == dataset_id, DatasetRow.deleted_at.is_(None))
            .values(
                version=DatasetRow.version + 1,
                next_position=DatasetRow.next_position + len(rows),
                updated_at=now,
            )
            .returning(DatasetRow.version, DatasetRow.next_position)
        )
    ).first()
    if bumped is None:
        raise NotFound(f"dataset {dataset_id} not found")
    version, end = bumped
    start = end - len(rows)
    previous = await conn.scalar(
        select(DatasetVersionRow.case_count).where(
            DatasetVersionRow.dataset_id == dataset_id, DatasetVersionRow.number == version - 1
        )
    )
    for offset, row in enumerate(rows):
        row.update(
            dataset_id=dataset_id,
            position=start + offset,
            valid_from=version,
            id=new_id(),
            created_at=now,
        )
    await conn.execute(TestCaseRow.__table__.insert(), rows)
    info = DatasetVersion(
        dataset_id=dataset_id,
        number=version,
        created_at=now,
        added=len(rows),
        edited=0,
        deleted=0,
        case_count=(previous or 0) + len(rows),
    )
    await conn.execute(
        DatasetVersionRow.__table__.insert().values(
            dataset_id=dataset_id,
            number=version,
            created_at=now,
            added=info.added,
            edited=0,
            deleted=0,
            case_count=info.case_count,
        )
    )
    return AddedCases(info, tuple(row["id"] for row in rows))
