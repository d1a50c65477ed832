"""Request and response shapes of the REST API, as the OpenAPI document shows them.

Responses of the hot routes are assembled from stored JSON (see ``rendering``); the response
models here document them and are what the tests check them against.
"""

from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr


class FieldProblem(BaseModel):
    loc: list[str | int]
    msg: str


class Problem(BaseModel):
    """An error (RFC 9457 problem details), served as application/problem+json."""

    type: str
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable: not_found, invalid_input, conflict, ...")
    errors: list[FieldProblem] | None = None


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON schema with its local ``$defs`` references written out in place
    (references must resolve from the OpenAPI document's root, so ``#/$defs`` would not)."""
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(definitions[node["$ref"].rsplit("/", 1)[-1]])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


# One schema in the document's components, referred to by every error answer: written out
# in full for each of them it made up most of the document (slowing Swagger UI and Redoc).
PROBLEM_SCHEMA = _inline(Problem.model_json_schema())


def problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


# The errors any project route may answer with, documented once for every router.
PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: problem_response("Malformed request (the body is not JSON)."),
    401: problem_response("No API key, or an unknown or revoked one."),
    404: problem_response("No such project, dataset, run or case, or not one this key may see."),
    409: problem_response("Conflict (a name that is taken, a resource that is in use)."),
    413: problem_response("The body is larger than the limit."),
    415: problem_response("The body is not sent as JSON."),
    422: problem_response("Invalid values; `errors` says which."),
    503: problem_response("The database does not answer; retry after `Retry-After` seconds."),
}


# Bounds of numbered pages and version numbers in query strings (the database's integers).
MAX_INT = 2**31 - 1

# Freeplay's numbered pages: ``page`` from 1; its dataset listings default to 30 per page.
PageNumber = Annotated[int, Query(ge=1, le=MAX_INT)]
PageSize = Annotated[int, Query(ge=1, le=MAX_INT)]
FREEPLAY_PAGE_SIZE = 30


class Body(BaseModel):
    # The Freeplay SDK sends every key, null when unset; unknown keys are ignored.
    model_config = ConfigDict(extra="ignore")


def example(value: dict[str, Any]) -> ConfigDict:
    """A model's example in the OpenAPI document, as Swagger UI and Redoc show it."""
    return ConfigDict(json_schema_extra={"examples": [value]})


_CASE_ID = "01a2134e-a193-7000-b1cc-c1979da685bc"
_INPUTS = {"customer_name": "Ada", "product": "Nimbus router", "question": "Wi-Fi drops at night."}
_ANSWER = "Sorry, Ada. Update the Nimbus firmware to 4.2 and move the router off channel 11."
_META = {"category": "connectivity", "priority": "high"}


class TextPartOut(BaseModel):
    type: Literal["text"]
    text: str


class MessageOut(BaseModel):
    role: str
    content: list[TextPartOut]


class FailedInFilter(Body):
    test_run_id: StrictStr
    evaluation: StrictStr = Field(description="An evaluation name scored in that run.")
    below: float | None = Field(
        default=None, description="For a numeric evaluation: scores under this failed."
    )


class TestCaseFilter(Body):
    """Ours: run only some of the dataset's cases. Every criterion given must hold."""

    test_case_ids: list[StrictStr] | None = None
    metadata: dict[str, Any] | None = Field(
        default=None, description="Cases whose metadata has all these keys and values."
    )
    failed_in: FailedInFilter | None = Field(
        default=None, description="Cases that failed an evaluation in an earlier run."
    )


class ExecuteRequest(Body):
    """Ours: have the server run every case with a prompt template version."""

    prompt_template_version_id: StrictStr = Field(
        description="The prompt template version whose messages, model and parameters to use."
    )
    repetitions: StrictInt | None = Field(
        default=None, description="Times each case is run (default 1, at most 100)."
    )
    concurrency: StrictInt | None = Field(
        default=None, description="Cases in flight at once, across workers (default 4)."
    )


