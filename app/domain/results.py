"""Results of a test run: the recorded output of each case and its evaluation scores.

A result is identified by (run, test case, repetition); recording again replaces it, so a
retried or repeated recording never makes a second result. Client scores are the
``eval_results`` a caller sends; auto and human scores name an evaluation of the project.
"""

from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.engine import Database
from app.db.tables import ResultScore, TestRunCase, TestRunResult
from app.db.tables import TestCase as TestCaseRow
from app.db.tables import TestRun as TestRunRow
from app.domain.datasets import (
    CASE_COLUMNS,
    REVISION_COLUMNS,
    StoredTestCase,
    in_run_subset,
    visible_at,
)
from app.domain.errors import InvalidInput, NotFound
from app.domain.evaluations import (
    Evaluation,
    EvaluationKind,
    EvaluationSource,
    check_score,
    is_number,
    project_evaluations,
    projects_evaluations,
)
from app.domain.ids import canonical_id, new_id, utcnow
from app.domain.jsontext import dumps, loads, loads_or_none
from app.domain.keys import Principal
from app.domain.live import run_changed
from app.domain.pagination import Page, Window
from app.domain.scores import Score, ScoreSource, failing_score
from app.domain.test_runs import TestRun, TestRunStatus
from app.domain.text import check_name

MAX_CLIENT_VALUE = 1_000


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


# ---- recording ---------------------------------------------------------------------------


@dataclass
class LockedRun:
    id: str
    project_id: str
    dataset_id: str
    dataset_version: int
    case_count: int
    done_count: int
    status: TestRunStatus
    subset: bool


async def lock_run(
    conn: AsyncConnection, principal: Principal, run_id: str, project_id: str | None = None
) -> LockedRun:
    """The run, locked for this write transaction (results of one run are written in turn,
    so its counters stay exact); NotFound if the principal may not see it. Its subscribers
    hear of the change when the transaction commits."""
    rid = canonical_id(run_id)
    row = None
    if rid is not None:
        row = (
            await conn.execute(
                update(TestRunRow)
                .where(TestRunRow.id == rid)
                .values(done_count=TestRunRow.done_count)
                .returning(
                    TestRunRow.id,
                    TestRunRow.project_id,
                    TestRunRow.dataset_id,
                    TestRunRow.dataset_version,
                    TestRunRow.case_count,
                    TestRunRow.done_count,
                    TestRunRow.status,
                    TestRunRow.case_filter,
                )
            )
        ).first()
    if (
        row is None
        or not principal.can_see(row.project_id)
        or (project_id is not None and canonical_id(project_id) != row.project_id)
    ):
        raise NotFound(f"test run {run_id} not found")
    run_changed(conn, row.id)
    return LockedRun(
        id=row.id,
        project_id=row.project_id,
        dataset_id=row.dataset_id,
        dataset_version=row.dataset_version,
        case_count=row.case_count,
        done_count=row.done_count,
        status=TestRunStatus(row.status),
        subset=row.case_filter is not None,
    )


async def _case_position(conn: AsyncConnection, run: LockedRun, case_id: str) -> tuple[str, int]:
    cid = canonical_id(case_id)
    position = None
    if cid is not None:
        query = select(TestCaseRow.position).where(
            TestCaseRow.dataset_id == run.dataset_id,
            TestCaseRow.id == cid,
            visible_at(run.dataset_version),
        )
        if run.subset:
            query = query.where(
                exists().where(TestRunCase.test_run_id == run.id, TestRunCase.test_case_id == cid)
            )
        position = await conn.scalar(query)
    if cid is None or position is None:
        raise InvalidInput.at(
            ("test_case_id",), f"test case {case_id} is not one of test run {run.id}'s cases"
        )
    return cid, position


def _client_scores(eval_results: object, loc: str) -> list[Score]:
    if not isinstance(eval_results, Mapping):
        raise InvalidInput.at((loc,), f"{loc} must be an object of name: value")
    scores = []
    for name, value in eval_results.items():
        check_name(name, loc)
        if not (
            isinstance(value, bool)
            or is_number(value)
            or (isinstance(value, str) and len(value) <= MAX_CLIENT_VALUE and "\x00" not in value)
        ):
            raise InvalidInput.at(
                (loc, name), f"{loc}.{name} must be true/false, a finite number or a short string"
            )
        scores.append(Score(ScoreSource.CLIENT, name, value))
    return scores


