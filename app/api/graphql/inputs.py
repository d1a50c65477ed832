"""GraphQL input types, and their translation into what the domain takes."""

from typing import Any

import strawberry

from app.api.graphql.scalars import JSON
from app.api.graphql.types.dataset import TestCaseType
from app.api.graphql.types.evaluation import Direction, EvaluationKind, EvaluationSource
from app.domain import datasets, evaluations, projects, results, test_runs
from app.domain.execution import Execute


@strawberry.input(description="The cases that failed an evaluation in an earlier run.")
class FailedInInput:
    test_run_id: strawberry.ID
    evaluation: str = strawberry.field(description="The name of an evaluation scored there.")
    below: float | None = strawberry.field(
        default=None, description="For a numeric evaluation: scores under this failed."
    )


@strawberry.input(description="Run only some of the dataset's cases; every criterion must hold.")
class TestCaseFilterInput:
    test_case_ids: list[strawberry.ID] | None = None
    metadata: JSON | None = strawberry.field(
        default=None, description="Cases whose metadata has all these keys and values."
    )
    failed_in: FailedInInput | None = None

    def to_domain(self) -> test_runs.CaseFilter:
        failed = self.failed_in
        return test_runs.CaseFilter(
            test_case_ids=None if self.test_case_ids is None else tuple(self.test_case_ids),
            metadata=self.metadata,
            failed_in=None
            if failed is None
            else test_runs.FailedIn(failed.test_run_id, failed.evaluation, failed.below),
        )


@strawberry.input(description="Have the server run every case with a prompt template version.")
class ExecuteInput:
    prompt_template_version_id: strawberry.ID
    repetitions: int = strawberry.field(default=1, description="Times each case is run.")
    concurrency: int = strawberry.field(
        default=4, description="Cases in flight at once, across workers."
    )

    def to_domain(self) -> Execute:
        return Execute(
            prompt_template_version_id=self.prompt_template_version_id,
            repetitions=self.repetitions,
            concurrency=self.concurrency,
        )


@strawberry.input
class CancelTestRunInput:
    test_run_id: strawberry.ID


@strawberry.input
class CreateTestRunInput:
    project_id: strawberry.ID
    dataset_name: str
    include_outputs: bool | None = None
    test_run_name: str | None = None
    test_run_description: str | None = None
    flavor_name: str | None = None
    target_evaluation_ids: list[strawberry.ID] | None = None
    test_case_filter: TestCaseFilterInput | None = None
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Repeat the mutation with the same key and input to get the same run back.",
    )
    execute: ExecuteInput | None = strawberry.field(
        default=None, description="The server runs the cases itself, in the background."
    )

    def to_domain(self) -> test_runs.NewTestRun:
        return test_runs.NewTestRun(
            dataset_name=self.dataset_name,
            include_outputs=bool(self.include_outputs),
            name=self.test_run_name,
            description=self.test_run_description,
            flavor_name=self.flavor_name,
            target_evaluation_ids=tuple(self.target_evaluation_ids or ()),
            case_filter=None
            if self.test_case_filter is None
            else self.test_case_filter.to_domain(),
            execute=None if self.execute is None else self.execute.to_domain(),
        )


@strawberry.input
class ScoreInput:
    evaluation_id: strawberry.ID
    value: JSON


@strawberry.input(
    description="Record (or replace) a case's result. Recording again for the same case and "
    "repetition replaces the result; give another repetition to keep several."
)
class RecordTestCaseResultInput:
    test_run_id: strawberry.ID
    test_case_id: strawberry.ID
    repetition: int = 0
    output: JSON | None = None
    eval_results: JSON | None = strawberry.field(
        default=None, description="Client scores as name: value (true/false, number, text)."
    )
    scores: list[ScoreInput] | None = strawberry.field(
        default=None, description="Scores of the project's auto and human evaluations."
    )

    def to_domain(self) -> results.NewResult:
        return results.NewResult(
            test_case_id=self.test_case_id,
            repetition=self.repetition,
            output=self.output,
            eval_results=self.eval_results or {},
            scores={s.evaluation_id: s.value for s in self.scores or ()},
        )


@strawberry.input(description="Add or replace one auto or human score of a recorded result.")
class ScoreTestCaseResultInput:
    test_run_id: strawberry.ID
    test_case_id: strawberry.ID
    evaluation_id: strawberry.ID
    value: JSON
    repetition: int = 0