class CreateTestRunRequest(Body):
    model_config = example(
        {
            "dataset_name": "support-replies",
            "include_outputs": True,
            "test_run_name": "support-replies nightly",
            "test_run_description": "The support prompt against last week's cases",
            "flavor_name": "small-model",
            "target_evaluation_ids": ["6f1c2b3a-8d4e-4f5a-9b6c-7d8e9f0a1b2c"],
        }
    )

    dataset_name: StrictStr = Field(description="The project's dataset with that name.")
    include_outputs: StrictBool | None = Field(
        default=None, description="Include expected outputs in the returned cases."
    )
    test_run_name: StrictStr | None = None
    test_run_description: StrictStr | None = None
    flavor_name: StrictStr | None = Field(default=None, description="A flavor of the project.")
    target_evaluation_ids: list[StrictStr] | None = Field(
        default=None,
        description="Evaluations or evaluation criteria of the project (uuids).",
    )
    test_case_filter: TestCaseFilter | None = None
    execute: ExecuteRequest | None = Field(
        default=None,
        description="Ours: the server runs the cases itself, in the background; the answer "
        "is the same as without it.",
    )


class RunCompletionCase(BaseModel):
    id: str
    test_case_id: str
    values: dict[str, Any]
    variables: dict[str, Any]
    output: str | None
    output_message: MessageOut | None
    history: list[MessageOut] | None
    metadata: dict[str, Any] | None
    custom_metadata: dict[str, Any] | None
    media_variables: dict[str, Any] | None
    test_case_type: Literal["completion"]


class RunTraceCase(BaseModel):
    test_case_id: str
    input: Any
    output: Any
    custom_metadata: dict[str, Any] | None
    test_case_type: Literal["trace"]


class TestRunWithTestCasesInfo(BaseModel):
    model_config = example(
        {
            "test_run_id": "5d86e5d3-06d2-4530-a202-53cff2dfd712",
            "test_run_name": "support-replies nightly",
            "test_run_description": "The support prompt against last week's cases",
            "test_cases": [
                {
                    "id": _CASE_ID,
                    "test_case_id": _CASE_ID,
                    "values": _INPUTS,
                    "variables": _INPUTS,
                    "output": _ANSWER,
                    "output_message": {
                        "role": "assistant",
                        "content": [{"type": "text", "text": _ANSWER}],
                    },
                    "history": None,
                    "metadata": _META,
                    "custom_metadata": _META,
                    "media_variables": None,
                    "test_case_type": "completion",
                }
            ],
            "trace_test_cases": None,
        }
    )

    test_run_id: str
    test_run_name: str
    test_run_description: str
    test_cases: list[RunCompletionCase] | None
    trace_test_cases: list[RunTraceCase] | None


class CreatePromptDatasetRequest(Body):
    model_config = example(
        {
            "name": "support-replies",
            "description": "Customer support questions with the replies we expect.",
            "input_names": ["customer_name", "product", "question"],
            "media_input_names": [],
            "support_history": True,
        }
    )

    name: StrictStr
    description: StrictStr | None = None
    input_names: list[StrictStr] | None = None
    media_input_names: list[StrictStr] | None = None
    support_history: StrictBool | None = None


class PromptDatasetOut(BaseModel):
    model_config = example(
        {
            "id": "6ca4a73c-dee4-4550-a911-4d5315a32034",
            "name": "support-replies",
            "description": "Customer support questions with the replies we expect.",
            "input_names": ["customer_name", "product", "question"],
            "media_input_names": [],
            "support_history": True,
        }
    )

    id: str
    name: str
    description: str
    input_names: list[str]
    media_input_names: list[str]
    support_history: bool


class CreateAgentDatasetRequest(Body):
    name: StrictStr
    description: StrictStr | None = None
    compatible_agent_ids: list[StrictStr] | None = None


class AgentDatasetOut(BaseModel):
    id: str
    name: str
    description: str
    compatible_agent_ids: list[str]


class UpdatePromptDatasetRequest(Body):
    """Only the keys given change."""

    name: StrictStr | None = None
    description: StrictStr | None = None
    input_names: list[StrictStr] | None = None
    media_input_names: list[StrictStr] | None = None
    support_history: StrictBool | None = None


