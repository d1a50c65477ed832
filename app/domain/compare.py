"""Comparing two runs of one dataset, case by case.

For every evaluation scored in both runs, each shared case gives one paired difference
(candidate minus base; a boolean counts 1 for pass, 0 for fail; repetitions of a case are
averaged first). The mean difference comes with a 95% confidence interval from Student's t
distribution, and with how many cases improved (wins), stayed (ties) or got worse (losses).

Better is the evaluation's (or criterion's) direction: higher by default, lower when it
says so; wins and losses follow it. An evaluation **regressed** when its confidence interval
lies entirely on the worse side of zero, or, for a pass/fail one, when McNemar's exact test
finds the cases that went from pass to fail significantly more than the reverse (p < 0.05).
"""

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.db.engine import Database
from app.db.tables import ResultScore, TestRunResult
from app.domain.criteria import score_directions
from app.domain.errors import InvalidInput
from app.domain.evaluations import Direction, EvaluationKind, is_number
from app.domain.jsontext import loads, loads_or_none
from app.domain.keys import Principal
from app.domain.result_statistics import UsageStats, infer_kind, run_usage
from app.domain.scores import ScoreSource
from app.domain.test_runs import TestRun, get_test_run

# Two-sided 95% critical values of Student's t for 1..30 degrees of freedom.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t_critical(df: int) -> float:
    """The 97.5th percentile of Student's t with ``df`` degrees of freedom."""
    if df < 1:
        raise ValueError("at least one degree of freedom")
    if df <= len(_T975):
        return _T975[df - 1]
    # Cornish-Fisher expansion around the normal quantile; within 1e-4 beyond 30.
    z = statistics.NormalDist().inv_cdf(0.975)
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
    )


SIGNIFICANCE = 0.05


def mcnemar_p(worse: int, better: int) -> float:
    """Two-sided exact McNemar p-value for ``worse`` and ``better`` discordant pairs."""
    n = worse + better
    if n == 0:
        return 1.0
    outcomes: int = 2**n
    tail = sum(math.comb(n, k) for k in range(min(worse, better) + 1)) / outcomes
    return min(1.0, 2 * tail)


@dataclass(frozen=True)
class EvaluationDelta:
    name: str
    source: ScoreSource
    kind: EvaluationKind
    pairs: int
    base_mean: float | None
    candidate_mean: float | None
    mean_delta: float | None
    ci_low: float | None
    ci_high: float | None
    wins: int
    ties: int
    losses: int
    direction: Direction = Direction.HIGHER
    # McNemar's exact p-value, for a pass/fail evaluation.
    p_value: float | None = None

    @property
    def regressed(self) -> bool:
        """Significantly worse: the interval is all on the worse side of zero, or (pass/fail)
        McNemar's test says the candidate fails significantly more cases."""
        if self.pairs < 2:
            return False
        if self.direction is Direction.HIGHER:
            ci_worse = self.ci_high is not None and self.ci_high < 0
        else:
            ci_worse = self.ci_low is not None and self.ci_low > 0
        test_worse = (
            self.p_value is not None and self.p_value < SIGNIFICANCE and self.losses > self.wins
        )
        return ci_worse or test_worse


@dataclass(frozen=True)
class ScoreChange:
    name: str
    source: ScoreSource
    base: float
    candidate: float
    direction: Direction = Direction.HIGHER

    @property
    def delta(self) -> float:
        return self.candidate - self.base

    @property
    def gain(self) -> float:
        """The change in the better direction: positive is an improvement."""
        return self.delta if self.direction is Direction.HIGHER else -self.delta


@dataclass(frozen=True)
class CaseChange:
    """A shared case whose scores moved: worse on some evaluation (a regression) or better."""

    test_case_id: str
    base_output: Any
    candidate_output: Any
    changes: tuple[ScoreChange, ...]


@dataclass(frozen=True)
class Comparison:
    base: TestRun
    candidate: TestRun
    shared_cases: int
    evaluations: list[EvaluationDelta]
    regressions: list[CaseChange]
    improvements: list[CaseChange]
    base_usage: UsageStats | None = None
    candidate_usage: UsageStats | None = None

    @property
    def regressed(self) -> list[EvaluationDelta]:
        """The evaluations on which the candidate is significantly worse."""
        return [e for e in self.evaluations if e.regressed]