def _evaluation_scores(
    scores: Mapping[str, Any], evaluations: Mapping[str, Evaluation]
) -> list[Score]:
    checked = []
    for evaluation_id, value in scores.items():
        evaluation = evaluations.get(canonical_id(evaluation_id) or "")
        if evaluation is None:
            raise InvalidInput.at(
                ("scores", evaluation_id), f"{evaluation_id} is not an evaluation of this project"
            )
        check_score(evaluation, value, ("scores", evaluation_id))
        checked.append(
            Score(ScoreSource(evaluation.source.value), evaluation.name, value, evaluation.id)
        )
    return checked


def human_feedback_scores(
    feedback: Mapping[str, Any], evaluations: Mapping[str, Evaluation]
) -> list[Score]:
    """The feedback keys that name a human evaluation of the project, as its scores."""
    by_name = {e.name: e for e in evaluations.values() if e.source is EvaluationSource.HUMAN}
    scores = []
    for name, value in feedback.items():
        evaluation = by_name.get(name)
        if evaluation is not None:
            check_score(evaluation, value, ("feedback", name))
            scores.append(Score(ScoreSource.HUMAN, name, value, evaluation.id))
    return scores


async def _replace_scores(conn: AsyncConnection, result_id: str, scores: Iterable[Score]) -> None:
    """Write these scores on the result, replacing any of the same source and name."""
    for score in scores:
        await conn.execute(
            delete(ResultScore).where(
                ResultScore.result_id == result_id,
                ResultScore.source == score.source.value,
                ResultScore.name == score.name,
            )
        )
        await conn.execute(
            ResultScore.__table__.insert().values(
                result_id=result_id,
                source=score.source.value,
                name=score.name,
                evaluation_id=score.evaluation_id,
                value=dumps(score.value),
            )
        )


async def _set_status(conn: AsyncConnection, run: LockedRun, new_case: bool) -> None:
    if new_case:
        run.done_count += 1
    status = run.status
    if status is not TestRunStatus.COMPLETED:
        status = (
            TestRunStatus.COMPLETED if run.done_count >= run.case_count else TestRunStatus.RUNNING
        )
    values: dict[str, Any] = {"done_count": run.done_count, "status": status.value}
    if status is TestRunStatus.COMPLETED and run.status is not TestRunStatus.COMPLETED:
        values["completed_at"] = utcnow()
    run.status = status
    await conn.execute(update(TestRunRow).where(TestRunRow.id == run.id).values(values))


async def write_result(
    conn: AsyncConnection, run: LockedRun, new: NewResult, evaluations: Mapping[str, Evaluation]
) -> str:
    """Record (or replace) one result of a locked run; its id."""
    if not isinstance(new.repetition, int) or not 0 <= new.repetition < 10_000:
        raise InvalidInput.at(("repetition",), "repetition must be a whole number from 0 to 9999")
    case_id, position = await _case_position(conn, run, new.test_case_id)
    scores = _client_scores(new.eval_results, "eval_results") + _evaluation_scores(
        new.scores, evaluations
    )
    scores += [Score(ScoreSource.AUTO, name, value) for name, value in new.judged.items()]
    output = None if new.output is None else _output_json(new.output)
    usage = new.usage or Usage()
    metrics = {
        "latency_ms": usage.latency_ms,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "cost": usage.cost,
    }
    now = utcnow()
    existing = await conn.scalar(
        select(TestRunResult.id).where(
            TestRunResult.test_run_id == run.id,
            TestRunResult.test_case_id == case_id,
            TestRunResult.repetition == new.repetition,
        )
    )
    if existing is not None:
        # Latest wins: the new recording replaces the result and every score of it.
        await conn.execute(
            update(TestRunResult)
            .where(TestRunResult.id == existing)
            .values(output=output, recording_id=new.recording_id, updated_at=now, **metrics)
        )
        await conn.execute(delete(ResultScore).where(ResultScore.result_id == existing))
        result_id, new_case = existing, False
    else:
        new_case = not await conn.scalar(
            select(
                exists().where(
                    TestRunResult.test_run_id == run.id, TestRunResult.test_case_id == case_id
                )
            )
        )
        result_id = new_id()
        await conn.execute(
            TestRunResult.__table__.insert().values(
                id=result_id,
                test_run_id=run.id,
                test_case_id=case_id,
                position=position,
                repetition=new.repetition,
                output=output,
                recording_id=new.recording_id,
                created_at=now,
                updated_at=now,
                **metrics,
            )
        )
    await _replace_scores(conn, result_id, scores)
    await _set_status(conn, run, new_case)
    return result_id