class UpdateAgentDatasetRequest(Body):
    """Only the keys given change."""

    name: StrictStr | None = None
    description: StrictStr | None = None
    compatible_agent_ids: list[StrictStr] | None = None


class DatasetOut(BaseModel):
    id: str
    name: str
    description: str
    test_case_type: Literal["completion", "trace"]
    version: int
    test_case_count: int
    input_names: list[str]
    media_input_names: list[str]
    support_history: bool
    compatible_agent_ids: list[str]
    created_at: str
    updated_at: str


class DatasetList(BaseModel):
    datasets: list[DatasetOut]
    page: int
    page_size: int
    total: int


class AddTestCasesRequest(Body):
    model_config = example(
        {
            "examples": [
                {
                    "inputs": _INPUTS,
                    "output": _ANSWER,
                    "output_message": {
                        "role": "assistant",
                        "content": [{"type": "text", "text": _ANSWER}],
                    },
                    "history": None,
                    "metadata": _META,
                    "media_inputs": None,
                }
            ]
        }
    )

    examples: list[dict[str, Any]] = Field(
        description=(
            "Completion datasets: {inputs, output, output_message, history, metadata, "
            "media_inputs}. Trace datasets: {input, output, custom_metadata}."
        )
    )


class AddTestCasesOut(BaseModel):
    model_config = example(
        {"message": "added 1 test cases", "dataset_version": 2, "test_case_ids": [_CASE_ID]}
    )

    message: str
    dataset_version: int
    test_case_ids: list[str]


class DatasetCompletionCase(BaseModel):
    id: str
    values: dict[str, Any]
    output: str | None
    output_message: MessageOut | None
    history: list[MessageOut] | None
    metadata: dict[str, Any] | None
    media_inputs: dict[str, Any] | None


class DatasetTraceCase(BaseModel):
    id: str
    input: Any
    output: Any
    custom_metadata: dict[str, Any] | None


class Pagination(BaseModel):
    page: int
    page_size: int
    has_next: bool


class DatasetPage(BaseModel):
    """Freeplay's list of prompt or agent datasets."""

    data: list[DatasetOut]
    pagination: Pagination


class Empty(BaseModel):
    """Freeplay's empty answer, ``{}``."""


class PromptTestCaseOut(BaseModel):
    id: str
    inputs: dict[str, Any]
    output: str | None
    output_message: MessageOut | None
    history: list[MessageOut] | None
    metadata: dict[str, Any] | None
    media_inputs: dict[str, Any] | None


class AgentTestCaseOut(BaseModel):
    id: str
    input: Any
    output: Any
    metadata: dict[str, Any] | None


class PromptTestCasePage(BaseModel):
    data: list[PromptTestCaseOut]
    pagination: Pagination


class AgentTestCasePage(BaseModel):
    data: list[AgentTestCaseOut]
    pagination: Pagination


class PromptTestCasesOut(BaseModel):
    data: list[PromptTestCaseOut]


class AgentTestCasesOut(BaseModel):
    data: list[AgentTestCaseOut]


# Freeplay's document types the cases of its prompt- and agent-dataset routes more tightly
# than our own routes: metadata values are scalars, messages are a user's, the system's or
# the assistant's, and media inputs are base64 (inputs by URL are not fetched here).
Scalar = StrictBool | StrictInt | StrictFloat | StrictStr


class MessageIn(Body):
    role: Literal["user", "system", "assistant"] = "user"
    content: StrictStr | list[dict[str, Any]]


class MediaInputIn(Body):
    type: Literal["base64"]
    data: StrictStr
    content_type: StrictStr


class PromptTestCaseIn(Body):
    inputs: dict[str, Any]
    output: StrictStr | None = None
    metadata: dict[str, Scalar] | None = None
    history: list[MessageIn] | None = None
    media_inputs: dict[str, MediaInputIn] | None = None


class AgentTestCaseIn(Body):
    inputs: Any = None
    outputs: Any = None
    metadata: dict[str, Scalar] | None = None