def paired_delta(
    name: str,
    source: ScoreSource,
    kind: EvaluationKind,
    pairs: list[tuple[float, float]],
    direction: Direction = Direction.HIGHER,
) -> EvaluationDelta:
    """The statistics of ``(base, candidate)`` pairs."""
    deltas = [candidate - base for base, candidate in pairs]
    sign = 1 if direction is Direction.HIGHER else -1
    n = len(deltas)
    mean = statistics.fmean(deltas) if n else None
    low = high = None
    if n >= 2 and mean is not None:
        half = t_critical(n - 1) * statistics.stdev(deltas) / math.sqrt(n)
        low, high = mean - half, mean + half
    elif n == 1:
        low = high = mean
    return EvaluationDelta(
        name=name,
        source=source,
        kind=kind,
        pairs=n,
        base_mean=statistics.fmean(b for b, _ in pairs) if n else None,
        candidate_mean=statistics.fmean(c for _, c in pairs) if n else None,
        mean_delta=mean,
        ci_low=low,
        ci_high=high,
        wins=sum(1 for d in deltas if sign * d > 0),
        ties=sum(1 for d in deltas if d == 0),
        losses=sum(1 for d in deltas if sign * d < 0),
        direction=direction,
        p_value=mcnemar_p(
            sum(1 for d in deltas if sign * d < 0), sum(1 for d in deltas if sign * d > 0)
        )
        if kind is EvaluationKind.BOOLEAN
        else None,
    )


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    return float(value) if is_number(value) else None


async def _run_scores(
    db: Database, run: TestRun
) -> tuple[dict[tuple[ScoreSource, str], dict[str, list[Any]]], dict[str, Any]]:
    """Scores by (source, name) → case → values; and each case's output (repetition 0 or
    the lowest recorded)."""
    async with db.read() as conn:
        rows = await conn.execute(
            select(
                TestRunResult.test_case_id,
                ResultScore.source,
                ResultScore.name,
                ResultScore.value,
            )
            .join(ResultScore, ResultScore.result_id == TestRunResult.id)
            .where(TestRunResult.test_run_id == run.id)
        )
        scores: dict[tuple[ScoreSource, str], dict[str, list[Any]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for case_id, source, name, value in rows:
            scores[(ScoreSource(source), name)][case_id].append(loads(value))
        outputs: dict[str, Any] = {}
        for case_id, output in await conn.execute(
            select(TestRunResult.test_case_id, TestRunResult.output)
            .where(TestRunResult.test_run_id == run.id)
            .order_by(TestRunResult.repetition.desc())
        ):
            outputs[case_id] = loads_or_none(output)
    return scores, outputs


async def compare_runs(
    db: Database, principal: Principal, base_id: str, candidate_id: str
) -> Comparison:
    base = await get_test_run(db, principal, base_id)
    candidate = await get_test_run(db, principal, candidate_id)
    if base.dataset_id != candidate.dataset_id:
        raise InvalidInput.at(("candidateId",), "only runs of the same dataset can be compared")
    base_scores, base_outputs = await _run_scores(db, base)
    candidate_scores, candidate_outputs = await _run_scores(db, candidate)
    async with db.read() as conn:
        directions = await score_directions(conn, base.project_id)
    shared = base_outputs.keys() & candidate_outputs.keys()

    evaluations = []
    changes: dict[str, list[ScoreChange]] = defaultdict(list)
    for key in sorted(base_scores.keys() & candidate_scores.keys()):
        source, name = key
        by_base, by_candidate = base_scores[key], candidate_scores[key]
        kind = infer_kind([v for values in by_base.values() for v in values])
        if kind is EvaluationKind.CATEGORY:
            continue  # categories have no order to improve along
        direction = directions.get(name, Direction.HIGHER)
        pairs = []
        for case_id in sorted(by_base.keys() & by_candidate.keys() & shared):
            base_values = [n for n in map(_as_number, by_base[case_id]) if n is not None]
            candidate_values = [n for n in map(_as_number, by_candidate[case_id]) if n is not None]
            if base_values and candidate_values:
                pair = (statistics.fmean(base_values), statistics.fmean(candidate_values))
                pairs.append(pair)
                if pair[0] != pair[1]:
                    changes[case_id].append(ScoreChange(name, source, *pair, direction))
        evaluations.append(paired_delta(name, source, kind, pairs, direction))

    def case_change(case_id: str) -> CaseChange:
        return CaseChange(
            test_case_id=case_id,
            base_output=base_outputs.get(case_id),
            candidate_output=candidate_outputs.get(case_id),
            changes=tuple(changes[case_id]),
        )

    ordered = sorted(changes)
    return Comparison(
        base=base,
        candidate=candidate,
        shared_cases=len(shared),
        evaluations=evaluations,
        regressions=[case_change(c) for c in ordered if any(s.gain < 0 for s in changes[c])],
        improvements=[case_change(c) for c in ordered if all(s.gain > 0 for s in changes[c])],
        base_usage=await _usage(db, base),
        candidate_usage=await _usage(db, candidate),
    )


async def _usage(db: Database, run: TestRun) -> UsageStats:
    async with db.read() as conn:
        return await run_usage(conn, run.id)