def _output_json(output: Any) -> str:
    text = dumps(output)
    if "\\u0000" in text:
        raise InvalidInput.at(("output",), "output may not contain the NUL character")
    return text


async def record_result(
    db: Database,
    principal: Principal,
    run_id: str,
    new: NewResult,
    *,
    project_id: str | None = None,
) -> Result:
    """Record a case's result in a run (replacing an earlier one of the same repetition)."""
    async with db.write() as conn:
        run = await lock_run(conn, principal, run_id, project_id)
        evaluations = await project_evaluations(conn, run.project_id)
        result_id = await write_result(conn, run, new, evaluations)
        return await load_result(conn, result_id)


async def update_result(
    conn: AsyncConnection,
    run: LockedRun,
    test_case_id: str,
    repetition: int,
    *,
    output: Any = None,
    eval_results: Mapping[str, Any] | None = None,
    feedback: Mapping[str, Any] | None = None,
) -> str | None:
    """Merge a later update (new output, more eval results, human feedback) into an
    existing result; None when the case has no such result yet."""
    case_id, _ = await _case_position(conn, run, test_case_id)
    result_id = await conn.scalar(
        select(TestRunResult.id).where(
            TestRunResult.test_run_id == run.id,
            TestRunResult.test_case_id == case_id,
            TestRunResult.repetition == repetition,
        )
    )
    if result_id is None:
        return None
    scores = _client_scores(eval_results or {}, "eval_results")
    if feedback:
        scores += human_feedback_scores(feedback, await project_evaluations(conn, run.project_id))
    values: dict[str, Any] = {"updated_at": utcnow()}
    if output is not None:
        values["output"] = _output_json(output)
    await conn.execute(update(TestRunResult).where(TestRunResult.id == result_id).values(values))
    await _replace_scores(conn, result_id, scores)
    return result_id


async def score_result(
    db: Database,
    principal: Principal,
    run_id: str,
    test_case_id: str,
    repetition: int,
    evaluation_id: str,
    value: Any,
) -> Result:
    """Add (or replace) one auto or human score on a result that was already recorded."""
    async with db.write() as conn:
        run = await lock_run(conn, principal, run_id)
        case_id, _ = await _case_position(conn, run, test_case_id)
        result_id = await conn.scalar(
            select(TestRunResult.id).where(
                TestRunResult.test_run_id == run.id,
                TestRunResult.test_case_id == case_id,
                TestRunResult.repetition == repetition,
            )
        )
        if result_id is None:
            raise InvalidInput.at(
                ("test_case_id",),
                f"no result is recorded for test case {test_case_id} (repetition {repetition})",
            )
        scores = _evaluation_scores(
            {evaluation_id: value}, await project_evaluations(conn, run.project_id)
        )
        await _replace_scores(conn, result_id, scores)
        await conn.execute(
            update(TestRunResult).where(TestRunResult.id == result_id).values(updated_at=utcnow())
        )
        return await load_result(conn, result_id)


async def complete_run(
    db: Database, principal: Principal, run_id: str, project_id: str | None = None
) -> None:
    """Mark a run completed, whether or not every case has a result."""
    async with db.write() as conn:
        run = await lock_run(conn, principal, run_id, project_id)
        if run.status is not TestRunStatus.COMPLETED:
            await conn.execute(
                update(TestRunRow)
                .where(TestRunRow.id == run.id)
                .values(status=TestRunStatus.COMPLETED.value, completed_at=utcnow())
            )


# ---- reading -----------------------------------------------------------------------------

