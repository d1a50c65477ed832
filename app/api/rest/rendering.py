"""JSON bodies of test cases assembled from stored JSON text: a case's documents are spliced
in as they were stored, never parsed and re-serialised. Ids are uuids, so they need no escaping.

That is the fast path (``FAST``). With ``TESTRUNS_FAST_JSON`` off, ``PLAIN`` gives the same
JSON the plain way: each document parsed and the case serialised by orjson.

Cases are read and rendered a page at a time. A body up to ``WHOLE_BODY`` is sent as one
ordinary response (chunked transfer costs both ends more than the body's own bytes); a longer
one is streamed, so a body of 100,000 cases never sits in memory whole.
"""

from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import orjson
from starlette.responses import Response, StreamingResponse

from app import fast_paths
from app.db.engine import Database
from app.domain.datasets import StoredTestCase, TestCaseType
from app.domain.jsontext import dumps

PAGE = 2_000  # cases read and rendered at a time
WHOLE_BODY = 16 * 1024 * 1024  # bytes of cases gathered before streaming instead

NULL = "null"


# A stored case unpacks in the order of ``app.domain.datasets.CASE_COLUMNS`` (unpacking a row
# is several times cheaper than reading its columns by name, and this runs per case).


def run_completion_case(case: StoredTestCase, include_outputs: bool) -> str:
    """A completion case of a new test run, under the documented and the SDK's key names."""
    case_id, _, inputs, output, output_message, history, metadata, media_inputs, *_ = case
    if not include_outputs:
        output = output_message = None
    metadata = metadata or NULL
    return (
        f'{{"id":"{case_id}","test_case_id":"{case_id}","values":{inputs},"variables":{inputs},'
        f'"output":{output or NULL},"output_message":{output_message or NULL},'
        f'"history":{messages(history)},"metadata":{metadata},"custom_metadata":{metadata},'
        f'"media_variables":{media_inputs or NULL},"test_case_type":"completion"}}'
    )


def run_trace_case(case: StoredTestCase, include_outputs: bool) -> str:
    case_id, _, inputs, output, _, _, metadata, *_ = case
    output = (output or NULL) if include_outputs else NULL
    return (
        f'{{"test_case_id":"{case_id}","input":{inputs},"output":{output},'
        f'"custom_metadata":{metadata or NULL},"test_case_type":"trace"}}'
    )


def _system_text(message: dict[str, Any]) -> dict[str, Any]:
    if message.get("role") != "system":
        return message
    return {"role": "system", "content": "".join(part["text"] for part in message["content"])}


def messages(text: str | None) -> str:
    """Stored messages (one, or a list) as Freeplay's document gives them in dataset
    listings: a system message's content is its text, others' a list of parts."""
    if text is None:
        return NULL
    if '"system"' not in text:
        return text  # nothing to change: spliced in as stored
    value = orjson.loads(text)
    if isinstance(value, list):
        return dumps([_system_text(m) for m in value])
    return dumps(_system_text(value))


def dataset_completion_case(case: StoredTestCase) -> str:
    """A completion case as ``GET .../test-cases`` lists it (the Freeplay SDK reads these)."""
    case_id, _, inputs, output, output_message, history, metadata, media_inputs, *_ = case
    return (
        f'{{"id":"{case_id}","values":{inputs},"output":{output or NULL},'
        f'"output_message":{messages(output_message)},"history":{messages(history)},'
        f'"metadata":{metadata or NULL},"media_inputs":{media_inputs or NULL}}}'
    )


def dataset_trace_case(case: StoredTestCase) -> str:
    case_id, _, inputs, output, _, _, metadata, *_ = case
    return (
        f'{{"id":"{case_id}","input":{inputs},"output":{output or NULL},'
        f'"custom_metadata":{metadata or NULL}}}'
    )


def prompt_case(case: StoredTestCase) -> str:
    """A completion case as Freeplay's prompt-dataset routes give it (``inputs``)."""
    case_id, _, inputs, output, output_message, history, metadata, media_inputs, *_ = case
    return (
        f'{{"id":"{case_id}","inputs":{inputs},"output":{output or NULL},'
        f'"output_message":{messages(output_message)},"history":{messages(history)},'
        f'"metadata":{metadata or NULL},"media_inputs":{media_inputs or NULL}}}'
    )


def agent_case(case: StoredTestCase) -> str:
    """A trace case as Freeplay's agent-dataset routes give it."""
    case_id, _, inputs, output, _, _, metadata, *_ = case
    return (
        f'{{"id":"{case_id}","input":{inputs},"output":{output or NULL},'
        f'"metadata":{metadata or NULL}}}'
    )


# The same shapes from parsed values, for the plain path.


