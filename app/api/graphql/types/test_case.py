"""Test cases as a union: a client selects the fields of the kind it handles."""

from typing import Annotated

import orjson
import strawberry

from app.api.graphql.pagination import Connection
from app.api.graphql.scalars import JSON, raw
from app.domain.datasets import StoredTestCase, TestCaseType
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


@strawberry.type(description="A test case of a completion (prompt) dataset.")
class CompletionTestCase:
    id: strawberry.ID
    values: JSON = strawberry.field(description="The input variables.")
    output: str | None = strawberry.field(description="The expected output.")
    metadata: JSON | None
    media_inputs: JSON | None
    _output_message: strawberry.Private[str | None]
    _history: strawberry.Private[str | None]

    @strawberry.field(description="The expected output as a message.")
    def output_message(self) -> Message | None:
        return None if self._output_message is None else _messages(f"[{self._output_message}]")[0]

    @strawberry.field(description="The chat history before the expected output.")
    def history(self) -> list[Message] | None:
        return None if self._history is None else _messages(self._history)


@strawberry.type(description="A test case of a trace (agent) dataset.")
class TraceTestCase:
    id: strawberry.ID
    input: JSON
    output: JSON | None = strawberry.field(description="The expected output.")
    custom_metadata: JSON | None


TestCase = Annotated[CompletionTestCase | TraceTestCase, strawberry.union("TestCase")]
TestCaseConnection = Connection[TestCase]


class _StoredCompletionTestCase(CompletionTestCase):
    """A completion case made straight from its stored row: a field's value is made only
    when the query selects it (thousands of cases go through here per request)."""

    __slots__ = ("_case", "_include_outputs")

    def __init__(self, case: StoredTestCase, include_outputs: bool) -> None:
        self._case = case
        self._include_outputs = include_outputs

    id = property(lambda self: self._case.id)
    values = property(lambda self: RawJSON(self._case.inputs))
    metadata = property(lambda self: raw(self._case.metadata))
    media_inputs = property(lambda self: raw(self._case.media_inputs))
    _history = property(lambda self: self._case.history)

    @property
    def output(self) -> str | None:
        text = self._case.output
        return orjson.loads(text) if self._include_outputs and text else None

    @property
    def _output_message(self) -> str | None:
        return self._case.output_message if self._include_outputs else None


class _StoredTraceTestCase(TraceTestCase):
    """A trace case made straight from its stored row, field by field as selected."""

    __slots__ = ("_case", "_include_outputs")

    def __init__(self, case: StoredTestCase, include_outputs: bool) -> None:
        self._case = case
        self._include_outputs = include_outputs

    id = property(lambda self: self._case.id)
    input = property(lambda self: RawJSON(self._case.inputs))
    custom_metadata = property(lambda self: raw(self._case.metadata))

    @property
    def output(self) -> RawJSON | None:
        return raw(self._case.output) if self._include_outputs else None


def case_node(
    case: StoredTestCase, kind: TestCaseType, include_outputs: bool
) -> CompletionTestCase | TraceTestCase:
    """The GraphQL object of a stored case; expected outputs only when ``include_outputs``."""
    if kind is TestCaseType.COMPLETION:
        return _StoredCompletionTestCase(case, include_outputs)
    return _StoredTraceTestCase(case, include_outputs)