@strawberry.input
class CompleteTestRunInput:
    test_run_id: strawberry.ID


@strawberry.input
class CreateDatasetInput:
    project_id: strawberry.ID
    name: str
    test_case_type: TestCaseType
    description: str | None = None
    input_names: list[str] | None = None
    media_input_names: list[str] | None = None
    support_history: bool | None = None
    compatible_agent_ids: list[str] | None = None

    def to_domain(self) -> datasets.NewDataset:
        return datasets.NewDataset(
            name=self.name,
            test_case_type=datasets.TestCaseType(self.test_case_type),
            description=self.description or "",
            input_names=tuple(self.input_names or ()),
            media_input_names=tuple(self.media_input_names or ()),
            support_history=bool(self.support_history),
            compatible_agent_ids=tuple(self.compatible_agent_ids or ()),
        )


@strawberry.input
class TextContentInput:
    text: str
    type: str = "text"


@strawberry.input
class MessageInput:
    role: str
    content: list[TextContentInput]

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "content": [{"type": p.type, "text": p.text} for p in self.content],
        }


@strawberry.input
class CompletionTestCaseInput:
    values: JSON = strawberry.field(description="The input variables (a JSON object).")
    output: str | None = None
    output_message: MessageInput | None = None
    history: list[MessageInput] | None = None
    metadata: JSON | None = None
    media_inputs: JSON | None = None

    def to_example(self) -> dict[str, Any]:
        return {
            "inputs": self.values,
            "output": self.output,
            "output_message": self.output_message and self.output_message.to_dict(),
            "history": None if self.history is None else [m.to_dict() for m in self.history],
            "metadata": self.metadata,
            "media_inputs": self.media_inputs,
        }


@strawberry.input
class TraceTestCaseInput:
    input: JSON
    output: JSON | None = None
    custom_metadata: JSON | None = None

    def to_example(self) -> dict[str, Any]:
        return {"input": self.input, "output": self.output, "custom_metadata": self.custom_metadata}


@strawberry.input(
    description="Give completionCases for a completion dataset, traceCases for a trace one."
)
class AddTestCasesInput:
    dataset_id: strawberry.ID
    completion_cases: list[CompletionTestCaseInput] | None = None
    trace_cases: list[TraceTestCaseInput] | None = None

    def examples(self) -> list[dict[str, Any]]:
        return [c.to_example() for c in self.completion_cases or ()] + [
            c.to_example() for c in self.trace_cases or ()
        ]

    def case_kinds(self) -> list[datasets.TestCaseType]:
        """The kinds of the lists that hold cases (the dataset's must be the only one)."""
        given = (
            (datasets.TestCaseType.COMPLETION, self.completion_cases),
            (datasets.TestCaseType.TRACE, self.trace_cases),
        )
        return [kind for kind, cases in given if cases]


@strawberry.input(description="Only the fields given change; null clears an optional one.")
class UpdateDatasetInput:
    dataset_id: strawberry.ID
    name: str | None = None
    description: str | None = None
    input_names: list[str] | None = None
    media_input_names: list[str] | None = None
    support_history: bool | None = None
    compatible_agent_ids: list[str] | None = None

    def to_domain(self) -> datasets.DatasetChanges:
        def as_tuple(values: list[str] | None) -> tuple[str, ...] | None:
            return None if values is None else tuple(values)

        return datasets.DatasetChanges(
            name=self.name,
            description=self.description,
            input_names=as_tuple(self.input_names),
            media_input_names=as_tuple(self.media_input_names),
            support_history=self.support_history,
            compatible_agent_ids=as_tuple(self.compatible_agent_ids),
        )


@strawberry.input
class DeleteDatasetInput:
    dataset_id: strawberry.ID
    force: bool = strawberry.field(
        default=False,
        description="Delete even though test runs use it (they keep their cases).",
    )


def _given(**fields: Any) -> dict[str, Any]:
    """The fields a client sent (null included), leaving out those it did not mention."""
    return {key: value for key, value in fields.items() if value is not strawberry.UNSET}


