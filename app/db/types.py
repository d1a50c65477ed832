"""Column types that behave the same on SQLite and PostgreSQL."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CHAR, DateTime, Dialect, Text
from sqlalchemy.dialects.postgresql import UUID
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