_RESULT_COLUMNS = (
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


async def _scores_of(conn: AsyncConnection, result_ids: list[str]) -> dict[str, list[Score]]:
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
    row = (await conn.execute(select(*_RESULT_COLUMNS).where(TestRunResult.id == result_id))).one()
    return _result(row, (await _scores_of(conn, [result_id]))[result_id])


async def results_by_id(conn: AsyncConnection, ids: list[str]) -> dict[str, Result]:
    rows = (await conn.execute(select(*_RESULT_COLUMNS).where(TestRunResult.id.in_(ids)))).all()
    scores = await _scores_of(conn, [r.id for r in rows])
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
        select(*_RESULT_COLUMNS, *(c.label(f"case_{c.expression.name}") for c in REVISION_COLUMNS))
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
        rows = (await conn.execute(query.limit(window.limit + 1))).all()
        total = await conn.scalar(count)
        scores = await _scores_of(conn, [r.id for r in rows[: window.limit]])
    pairs = [(_result(r, scores[r.id]), _CaseOf(r)) for r in rows]
    return window.page(pairs, total or 0)


class _CaseOf:
    """The test case columns of a result row, under the names of ``StoredTestCase``."""

    __slots__ = ("_row",)

    def __init__(self, row: Any) -> None:
        self._row = row

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, f"case_{name}")


# ---- summary statistics ------------------------------------------------------------------


@dataclass(frozen=True)
class EvaluationStats:
    name: str
    source: ScoreSource
    kind: EvaluationKind
    count: int
    mean: float | None = None
    min: float | None = None
    max: float | None = None
    pass_count: int | None = None
    pass_rate: float | None = None
    categories: dict[str, int] | None = None
    evaluation_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        stats: dict[str, Any] = {"kind": self.kind.value, "count": self.count}
        if self.kind is EvaluationKind.NUMERIC:
            stats.update(mean=self.mean, min=self.min, max=self.max)
        elif self.kind is EvaluationKind.BOOLEAN:
            stats.update(pass_count=self.pass_count, pass_rate=self.pass_rate)
        else:
            stats["counts"] = self.categories
        if self.evaluation_id is not None:
            stats["evaluation_id"] = self.evaluation_id
        return stats


def percentile(ordered: list[float], fraction: float) -> float | None:
    """The ``fraction`` quantile of sorted values, interpolating between neighbours."""
    if not ordered:
        return None
    at = (len(ordered) - 1) * fraction
    low = int(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


@dataclass(frozen=True)
class UsageStats:
    """Latency, tokens and cost over a run's results that recorded them."""

    count: int
    latency_mean_ms: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    prompt_tokens: int
    completion_tokens: int
    cost: float | None

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "latency_ms": {
                "mean": self.latency_mean_ms,
                "p50": self.latency_p50_ms,
                "p95": self.latency_p95_ms,
            },
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "cost": self.cost,
        }


def usage_stats(rows: Iterable[tuple[Any, Any, Any, Any]]) -> UsageStats:
    """From (latency_ms, prompt_tokens, completion_tokens, cost) of each result."""
    latencies: list[float] = []
    prompt = completion = count = 0
    cost: float | None = None
    for latency, prompt_tokens, completion_tokens, result_cost in rows:
        if latency is None and prompt_tokens is None and completion_tokens is None:
            continue
        count += 1
        if latency is not None:
            latencies.append(float(latency))
        prompt += prompt_tokens or 0
        completion += completion_tokens or 0
        if result_cost is not None:
            cost = (cost or 0.0) + float(result_cost)
    latencies.sort()
    return UsageStats(
        count=count,
        latency_mean_ms=sum(latencies) / len(latencies) if latencies else None,
        latency_p50_ms=percentile(latencies, 0.5),
        latency_p95_ms=percentile(latencies, 0.95),
        prompt_tokens=prompt,
        completion_tokens=completion,
        cost=cost,
    )


async def run_usage(conn: AsyncConnection, run_id: str) -> UsageStats:
    return (await runs_usage(conn, [run_id]))[run_id]


async def runs_usage(conn: AsyncConnection, run_ids: list[str]) -> dict[str, UsageStats]:
    """Usage statistics of each of these runs, in one statement."""
    rows = await conn.execute(
        select(
            TestRunResult.test_run_id,
            TestRunResult.latency_ms,
            TestRunResult.prompt_tokens,
            TestRunResult.completion_tokens,
            TestRunResult.cost,
        ).where(
            TestRunResult.test_run_id.in_(run_ids),
            or_(
                TestRunResult.latency_ms.is_not(None),
                TestRunResult.prompt_tokens.is_not(None),
                TestRunResult.completion_tokens.is_not(None),
            ),
        )
    )
    by_run: dict[str, list[tuple[Any, Any, Any, Any]]] = defaultdict(list)
    for run_id, *usage in rows:
        by_run[run_id].append(tuple(usage))  # type: ignore[arg-type]
    return {run_id: usage_stats(by_run[run_id]) for run_id in run_ids}


