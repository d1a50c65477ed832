"""Column types, and a SQL function, that behave the same on SQLite and PostgreSQL."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CHAR, DateTime, Dialect, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator, TypeEngine


class _JSONB(TypeEngine[str]):
    """PostgreSQL JSONB without SQLAlchemy's (de)serialisation: text in, text out."""

    __visit_name__ = "JSONB"


class JSONText(TypeDecorator[str]):
    """A JSON document kept as its text: TEXT on SQLite, JSONB on PostgreSQL.

    The domain serialises a value once when it is written; reads hand the text through
    untouched, so a response can embed stored JSON without parsing it again.
    """

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return _JSONB()
        return dialect.type_descriptor(Text())


class UUIDText(TypeDecorator[str]):
    """A uuid as its canonical lower-case dashed string: native UUID on PostgreSQL."""

    impl = CHAR(36)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(UUID(as_uuid=False))
        return dialect.type_descriptor(CHAR(36))


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps are always aware and in UTC (SQLite keeps no offset, so we restore it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class joined_ids(FunctionElement[str]):
    """The values of an id column over a group, joined by commas in no particular order:
    ``group_concat`` on SQLite, ``string_agg`` on PostgreSQL. Ids hold no commas."""

    type = Text()
    inherit_cache = True


@compiles(joined_ids, "sqlite")
def _joined_ids_sqlite(element: joined_ids, compiler: SQLCompiler, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"


@compiles(joined_ids, "postgresql")
def _joined_ids_postgres(element: joined_ids, compiler: SQLCompiler, **kw: Any) -> str:
    return f"string_agg(CAST({compiler.process(element.clauses, **kw)} AS TEXT), ',')"
