"""Results of a test run: what a result is, and reading them back.

A result is identified by (run, test case, repetition); recording again replaces it, so a
retried or repeated recording never makes a second result. Client scores are the
``eval_results`` a caller sends; auto and human scores name an evaluation of the project.
Writing results is in ``result_recording``, their statistics in ``result_statistics`` and
the export of a run in ``result_export``.
"""

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.engine import Database
from app.db.tables import ResultScore, TestRunResult
from app.db.tables import TestCase as TestCaseRow
from app.domain.datasets import REVISION_COLUMNS, StoredTestCase, visible_at
from app.domain.ids import canonical_id
from app.domain.jsontext import loads
from app.domain.pagination import Page, Window
from app.domain.scores import Score, ScoreSource, failing_score
from app.domain.test_runs import TestRun


@dataclass(frozen=True)
class Usage:
    """What producing an output cost: time, tokens and money (each when known)."""

    latency_ms: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost: float | None = None


@dataclass(frozen=True)
class NewResult:
    """What a recording says about one case of a run."""

    test_case_id: str
    repetition: int = 0
    output: Any = None
    # Any JSON value a client sent: checked (an object of name: value) when recorded.
    eval_results: object = field(default_factory=dict)
    # Evaluation id → value, for the project's auto and human evaluations.
    scores: Mapping[str, Any] = field(default_factory=dict)
    recording_id: str | None = None
    # Name → value, scored by the server's LLM judges (criteria, not evaluations).
    judged: Mapping[str, Any] = field(default_factory=dict)
    usage: Usage | None = None


@dataclass(frozen=True)
class Result:
    id: str
    test_run_id: str
    test_case_id: str
    position: int
    repetition: int
    output: str | None  # JSON text
    recording_id: str | None
    scores: tuple[Score, ...]
    created_at: datetime
    updated_at: datetime
    usage: "Usage | None" = None


@dataclass(frozen=True)
class ResultFilter:
    """Which results to list. With ``evaluation``, only results scored on it, and of those
    only the ones that ``passed`` (boolean) or scored ``below`` a number, when given."""

    test_case_ids: tuple[str, ...] | None = None
    evaluation: str | None = None
    passed: bool | None = None
    below: float | None = None


RESULT_COLUMNS = (
    TestRunResult.id,
    TestRunResult.test_run_id,
    TestRunResult.test_case_id,
    TestRunResult.position,
    TestRunResult.repetition,
    TestRunResult.output,
    TestRunResult.recording_id,
    TestRunResult.created_at,
    TestRunResult.updated_at,
    TestRunResult.latency_ms,
    TestRunResult.prompt_tokens,
    TestRunResult.completion_tokens,
    TestRunResult.cost,
)


async def scores_of(conn: AsyncConnection, result_ids: list[str]) -> dict[str, list[Score]]:
    scores: dict[str, list[Score]] = defaultdict(list)
    if not result_ids:
        return scores
    rows = await conn.execute(
        select(ResultScore)
        .where(ResultScore.result_id.in_(result_ids))
        .order_by(ResultScore.source, ResultScore.name)
    )
    for row in rows:
        scores[row.result_id].append(
            Score(ScoreSource(row.source), row.name, loads(row.value), row.evaluation_id)
        )
    return scores


def _result(row: Any, scores: list[Score]) -> Result:
    return Result(
        id=row.id,
        test_run_id=row.test_run_id,
        test_case_id=row.test_case_id,
        position=row.position,
        repetition=row.repetition,
        output=row.output,
        recording_id=row.recording_id,
        scores=tuple(scores),
        created_at=row.created_at,
        updated_at=row.updated_at,
        usage=Usage(row.latency_ms, row.prompt_tokens, row.completion_tokens, row.cost),
    )


async def load_result(conn: AsyncConnection, result_id: str) -> Result:
    row = (await conn.execute(select(*RESULT_COLUMNS).where(TestRunResult.id == result_id))).one()
    return _result(row, (await scores_of(conn, [result_id]))[result_id])


async def results_by_id(conn: AsyncConnection, ids: list[str]) -> dict[str, Result]:
    rows = (await conn.execute(select(*RESULT_COLUMNS).where(TestRunResult.id.in_(ids)))).all()
    scores = await scores_of(conn, [r.id for r in rows])
    return {r.id: _result(r, scores[r.id]) for r in rows}


async def result_page(
    db: Database,
    run: TestRun,
    *,
    window: Window[tuple[int, int]],
    where: ResultFilter = ResultFilter(),
) -> Page[tuple[Result, StoredTestCase]]:
    """Results in dataset order (then repetition), each with its test case: a keyset
    ``window`` of (position, repetition) keys."""
    query = (
        select(*RESULT_COLUMNS, *(c.label(f"case_{c.expression.name}") for c in REVISION_COLUMNS))
        .join(
            TestCaseRow,
            and_(
                TestCaseRow.dataset_id == run.dataset_id,
                TestCaseRow.id == TestRunResult.test_case_id,
                visible_at(run.dataset_version),
            ),
        )
        .where(TestRunResult.test_run_id == run.id)
        .order_by(
            *(
                (TestRunResult.position.desc(), TestRunResult.repetition.desc())
                if window.backward
                else (TestRunResult.position, TestRunResult.repetition)
            )
        )
    )
    count = (
        select(func.count()).select_from(TestRunResult).where(TestRunResult.test_run_id == run.id)
    )
    async with db.read() as conn:
        conditions: list[ColumnElement[bool]] = []
        if where.test_case_ids is not None:
            ids = [i for i in map(canonical_id, where.test_case_ids) if i]
            conditions.append(TestRunResult.test_case_id.in_(ids))
        if where.evaluation is not None:
            conditions.append(
                exists().where(
                    ResultScore.result_id == TestRunResult.id,
                    failing_score(conn, where.evaluation, passed=where.passed, below=where.below),
                )
            )
        for condition in conditions:
            query = query.where(condition)
            count = count.where(condition)
        if window.after is not None:
            position, repetition = window.after
            query = query.where(
                or_(
                    TestRunResult.position > position,
                    and_(TestRunResult.position == position, TestRunResult.repetition > repetition),
                )
            )
        if window.before is not None:
            position, repetition = window.before
            query = query.where(
                or_(
                    TestRunResult.position < position,
                    and_(TestRunResult.position == position, TestRunResult.repetition < repetition),
                )
            )
        # Result columns, then the case's: read by position, so typed as any columns.
        rows: Sequence[Row[*tuple[Any, ...]]] = (
            await conn.execute(query.limit(window.limit + 1))
        ).all()
        total = await conn.scalar(count)
        scores = await scores_of(conn, [r.id for r in rows[: window.limit]])
    cases = len(RESULT_COLUMNS)
    pairs: list[tuple[Result, StoredTestCase]] = [
        (_result(r, scores[r.id]), ResultCase(*r[cases:])) for r in rows
    ]
    return window.page(pairs, total or 0)


@dataclass(slots=True)
class ResultCase:
    """The test case revision a result belongs to, read with the result: a
    ``StoredTestCase`` whose values iterate in ``REVISION_COLUMNS`` order."""

    id: str
    position: int
    inputs: str
    output: str | None
    output_message: str | None
    history: str | None
    metadata: str | None
    media_inputs: str | None
    valid_from: int

    def __iter__(self) -> Iterator[Any]:
        return iter(
            (
                self.id,
                self.position,
                self.inputs,
                self.output,
                self.output_message,
                self.history,
                self.metadata,
                self.media_inputs,
                self.valid_from,
            )
        )
