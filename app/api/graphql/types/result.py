"""Results of a run, their scores, and the run's summary statistics."""

from datetime import datetime

import strawberry

from app.api.graphql.scalars import JSON, raw
from app.api.graphql.types.evaluation import EvaluationKind
from app.api.graphql.types.node import Node
from app.api.graphql.types.test_case import TestCase, case_node
from app.domain import result_statistics, results
from app.domain.datasets import StoredTestCase
from app.domain.scores import ScoreSource as DomainScoreSource
from app.domain.test_runs import TestRun as DomainTestRun

# strawberry.enum gives the domain's enum its GraphQL name; the alias is the same class.
ScoreSource = DomainScoreSource
strawberry.enum(ScoreSource, name="ScoreSource")


@strawberry.type(
    description="CLIENT scores are a caller's eval_results; AUTO and HUMAN scores "
    "are of the project's evaluations."
)
class Score:
    source: ScoreSource
    name: str
    value: JSON
    evaluation_id: strawberry.ID | None


@strawberry.type
class TestCaseResult(Node):
    test_case: TestCase
    repetition: int
    output: JSON | None = strawberry.field(description="The output recorded for the case.")
    scores: list[Score]
    eval_results: JSON = strawberry.field(description="The client scores, as name: value.")
    recording_id: strawberry.ID | None = strawberry.field(
        description="The completion or trace the result was recorded with."
    )
    recorded_at: datetime
    updated_at: datetime
    latency_ms: float | None = strawberry.field(description="How long the model took.")
    prompt_tokens: int | None
    completion_tokens: int | None
    cost: float | None = strawberry.field(description="At the model's prices per token.")

    @classmethod
    def of(
        cls, result: results.Result, case: StoredTestCase, run: DomainTestRun
    ) -> "TestCaseResult":
        usage = result.usage or results.Usage()
        return cls(
            id=strawberry.ID(result.id),
            test_case=case_node(run.dataset_id, case, run.test_case_type, run.include_outputs),
            repetition=result.repetition,
            output=raw(result.output),
            scores=[
                Score(
                    source=s.source,
                    name=s.name,
                    value=s.value,
                    evaluation_id=None
                    if s.evaluation_id is None
                    else strawberry.ID(s.evaluation_id),
                )
                for s in result.scores
            ],
            eval_results=JSON(
                {s.name: s.value for s in result.scores if s.source is DomainScoreSource.CLIENT}
            ),
            recording_id=None
            if result.recording_id is None
            else strawberry.ID(result.recording_id),
            recorded_at=result.created_at,
            updated_at=result.updated_at,
            latency_ms=usage.latency_ms,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost=usage.cost,
        )


@strawberry.type
class CategoryCount:
    category: str
    count: int


@strawberry.type(description="Statistics of one evaluation over a run's results.")
class EvaluationSummary:
    name: str
    source: ScoreSource
    kind: EvaluationKind
    count: int
    mean: float | None
    min: float | None
    max: float | None
    pass_count: int | None
    pass_rate: float | None
    categories: list[CategoryCount] | None
    evaluation_id: strawberry.ID | None

    @classmethod
    def of(cls, stats: result_statistics.EvaluationStats) -> "EvaluationSummary":
        return cls(
            name=stats.name,
            source=stats.source,
            kind=stats.kind,
            count=stats.count,
            mean=stats.mean,
            min=stats.min,
            max=stats.max,
            pass_count=stats.pass_count,
            pass_rate=stats.pass_rate,
            categories=None
            if stats.categories is None
            else [CategoryCount(category=k, count=v) for k, v in stats.categories.items()],
            evaluation_id=None
            if stats.evaluation_id is None
            else strawberry.ID(stats.evaluation_id),
        )


@strawberry.type(description="Latency, tokens and cost over results that recorded them.")
class RunUsage:
    count: int = strawberry.field(description="Results with latency or tokens recorded.")
    latency_mean_ms: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost: float | None

    @classmethod
    def of(cls, usage: result_statistics.UsageStats | None) -> "RunUsage | None":
        if usage is None or not usage.count:
            return None
        return cls(
            count=usage.count,
            latency_mean_ms=usage.latency_mean_ms,
            latency_p50_ms=usage.latency_p50_ms,
            latency_p95_ms=usage.latency_p95_ms,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            total_tokens=usage.total_tokens,
            cost=usage.cost,
        )


@strawberry.type
class TestRunSummary:
    auto_evaluation: list[EvaluationSummary]
    human_evaluation: list[EvaluationSummary]
    client_evaluation: list[EvaluationSummary]
    usage: RunUsage | None

    @classmethod
    def of(cls, summary: result_statistics.Summary) -> "TestRunSummary":
        return cls(
            auto_evaluation=[EvaluationSummary.of(s) for s in summary.auto],
            human_evaluation=[EvaluationSummary.of(s) for s in summary.human],
            client_evaluation=[EvaluationSummary.of(s) for s in summary.client],
            usage=RunUsage.of(summary.usage),
        )


@strawberry.type
class Progress:
    done: int = strawberry.field(description="Cases with a recorded result.")
    total: int
