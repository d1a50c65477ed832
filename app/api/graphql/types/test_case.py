"""Test cases as a union: a client selects the fields of the kind it handles."""

from typing import Annotated

import orjson
import strawberry

from app.api.graphql import fields
from app.api.graphql.pagination import Connection
from app.api.graphql.scalars import JSON, raw
from app.api.graphql.types.node import Node
from app.domain.datasets import StoredTestCase, TestCaseType, revision_id
from app.domain.jsontext import RawJSON


@strawberry.type
class TextContent:
    type: str
    text: str


@strawberry.type
class Message:
    role: str
    content: list[TextContent]


def _messages(text: str) -> list[Message]:
    return [
        Message(
            role=m["role"],
            content=[TextContent(type=p["type"], text=p["text"]) for p in m["content"]],
        )
        for m in orjson.loads(text)
    ]


_REVISION = (
    "This content's own id: it changes when the case is edited, and when a run hides the "
    "expected outputs."
)
_STABLE = "The test case's id, the same in every version (the id REST and mutations take)."


@strawberry.type(description="A test case of a completion (prompt) dataset, at one version.")
class CompletionTestCase(Node):
    id: strawberry.ID = strawberry.field(description=_REVISION)
    test_case_id: strawberry.ID = strawberry.field(description=_STABLE)
    values: JSON = strawberry.field(description="The input variables.")
    output: str | None = strawberry.field(description="The expected output.")
    metadata: JSON | None
    media_inputs: JSON | None
    _output_message: strawberry.Private[str | None]
    _history: strawberry.Private[str | None]

    @fields.field(description="The expected output as a message.")
    def output_message(self) -> Message | None:
        return None if self._output_message is None else _messages(f"[{self._output_message}]")[0]

    @fields.field(description="The chat history before the expected output.")
    def history(self) -> list[Message] | None:
        return None if self._history is None else _messages(self._history)


@strawberry.type(description="A test case of a trace (agent) dataset, at one version.")
class TraceTestCase(Node):
    id: strawberry.ID = strawberry.field(description=_REVISION)
    test_case_id: strawberry.ID = strawberry.field(description=_STABLE)
    input: JSON
    output: JSON | None = strawberry.field(description="The expected output.")
    custom_metadata: JSON | None


TestCase = Annotated[CompletionTestCase | TraceTestCase, strawberry.union("TestCase")]
TestCaseConnection = Connection[TestCase]


class _StoredCompletionTestCase(CompletionTestCase):
    """A completion case made straight from its stored row: a field's value is made only
    when the query selects it (thousands of cases go through here per request)."""

    __slots__ = ("_case", "_dataset_id", "_include_outputs")

    def __init__(self, dataset_id: str, case: StoredTestCase, include_outputs: bool) -> None:
        self._dataset_id = dataset_id
        self._case = case
        self._include_outputs = include_outputs

    id = property(lambda self: revision_id(self._dataset_id, self._case, self._include_outputs))
    test_case_id = property(lambda self: self._case.id)
    values = property(lambda self: RawJSON(self._case.inputs))
    metadata = property(lambda self: raw(self._case.metadata))
    media_inputs = property(lambda self: raw(self._case.media_inputs))
    _history = property(lambda self: self._case.history)

    # The fields are read-only here (computed from the row), so mypy rightly notes that these
    # properties narrow the writable attributes they override: nothing assigns to them.
    @property
    def output(self) -> str | None:  # type: ignore[override]
        text = self._case.output
        return orjson.loads(text) if self._include_outputs and text else None

    @property
    def _output_message(self) -> str | None:  # type: ignore[override]
        return self._case.output_message if self._include_outputs else None


class _StoredTraceTestCase(TraceTestCase):
    """A trace case made straight from its stored row, field by field as selected."""

    __slots__ = ("_case", "_dataset_id", "_include_outputs")

    def __init__(self, dataset_id: str, case: StoredTestCase, include_outputs: bool) -> None:
        self._dataset_id = dataset_id
        self._case = case
        self._include_outputs = include_outputs

    id = property(lambda self: revision_id(self._dataset_id, self._case, self._include_outputs))
    test_case_id = property(lambda self: self._case.id)
    input = property(lambda self: RawJSON(self._case.inputs))
    custom_metadata = property(lambda self: raw(self._case.metadata))

    @property
    def output(self) -> JSON | None:  # type: ignore[override]  # read-only, as above
        return raw(self._case.output) if self._include_outputs else None


def case_node(
    dataset_id: str, case: StoredTestCase, kind: TestCaseType, include_outputs: bool
) -> CompletionTestCase | TraceTestCase:
    """The GraphQL object of a stored case of a dataset; expected outputs only when
    ``include_outputs``."""
    if kind is TestCaseType.COMPLETION:
        return _StoredCompletionTestCase(dataset_id, case, include_outputs)
    return _StoredTraceTestCase(dataset_id, case, include_outputs)
