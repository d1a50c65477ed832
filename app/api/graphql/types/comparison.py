"""Comparing two runs of one dataset."""

import strawberry

from app.api.graphql import fields
from app.api.graphql.context import Info
from app.api.graphql.scalars import JSON
from app.api.graphql.types.evaluation import Direction, EvaluationKind
from app.api.graphql.types.result import RunUsage, ScoreSource
from app.api.graphql.types.test_case import TestCase, case_node
from app.api.graphql.types.test_run import TestRun
from app.domain import compare
from app.domain.test_runs import TestRun as DomainTestRun


@strawberry.type(description="Candidate minus base over the cases both runs scored.")
class EvaluationComparison:
    name: str
    source: ScoreSource
    kind: EvaluationKind
    pairs: int = strawberry.field(description="Cases scored in both runs.")
    base_mean: float | None
    candidate_mean: float | None
    mean_delta: float | None
    ci_low: float | None = strawberry.field(description="95% confidence interval, low end.")
    ci_high: float | None = strawberry.field(description="95% confidence interval, high end.")
    wins: int = strawberry.field(description="Cases that moved in the better direction.")
    ties: int
    losses: int = strawberry.field(description="Cases that moved in the worse direction.")
    direction: Direction = strawberry.field(description="Which scores are better.")
    p_value: float | None = strawberry.field(
        description="For a pass/fail evaluation: McNemar's exact test of the changed cases."
    )
    regressed: bool = strawberry.field(
        description="Significantly worse: the interval lies on the worse side of zero, or "
        "(pass/fail) p < 0.05 with more cases failing than passing anew."
    )


@strawberry.type
class ScoreChange:
    name: str
    source: ScoreSource
    base: float
    candidate: float
    delta: float
    direction: Direction


@strawberry.type
class CaseComparison:
    test_case_id: strawberry.ID
    base_output: JSON | None
    candidate_output: JSON | None
    changes: list[ScoreChange]
    _run: strawberry.Private[DomainTestRun]

    @strawberry.field
    async def test_case(self, info: Info) -> TestCase | None:
        run = self._run
        case = await info.context.cases.load(
            (run.dataset_id, run.dataset_version, self.test_case_id)
        )
        return (
            None
            if case is None
            else case_node(run.dataset_id, case, run.test_case_type, include_outputs=True)
        )


def _cases(
    changes: list[compare.CaseChange], run: DomainTestRun, first: int
) -> list[CaseComparison]:
    return [
        CaseComparison(
            test_case_id=strawberry.ID(change.test_case_id),
            base_output=change.base_output,
            candidate_output=change.candidate_output,
            changes=[
                ScoreChange(
                    name=s.name,
                    source=s.source,
                    base=s.base,
                    candidate=s.candidate,
                    delta=s.delta,
                    direction=s.direction,
                )
                for s in change.changes
            ],
            _run=run,
        )
        for change in changes[:first]
    ]


@strawberry.type
class TestRunComparison:
    base: TestRun
    candidate: TestRun
    shared_case_count: int
    evaluations: list[EvaluationComparison]
    regression_count: int
    improvement_count: int
    regressed: bool = strawberry.field(
        description="Whether any evaluation regressed significantly (a CI gate fails on it)."
    )
    base_usage: RunUsage | None
    candidate_usage: RunUsage | None
    _comparison: strawberry.Private[compare.Comparison]

    @classmethod
    def of(cls, comparison: compare.Comparison) -> "TestRunComparison":
        return cls(
            base=TestRun.of(comparison.base),
            candidate=TestRun.of(comparison.candidate),
            shared_case_count=comparison.shared_cases,
            evaluations=[
                EvaluationComparison(
                    name=e.name,
                    source=e.source,
                    kind=e.kind,
                    pairs=e.pairs,
                    base_mean=e.base_mean,
                    candidate_mean=e.candidate_mean,
                    mean_delta=e.mean_delta,
                    ci_low=e.ci_low,
                    ci_high=e.ci_high,
                    wins=e.wins,
                    ties=e.ties,
                    losses=e.losses,
                    direction=e.direction,
                    p_value=e.p_value,
                    regressed=e.regressed,
                )
                for e in comparison.evaluations
            ],
            regressed=bool(comparison.regressed),
            base_usage=RunUsage.of(comparison.base_usage),
            candidate_usage=RunUsage.of(comparison.candidate_usage),
            regression_count=len(comparison.regressions),
            improvement_count=len(comparison.improvements),
            _comparison=comparison,
        )

    @fields.field(description="Cases that got worse on some evaluation.")
    def regressions(self, first: int = 100) -> list[CaseComparison]:
        return _cases(self._comparison.regressions, self._comparison.candidate, first)

    @fields.field(description="Cases that got better on every evaluation that changed.")
    def improvements(self, first: int = 100) -> list[CaseComparison]:
        return _cases(self._comparison.improvements, self._comparison.candidate, first)
