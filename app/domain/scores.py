"""Evaluation scores as stored: JSON values, kept one row per (result, source, name)."""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, Text, and_, cast, func
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.tables import ResultScore
from app.domain.jsontext import dumps


class ScoreSource(StrEnum):
    CLIENT = "client"
    AUTO = "auto"
    HUMAN = "human"


@dataclass(frozen=True)
class Score:
    source: ScoreSource
    name: str
    value: Any
    evaluation_id: str | None = None


def _json_number_below(conn: AsyncConnection, column: Any, limit: float) -> Any:
    if conn.dialect.name == "sqlite":
        return and_(func.json_type(column).in_(("integer", "real")), cast(column, Float) < limit)
    return and_(func.jsonb_typeof(column) == "number", cast(cast(column, Text), Float) < limit)


def failing_score(
    conn: AsyncConnection, name: str, *, passed: bool | None, below: float | None
) -> Any:
    """A condition on ``ResultScore`` rows: scored on ``name`` and, when given, passed or not
    (a boolean score) or below a number (a numeric one)."""
    condition = ResultScore.name == name
    if passed is not None:
        condition = and_(condition, ResultScore.value == dumps(passed))
    if below is not None:
        condition = and_(condition, _json_number_below(conn, ResultScore.value, below))
    return condition