class BulkCreatePromptTestCasesRequest(Body):
    model_config = example({"data": [{"inputs": _INPUTS, "output": _ANSWER, "metadata": _META}]})

    data: list[PromptTestCaseIn] = Field(description="At most 100 test cases.")


class BulkCreateAgentTestCasesRequest(Body):
    model_config = example(
        {"data": [{"inputs": {"task": "refund order 17"}, "outputs": {"done": True}}]}
    )

    data: list[AgentTestCaseIn] = Field(description="At most 100 test cases.")


class BulkDeleteTestCasesRequest(Body):
    test_case_ids: list[StrictStr] = Field(description="At most 100 ids.")


class UpdatePromptTestCaseRequest(Body):
    """Only the keys given (and not null) change."""

    inputs: dict[str, Any] | None = None
    output: StrictStr | None = None
    metadata: dict[str, Scalar] | None = None
    history: list[MessageIn] | None = None
    media_inputs: dict[str, MediaInputIn] | None = None


class UpdateAgentTestCaseRequest(AgentTestCaseIn):
    """Only the keys given (and not null) change."""


class TestCaseVersionOut(BaseModel):
    message: str
    dataset_version: int


class Progress(BaseModel):
    done: int
    total: int


class TestRunOut(BaseModel):
    id: str
    test_run_id: str
    name: str
    description: str
    status: Literal["created", "running", "completed"]
    created_at: int = Field(description="Epoch seconds.")
    completed_at: int | None = Field(description="Epoch seconds.")
    prompt_name: str | None = Field(description="From the run's latest recorded completion.")
    prompt_version: str | None = Field(
        description="The prompt template version id of the run's latest recorded completion."
    )
    model_name: str | None = Field(description="The model of the run's latest recorded completion.")
    sessions_count: int = Field(description="Sessions that recorded results in the run.")
    dataset_id: str
    dataset_name: str
    dataset_version: int
    test_case_type: Literal["completion", "trace"]
    test_case_count: int
    flavor_name: str | None
    include_outputs: bool
    target_evaluation_ids: list[str]
    test_case_filter: dict[str, Any] | None
    progress: Progress


class LatencyOut(BaseModel):
    mean: float | None
    p50: float | None
    p95: float | None


class UsageOut(BaseModel):
    """Ours: over the results that recorded latency or tokens."""

    count: int
    latency_ms: LatencyOut
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost: float | None


class SummaryStatistics(BaseModel):
    auto_evaluation: dict[str, dict[str, Any]]
    human_evaluation: dict[str, dict[str, Any]]
    client_evaluation: dict[str, dict[str, Any]]
    usage: UsageOut | None = Field(
        default=None, exclude_if=lambda usage: usage is None, description="Ours."
    )


class TaskErrorOut(BaseModel):
    test_case_id: str
    repetition: int
    error: str | None = Field(description="Why the case failed; null when only judges did.")
    evaluation_errors: dict[str, str] | None


class ExecutionOut(BaseModel):
    """Ours: a run the server executes, by the state of each case and repetition."""

    prompt_template_version_id: str
    repetitions: int
    concurrency: int
    status: Literal["running", "finished", "cancelled"]
    total: int
    completed: int
    errored: int
    pending: int
    cancelled: int
    evaluation_errors: int = Field(description="Completed cases some judge could not score.")
    errors: list[TaskErrorOut] = Field(description="The first 100 cases with an error.")


class TestRunResults(TestRunOut):
    summary_statistics: SummaryStatistics
    execution: ExecutionOut | None = Field(
        default=None,
        exclude_if=lambda execution: execution is None,
        description="Ours, for a run the server executes.",
    )


class ExecutedTestRunOut(TestRunOut):
    execution: ExecutionOut | None = None


class TestRunListItem(TestRunOut):
    test_case_id: str = Field(
        description="Always the nil uuid: Freeplay's document requires the key in list items."
    )


class TestRunList(BaseModel):
    test_runs: list[TestRunListItem]
    page: int
    page_size: int
    total: int


class CreateEvaluationRequest(Body):
    name: StrictStr
    kind: Literal["numeric", "boolean", "category"]
    source: Literal["auto", "human"] = "auto"
    description: StrictStr | None = None
    categories: list[StrictStr] | None = None
    direction: Literal["higher", "lower"] = Field(
        default="higher", description="Whether a higher score (true) or a lower one is better."
    )