@dataclass(frozen=True)
class Summary:
    auto: list[EvaluationStats]
    human: list[EvaluationStats]
    client: list[EvaluationStats]
    usage: UsageStats | None = None

    def as_dict(self) -> dict[str, Any]:
        """The ``summary_statistics`` object of the REST API (the Freeplay SDK reads it);
        ``usage`` (ours) when results recorded latency or tokens."""
        summary: dict[str, Any] = {
            "auto_evaluation": {s.name: s.as_dict() for s in self.auto},
            "human_evaluation": {s.name: s.as_dict() for s in self.human},
            "client_evaluation": {s.name: s.as_dict() for s in self.client},
        }
        if self.usage is not None and self.usage.count:
            summary["usage"] = self.usage.as_dict()
        return summary


def infer_kind(values: list[Any]) -> EvaluationKind:
    """The kind of a client evaluation, from the values callers sent for it."""
    if values and all(isinstance(v, bool) for v in values):
        return EvaluationKind.BOOLEAN
    if values and all(is_number(v) for v in values):
        return EvaluationKind.NUMERIC
    return EvaluationKind.CATEGORY


def stats_of(
    name: str,
    source: ScoreSource,
    kind: EvaluationKind,
    values: list[Any],
    evaluation: Evaluation | None = None,
) -> EvaluationStats:
    count = len(values)
    evaluation_id = evaluation.id if evaluation else None
    if kind is EvaluationKind.NUMERIC:
        numbers = [float(v) for v in values]
        return EvaluationStats(
            name,
            source,
            kind,
            count,
            mean=sum(numbers) / count if count else None,
            min=min(numbers) if numbers else None,
            max=max(numbers) if numbers else None,
            evaluation_id=evaluation_id,
        )
    if kind is EvaluationKind.BOOLEAN:
        passed = sum(1 for v in values if v is True)
        return EvaluationStats(
            name,
            source,
            kind,
            count,
            pass_count=passed,
            pass_rate=passed / count if count else None,
            evaluation_id=evaluation_id,
        )
    counts = dict.fromkeys(evaluation.categories if evaluation else [], 0)
    for value in values:
        key = value if isinstance(value, str) else dumps(value)
        counts[key] = counts.get(key, 0) + 1
    return EvaluationStats(
        name, source, kind, count, categories=counts, evaluation_id=evaluation_id
    )


async def summarize(db: Database, run: TestRun) -> Summary:
    """Statistics of every evaluation scored in the run (and every targeted one)."""
    return (await summarize_runs(db, [run]))[0]


async def summarize_runs(db: Database, runs: list[TestRun]) -> list[Summary]:
    """``summarize`` for each of these runs, with the same few statements for any number."""
    values: dict[str, dict[tuple[ScoreSource, str], list[Any]]] = defaultdict(dict)
    evaluation_of: dict[str, dict[tuple[ScoreSource, str], str | None]] = defaultdict(dict)
    async with db.read() as conn:
        rows = await conn.execute(
            select(
                TestRunResult.test_run_id,
                ResultScore.source,
                ResultScore.name,
                ResultScore.value,
                ResultScore.evaluation_id,
            )
            .join(TestRunResult, TestRunResult.id == ResultScore.result_id)
            .where(TestRunResult.test_run_id.in_([run.id for run in runs]))
        )
        for run_id, source, name, value, evaluation_id in rows:
            key = (ScoreSource(source), name)
            values[run_id].setdefault(key, []).append(loads(value))
            evaluation_of[run_id][key] = evaluation_id
        evaluations = await projects_evaluations(conn, list({run.project_id for run in runs}))
        usage = await runs_usage(conn, [run.id for run in runs])
    return [
        _summary(run, values[run.id], evaluation_of[run.id], evaluations, usage[run.id])
        for run in runs
    ]


