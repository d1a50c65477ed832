"""Test cases as a union: a client selects the fields of the kind it handles."""

from typing import Annotated

import orjson
import strawberry

from app.api.graphql.pagination import Connection
from app.api.graphql.scalars import JSON, raw
from app.domain.datasets import StoredTestCase, TestCaseType


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


def case_node(
    case: StoredTestCase, kind: TestCaseType, include_outputs: bool
) -> CompletionTestCase | TraceTestCase:
    """The GraphQL object of a stored case; expected outputs only when ``include_outputs``."""
    if kind is TestCaseType.COMPLETION:
        return CompletionTestCase(
            id=strawberry.ID(case.id),
            values=raw(case.inputs),
            output=orjson.loads(case.output) if include_outputs and case.output else None,
            metadata=raw(case.metadata),
            media_inputs=raw(case.media_inputs),
            _output_message=case.output_message if include_outputs else None,
            _history=case.history,
        )
    return TraceTestCase(
        id=strawberry.ID(case.id),
        input=raw(case.inputs),
        output=raw(case.output) if include_outputs else None,
        custom_metadata=raw(case.metadata),
    )
