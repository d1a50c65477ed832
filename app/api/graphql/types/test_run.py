"""Test runs, their results and summary."""

from datetime import datetime

import strawberry

from app.api.graphql import fields
from app.api.graphql.context import Info
from app.api.graphql.pagination import (
    Connection,
    connection,
    decode_cursor,
    decode_int_cursor,
    encode_cursor,
    not_a_cursor,
    window,
)
from app.api.graphql.scalars import JSON, json_or_null
from app.api.graphql.types.criterion import EvaluationCriterion
from app.api.graphql.types.dataset import CASE_CURSOR, Dataset, case_connection
from app.api.graphql.types.evaluation import Evaluation
from app.api.graphql.types.node import Node
from app.api.graphql.types.result import Progress, TestCaseResult, TestRunSummary
from app.api.graphql.types.test_case import TestCaseConnection
from app.domain import criteria, datasets, evaluations, execution, results, test_runs

# strawberry.enum gives the domain's enum its GraphQL name; the alias is the same class.
TestRunStatus = test_runs.TestRunStatus
strawberry.enum(TestRunStatus, name="TestRunStatus")
ExecutionStatus = execution.ExecutionStatus
strawberry.enum(ExecutionStatus, name="ExecutionStatus")


@strawberry.type
class CaseError:
    test_case_id: strawberry.ID
    repetition: int
    error: str | None = strawberry.field(
        description="Why the case failed; null if only judges did."
    )
    evaluation_errors: JSON | None = strawberry.field(
        description="Judges that could not score the output: name: why."
    )


@strawberry.type(description="A run the server executes: its cases (times repetitions) by state.")
class TestRunExecution:
    prompt_template_version_id: strawberry.ID
    repetitions: int
    concurrency: int
    status: ExecutionStatus
    total: int
    completed: int
    errored: int
    pending: int
    cancelled: int
    evaluation_errors: int = strawberry.field(
        description="Completed cases some judge could not score."
    )
    errors: list[CaseError] = strawberry.field(description="The first 100 cases with an error.")

    @classmethod
    def of(cls, state: execution.ExecutionState | None) -> "TestRunExecution | None":
        if state is None:
            return None
        return cls(
            prompt_template_version_id=strawberry.ID(state.prompt_template_version_id),
            repetitions=state.repetitions,
            concurrency=state.concurrency,
            status=state.status,
            total=state.total,
            completed=state.completed,
            errored=state.errored,
            pending=state.pending,
            cancelled=state.cancelled,
            evaluation_errors=state.evaluation_errors,
            errors=[
                CaseError(
                    test_case_id=strawberry.ID(e.test_case_id),
                    repetition=e.repetition,
                    error=e.error,
                    evaluation_errors=json_or_null(e.evaluation_errors),
                )
                for e in state.errors
            ],
        )


RESULT_CURSOR = "result"


@strawberry.input(description="Which results to list; every criterion given must hold.")
class TestCaseResultFilter:
    test_case_ids: list[strawberry.ID] | None = None
    evaluation: str | None = strawberry.field(
        default=None, description="Only results scored on the evaluation of this name..."
    )
    passed: bool | None = strawberry.field(
        default=None, description="...that passed (true) or failed (false) it..."
    )
    below: float | None = strawberry.field(
        default=None, description="...or that scored under this number on it."
    )

    def to_domain(self) -> results.ResultFilter:
        return results.ResultFilter(
            test_case_ids=None if self.test_case_ids is None else tuple(self.test_case_ids),
            evaluation=self.evaluation,
            passed=self.passed,
            below=self.below,
        )


def _decode_result_cursor(cursor: str | None, name: str = "after") -> tuple[int, int] | None:
    key = decode_cursor(cursor, RESULT_CURSOR, name)
    if key is None:
        return None
    position, _, repetition = key.partition(":")
    try:
        return int(position), int(repetition)
    except ValueError:
        raise not_a_cursor(name) from None


@strawberry.type
class TestRun(Node):
    name: str
    description: str
    status: TestRunStatus
    dataset_version: int = strawberry.field(description="The dataset version the run pins.")
    flavor_name: str | None
    include_outputs: bool
    test_case_count: int
    test_case_filter: JSON | None = strawberry.field(
        description="How the cases were chosen, when the run holds a subset of the dataset."
    )
    progress: Progress
    created_at: datetime
    completed_at: datetime | None
    _run: strawberry.Private[test_runs.TestRun]

    @classmethod
    def of(cls, run: test_runs.TestRun) -> "TestRun":
        return cls(
            id=strawberry.ID(run.id),
            name=run.name,
            description=run.description,
            status=run.status,
            dataset_version=run.dataset_version,
            flavor_name=run.flavor_name,
            include_outputs=run.include_outputs,
            test_case_count=run.case_count,
            test_case_filter=json_or_null(run.case_filter),
            progress=Progress(done=run.done_count, total=run.case_count),
            created_at=run.created_at,
            completed_at=run.completed_at,
            _run=run,
        )

    @strawberry.field
    async def dataset(self, info: Info) -> Dataset:
        found = await info.context.nodes.load(self._run.dataset_id)
        assert isinstance(found, datasets.Dataset)  # a run's dataset is kept while it lives
        return Dataset.of(found)

    @strawberry.field
    async def target_evaluations(self, info: Info) -> list[Evaluation]:
        found = await info.context.nodes.load_many(list(self._run.target_evaluation_ids))
        return [Evaluation.of(e) for e in found if isinstance(e, evaluations.Evaluation)]

    @fields.field(description="The evaluation criteria the run is to be scored on.")
    async def target_criteria(self, info: Info) -> list[EvaluationCriterion]:
        if not self._run.target_criterion_ids:
            return []
        found = await criteria.get_criteria(
            info.context.db, info.context.principal, list(self._run.target_criterion_ids)
        )
        return [EvaluationCriterion.of(c) for c in found]

    @fields.field(description="The run's test cases: its pinned dataset version, in order.")
    async def test_cases(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> TestCaseConnection:
        page = await test_runs.run_case_page(
            info.context.db,
            self._run,
            window=window(
                info.context.settings,
                first,
                decode_int_cursor(after, CASE_CURSOR),
                last,
                decode_int_cursor(before, CASE_CURSOR, "before"),
            ),
        )
        return case_connection(
            self._run.dataset_id, page, self._run.test_case_type, self._run.include_outputs
        )

    @fields.field(description="Recorded results in dataset order, each with its case.")
    async def results(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: TestCaseResultFilter | None = None,
    ) -> Connection[TestCaseResult]:
        run = self._run
        page = await results.result_page(
            info.context.db,
            run,
            window=window(
                info.context.settings,
                first,
                _decode_result_cursor(after),
                last,
                _decode_result_cursor(before, "before"),
            ),
            where=filter.to_domain() if filter else results.ResultFilter(),
        )
        return connection(
            page,
            lambda pair: encode_cursor(RESULT_CURSOR, f"{pair[0].position}:{pair[0].repetition}"),
            lambda pair: TestCaseResult.of(pair[0], pair[1], run),
        )

    @fields.field(description="How the server is running it; null when a client records.")
    async def execution(self, info: Info) -> TestRunExecution | None:
        return TestRunExecution.of(await execution.execution_state(info.context.db, self._run))

    @fields.field(description="Statistics of every evaluation, by source.")
    async def summary(self, info: Info) -> TestRunSummary:
        return TestRunSummary.of(await info.context.summaries.load(self._run))