def _parsed(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def _messages_value(text: str | None) -> Any:
    value = _parsed(text)
    if isinstance(value, list):
        return [_system_text(m) for m in value]
    return value if value is None else _system_text(value)


def _plain_run_completion_case(case: StoredTestCase, include_outputs: bool) -> str:
    case_id, _, inputs, output, output_message, history, metadata, media_inputs, *_ = case
    values, metadata = orjson.loads(inputs), _parsed(metadata)
    return dumps(
        {
            "id": case_id,
            "test_case_id": case_id,
            "values": values,
            "variables": values,
            "output": _parsed(output) if include_outputs else None,
            "output_message": _parsed(output_message) if include_outputs else None,
            "history": _messages_value(history),
            "metadata": metadata,
            "custom_metadata": metadata,
            "media_variables": _parsed(media_inputs),
            "test_case_type": "completion",
        }
    )


def _plain_run_trace_case(case: StoredTestCase, include_outputs: bool) -> str:
    case_id, _, inputs, output, _, _, metadata, *_ = case
    return dumps(
        {
            "test_case_id": case_id,
            "input": orjson.loads(inputs),
            "output": _parsed(output) if include_outputs else None,
            "custom_metadata": _parsed(metadata),
            "test_case_type": "trace",
        }
    )


def _plain_completion(case: StoredTestCase, inputs_key: str) -> str:
    case_id, _, inputs, output, output_message, history, metadata, media_inputs, *_ = case
    return dumps(
        {
            "id": case_id,
            inputs_key: orjson.loads(inputs),
            "output": _parsed(output),
            "output_message": _messages_value(output_message),
            "history": _messages_value(history),
            "metadata": _parsed(metadata),
            "media_inputs": _parsed(media_inputs),
        }
    )


def _plain_trace(case: StoredTestCase, metadata_key: str) -> str:
    case_id, _, inputs, output, _, _, metadata, *_ = case
    return dumps(
        {
            "id": case_id,
            "input": orjson.loads(inputs),
            "output": _parsed(output),
            metadata_key: _parsed(metadata),
        }
    )


class Rendering:
    """One way of rendering cases: each route takes its renderers from here."""

    def __init__(self, fast: bool) -> None:
        self.fast = fast
        if fast:
            self.run_completion_case = run_completion_case
            self.run_trace_case = run_trace_case
            self.dataset_completion_case = dataset_completion_case
            self.dataset_trace_case = dataset_trace_case
            self.prompt_case = prompt_case
            self.agent_case = agent_case
        else:
            self.run_completion_case = _plain_run_completion_case
            self.run_trace_case = _plain_run_trace_case
            self.dataset_completion_case = lambda case: _plain_completion(case, "values")
            self.dataset_trace_case = lambda case: _plain_trace(case, "custom_metadata")
            self.prompt_case = lambda case: _plain_completion(case, "inputs")
            self.agent_case = lambda case: _plain_trace(case, "metadata")

    def dataset_case(self, kind: TestCaseType) -> Callable[[StoredTestCase], str]:
        if kind is TestCaseType.COMPLETION:
            return self.dataset_completion_case
        return self.dataset_trace_case

    def array(
        self, cases: Iterable[StoredTestCase], render: Callable[[StoredTestCase], str]
    ) -> str:
        """The cases as a JSON array."""
        text = json_array(map(render, cases))
        if self.fast:
            fast_paths.used[fast_paths.FAST_JSON] += 1
        return text

    async def response(
        self,
        head: str,
        pages: AsyncIterator[list[StoredTestCase]],
        render: Callable[[StoredTestCase], str],
        tail: str,
        status: int = 200,
    ) -> Response:
        """See ``json_response``."""
        response = await json_response(head, pages, render, tail, status)
        if self.fast:
            fast_paths.used[fast_paths.FAST_JSON] += 1
        return response


FAST = Rendering(fast=True)
PLAIN = Rendering(fast=False)


def chosen(db: Database) -> Rendering:
    """The rendering the settings ask for (``TESTRUNS_FAST_JSON``)."""
    return FAST if db.settings.fast_json else PLAIN


def json_array(items: Iterable[str]) -> str:
    return "[" + ",".join(items) + "]"


async def json_response(
    head: str,
    pages: AsyncIterator[list[StoredTestCase]],
    render: Callable[[StoredTestCase], str],
    tail: str,
    status: int = 200,
) -> Response:
    """``head`` + the rendered cases, comma-separated + ``tail``: streamed when they are more
    than ``WHOLE_BODY``."""
    parts = [head.encode()]
    size = 0
    async for page in pages:
        parts.append(_joined(page, render, first=len(parts) == 1))
        size += len(parts[-1])
        if size > WHOLE_BODY:
            break
    else:
        parts.append(tail.encode())
        return Response(b"".join(parts), status_code=status, media_type="application/json")

    async def chunks() -> AsyncIterator[bytes]:
        while parts:
            yield parts.pop(0)
        async for page in pages:
            yield _joined(page, render, first=False)
        yield tail.encode()

    return StreamingResponse(chunks(), status_code=status, media_type="application/json")


def _joined(
    page: list[StoredTestCase], render: Callable[[StoredTestCase], str], first: bool
) -> bytes:
    text = ",".join(map(render, page))
    return (text if first else "," + text).encode()
