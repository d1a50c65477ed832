"""Identifiers are uuid4 strings in canonical form (lower case, dashed)."""

import uuid
from datetime import UTC, datetime


def new_id() -> str:
    return str(uuid.uuid4())


def canonical_id(value: str) -> str | None:
    """The canonical form of a uuid given in any accepted spelling, or None if it is not one."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        return None


def utcnow() -> datetime:
    return datetime.now(UTC)