class UpdateEvaluationRequest(Body):
    name: StrictStr | None = None
    description: StrictStr | None = None
    categories: list[StrictStr] | None = None
    direction: Literal["higher", "lower"] | None = None


class EvaluationOut(BaseModel):
    id: str
    name: str
    description: str
    kind: Literal["numeric", "boolean", "category"]
    source: Literal["auto", "human"]
    categories: list[str]
    direction: Literal["higher", "lower"]
    created_at: str


class EvaluationList(BaseModel):
    evaluations: list[EvaluationOut]


class CreateFlavorRequest(Body):
    name: StrictStr
    settings: dict[str, Any] = Field(description="Model/provider settings.")


class UpdateFlavorRequest(Body):
    name: StrictStr | None = None
    settings: dict[str, Any] | None = None


class FlavorOut(BaseModel):
    id: str
    name: str
    settings: dict[str, Any]
    created_at: str


class FlavorList(BaseModel):
    flavors: list[FlavorOut]


class CompletionRecorded(BaseModel):
    completion_id: str


class TraceRecorded(BaseModel):
    trace_id: str


class ProjectInfo(BaseModel):
    id: str
    name: str


class ProjectList(BaseModel):
    projects: list[ProjectInfo]


class ProjectDetail(BaseModel):
    model_config = example(
        {
            "id": "0b6c1f0e-9a51-4c41-a6a5-2f1d9b8a7c3e",
            "name": "Support bot",
            "is_private": False,
            "freeplay_spend_limit_usd": None,
            "data_retention_days": None,
            "enable_eval_insights": True,
            "enable_review_insights": True,
        }
    )

    id: str
    name: str
    is_private: bool
    freeplay_spend_limit_usd: int | None
    data_retention_days: int | None
    enable_eval_insights: bool
    enable_review_insights: bool


class CreateProjectRequest(Body):
    """Settings other than the name are kept and returned; nothing here acts on them."""

    name: StrictStr
    id: StrictStr | None = Field(default=None, description="A uuid to make the project under.")
    is_private: StrictBool = False
    freeplay_spend_limit_usd: StrictInt | None = None
    data_retention_days: StrictInt | None = None
    enable_eval_insights: StrictBool = True
    enable_review_insights: StrictBool = True


class UpdateProjectRequest(Body):
    """Only the keys given (and not null) change."""

    name: StrictStr | None = None
    is_private: StrictBool | None = None
    freeplay_spend_limit_usd: StrictInt | None = None
    data_retention_days: StrictInt | None = None
    enable_eval_insights: StrictBool | None = None
    enable_review_insights: StrictBool | None = None


class EvaluationDeltaOut(BaseModel):
    name: str
    source: Literal["client", "auto", "human"]
    kind: Literal["numeric", "boolean", "category"]
    direction: Literal["higher", "lower"] = Field(description="Which scores are better.")
    pairs: int = Field(description="Cases scored in both runs.")
    base_mean: float | None
    candidate_mean: float | None
    mean_delta: float | None = Field(description="Candidate minus base, over paired cases.")
    ci_low: float | None = Field(description="95% confidence interval of mean_delta.")
    ci_high: float | None
    wins: int
    ties: int
    losses: int
    p_value: float | None = Field(description="Pass/fail only: McNemar's exact test.")
    regressed: bool = Field(description="Significantly worse (see the contract).")


class CaseRegressionOut(BaseModel):
    test_case_id: str
    changes: list[dict[str, Any]]


class ComparisonOut(BaseModel):
    """Ours: a candidate run against a base run of the same dataset."""

    base_test_run_id: str
    candidate_test_run_id: str
    shared_cases: int
    regressed: bool = Field(description="Whether any evaluation regressed significantly.")
    evaluations: list[EvaluationDeltaOut]
    regressions: list[CaseRegressionOut] = Field(description="The first 100 worse cases.")
    base_usage: UsageOut | None
    candidate_usage: UsageOut | None