@strawberry.input(description="The keys of a completion case to change; others stay.")
class CompletionTestCasePatch:
    values: JSON | None = strawberry.UNSET
    output: str | None = strawberry.UNSET
    output_message: MessageInput | None = strawberry.UNSET
    history: list[MessageInput] | None = strawberry.UNSET
    metadata: JSON | None = strawberry.UNSET
    media_inputs: JSON | None = strawberry.UNSET

    def changes(self) -> dict[str, Any]:
        message = self.output_message
        history = self.history
        return _given(
            inputs=self.values,
            output=self.output,
            output_message=message.to_dict() if isinstance(message, MessageInput) else message,
            history=[m.to_dict() for m in history] if isinstance(history, list) else history,
            metadata=self.metadata,
            media_inputs=self.media_inputs,
        )


@strawberry.input(description="The keys of a trace case to change; others stay.")
class TraceTestCasePatch:
    input: JSON | None = strawberry.UNSET
    output: JSON | None = strawberry.UNSET
    custom_metadata: JSON | None = strawberry.UNSET

    def changes(self) -> dict[str, Any]:
        return _given(input=self.input, output=self.output, custom_metadata=self.custom_metadata)


@strawberry.input(description="completion for a completion case, trace for a trace case.")
class UpdateTestCaseInput:
    dataset_id: strawberry.ID
    test_case_id: strawberry.ID
    completion: CompletionTestCasePatch | None = None
    trace: TraceTestCasePatch | None = None

    def case_kinds(self) -> list[datasets.TestCaseType]:
        given = (
            (datasets.TestCaseType.COMPLETION, self.completion),
            (datasets.TestCaseType.TRACE, self.trace),
        )
        return [kind for kind, patch in given if patch is not None]


@strawberry.input
class DeleteTestCasesInput:
    dataset_id: strawberry.ID
    test_case_ids: list[strawberry.ID]


@strawberry.input
class CreateEvaluationInput:
    project_id: strawberry.ID
    name: str
    kind: EvaluationKind
    source: EvaluationSource = evaluations.EvaluationSource.AUTO
    description: str | None = None
    categories: list[str] | None = None
    direction: Direction = evaluations.Direction.HIGHER

    def to_domain(self) -> evaluations.NewEvaluation:
        return evaluations.NewEvaluation(
            name=self.name,
            kind=evaluations.EvaluationKind(self.kind),
            source=evaluations.EvaluationSource(self.source),
            description=self.description or "",
            categories=tuple(self.categories or ()),
            direction=evaluations.Direction(self.direction),
        )


@strawberry.input(description="Only the fields given change.")
class UpdateEvaluationInput:
    evaluation_id: strawberry.ID
    name: str | None = None
    description: str | None = None
    categories: list[str] | None = None
    direction: Direction | None = None

    def to_domain(self) -> evaluations.EvaluationChanges:
        return evaluations.EvaluationChanges(
            name=self.name,
            description=self.description,
            categories=None if self.categories is None else tuple(self.categories),
            direction=None if self.direction is None else evaluations.Direction(self.direction),
        )


@strawberry.input
class DeleteEvaluationInput:
    evaluation_id: strawberry.ID


@strawberry.input
class CreateFlavorInput:
    project_id: strawberry.ID
    name: str
    settings: JSON = strawberry.field(description="Model/provider settings (a JSON object).")


@strawberry.input(description="Only the fields given change.")
class UpdateFlavorInput:
    project_id: strawberry.ID
    flavor_id: strawberry.ID
    name: str | None = None
    settings: JSON | None = None


@strawberry.input
class DeleteFlavorInput:
    project_id: strawberry.ID
    flavor_id: strawberry.ID


@strawberry.input(
    description="At most 100 cases: completionCases for a completion dataset, traceCases for "
    "a trace one."
)
class BulkAddTestCasesInput(AddTestCasesInput):
    pass


@strawberry.input(description="At most 100 ids; all of them are deleted, or none.")
class BulkDeleteTestCasesInput:
    dataset_id: strawberry.ID
    test_case_ids: list[strawberry.ID]


@strawberry.input(description="Only the fields given (and not null) change.")
class UpdateProjectInput:
    project_id: strawberry.ID
    name: str | None = None
    is_private: bool | None = None
    freeplay_spend_limit_usd: int | None = None
    data_retention_days: int | None = None
    enable_eval_insights: bool | None = None
    enable_review_insights: bool | None = None

    def to_domain(self) -> projects.ProjectChanges:
        return projects.ProjectChanges(
            name=self.name,
            is_private=self.is_private,
            freeplay_spend_limit_usd=self.freeplay_spend_limit_usd,
            data_retention_days=self.data_retention_days,
            enable_eval_insights=self.enable_eval_insights,
            enable_review_insights=self.enable_review_insights,
        )