def _summary(
    run: TestRun,
    values: dict[tuple[ScoreSource, str], list[Any]],
    evaluation_of: dict[tuple[ScoreSource, str], str | None],
    evaluations: Mapping[str, Evaluation],
    usage: UsageStats,
) -> Summary:
    for evaluation_id in run.target_evaluation_ids:
        evaluation = evaluations.get(evaluation_id)
        if evaluation is not None:
            key = (ScoreSource(evaluation.source.value), evaluation.name)
            values.setdefault(key, [])
            evaluation_of[key] = evaluation.id
    by_source: dict[ScoreSource, list[EvaluationStats]] = defaultdict(list)
    for (source, name), scored in sorted(values.items()):
        evaluation = evaluations.get(evaluation_of.get((source, name)) or "")
        kind = evaluation.kind if evaluation else infer_kind(scored)
        by_source[source].append(stats_of(name, source, kind, scored, evaluation))
    return Summary(
        auto=by_source[ScoreSource.AUTO],
        human=by_source[ScoreSource.HUMAN],
        client=by_source[ScoreSource.CLIENT],
        usage=usage,
    )


# ---- export ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportRow:
    """One case of a run (one repetition of it, when several were recorded)."""

    test_case_id: str
    repetition: int | None
    inputs: Any
    expected_output: Any
    output: Any
    scores: dict[str, dict[str, Any]]  # source → name → value
    usage: Usage | None = None

    def as_dict(self) -> dict[str, Any]:
        usage = self.usage or Usage()
        return {
            "test_case_id": self.test_case_id,
            "repetition": self.repetition,
            "inputs": self.inputs,
            "expected_output": self.expected_output,
            "output": self.output,
            "scores": self.scores,
            "latency_ms": usage.latency_ms,
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "cost": usage.cost,
        }


async def export_dicts(db: Database, run: TestRun) -> AsyncIterator[dict[str, Any]]:
    async for row in export_rows(db, run):
        yield row.as_dict()


async def export_rows(db: Database, run: TestRun, page: int = 500) -> AsyncIterator[ExportRow]:
    """Every case of the run in dataset order with its results, a page at a time."""
    after: int | None = None
    while True:
        async with db.read() as conn:
            query = (
                select(*CASE_COLUMNS)
                .where(TestCaseRow.dataset_id == run.dataset_id, visible_at(run.dataset_version))
                .order_by(TestCaseRow.position)
                .limit(page)
            )
            if run.subset_of is not None:
                query = query.where(in_run_subset(run.subset_of))
            if after is not None:
                query = query.where(TestCaseRow.position > after)
            cases = (await conn.execute(query)).all()
            results = (
                await conn.execute(
                    select(*_RESULT_COLUMNS)
                    .where(
                        TestRunResult.test_run_id == run.id,
                        TestRunResult.test_case_id.in_([c.id for c in cases]),
                    )
                    .order_by(TestRunResult.position, TestRunResult.repetition)
                )
            ).all()
            scores = await _scores_of(conn, [r.id for r in results])
        by_case: dict[str, list[Any]] = defaultdict(list)
        for result in results:
            by_case[result.test_case_id].append(result)
        for case in cases:
            expected = loads_or_none(case.output)
            recorded = by_case.get(case.id) or [None]
            for result in recorded:
                grouped: dict[str, dict[str, Any]] = {}
                for score in scores.get(result.id, []) if result else []:
                    grouped.setdefault(score.source.value, {})[score.name] = score.value
                yield ExportRow(
                    test_case_id=case.id,
                    repetition=None if result is None else result.repetition,
                    inputs=loads(case.inputs),
                    expected_output=expected,
                    output=None if result is None else loads_or_none(result.output),
                    scores=grouped,
                    usage=None
                    if result is None
                    else Usage(
                        result.latency_ms,
                        result.prompt_tokens,
                        result.completion_tokens,
                        result.cost,
                    ),
                )
        if len(cases) < page:
            return
        after = cases[-1].position


async def score_columns(db: Database, run: TestRun) -> list[tuple[str, str]]:
    """Every (source, evaluation name) scored in the run, in a stable order."""
    async with db.read() as conn:
        rows = await conn.execute(
            select(ResultScore.source, ResultScore.name)
            .join(TestRunResult, TestRunResult.id == ResultScore.result_id)
            .where(TestRunResult.test_run_id == run.id)
            .distinct()
        )
        return sorted((source, name) for source, name in rows)
