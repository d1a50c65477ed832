"""Summary statistics of test runs: each evaluation's count, mean or pass rate or
category counts, and latency, tokens and cost."""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.engine import Database
from app.db.tables import ResultScore, TestRunResult
from app.domain.evaluations import Evaluation, EvaluationKind, is_number, projects_evaluations
from app.domain.jsontext import dumps, loads
from app.domain.scores import ScoreSource
from app.domain.test_runs import TestRun


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
    for run_id, latency_ms, prompt_tokens, completion_tokens, cost in rows:
        by_run[run_id].append((latency_ms, prompt_tokens, completion_tokens, cost))
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
