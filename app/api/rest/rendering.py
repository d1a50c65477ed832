"""JSON bodies assembled from stored JSON text: a case's documents are spliced in as they were
stored, never parsed and re-serialised. Ids are uuids, so they need no escaping.

Long lists are streamed a page at a time, so a body of 100,000 cases never sits in memory
whole; a list that fits in one page is sent as one ordinary response.
"""

from collections.abc import AsyncIterator, Callable, Iterable

from starlette.responses import Response, StreamingResponse

from app.domain.datasets import StoredTestCase, TestCaseType

PAGE = 2_000  # cases read and rendered at a time

NULL = "null"


def run_completion_case(case: StoredTestCase, include_outputs: bool) -> str:
    """A completion case of a new test run, under the documented and the SDK's key names."""
    output = (case.output or NULL) if include_outputs else NULL
    output_message = (case.output_message or NULL) if include_outputs else NULL
    metadata = case.metadata or NULL
    return (
        f'{{"id":"{case.id}","test_case_id":"{case.id}",'
        f'"values":{case.inputs},"variables":{case.inputs},'
        f'"output":{output},"output_message":{output_message},"history":{case.history or NULL},'
        f'"metadata":{metadata},"custom_metadata":{metadata},'
        f'"media_variables":{case.media_inputs or NULL},"test_case_type":"completion"}}'
    )


def run_trace_case(case: StoredTestCase, include_outputs: bool) -> str:
    output = (case.output or NULL) if include_outputs else NULL
    return (
        f'{{"test_case_id":"{case.id}","input":{case.inputs},"output":{output},'
        f'"custom_metadata":{case.metadata or NULL},"test_case_type":"trace"}}'
    )


def dataset_completion_case(case: StoredTestCase) -> str:
    """A completion case as ``GET .../test-cases`` lists it (the Freeplay SDK reads these)."""
    return (
        f'{{"id":"{case.id}","values":{case.inputs},"output":{case.output or NULL},'
        f'"output_message":{case.output_message or NULL},"history":{case.history or NULL},'
        f'"metadata":{case.metadata or NULL},"media_inputs":{case.media_inputs or NULL}}}'
    )


def dataset_trace_case(case: StoredTestCase) -> str:
    return (
        f'{{"id":"{case.id}","input":{case.inputs},"output":{case.output or NULL},'
        f'"custom_metadata":{case.metadata or NULL}}}'
    )


def dataset_case(kind: TestCaseType) -> Callable[[StoredTestCase], str]:
    return dataset_completion_case if kind is TestCaseType.COMPLETION else dataset_trace_case


def json_array(items: Iterable[str]) -> str:
    return "[" + ",".join(items) + "]"


async def json_response(
    head: str,
    pages: AsyncIterator[list[StoredTestCase]],
    render: Callable[[StoredTestCase], str],
    tail: str,
    status: int = 200,
) -> Response:
    """``head`` + the rendered cases, comma-separated + ``tail``: streamed when they take
    more than one page."""
    first = await anext(pages, [])
    if len(first) < PAGE:
        body = head + ",".join(map(render, first)) + tail
        return Response(body.encode(), status_code=status, media_type="application/json")

    async def chunks() -> AsyncIterator[bytes]:
        yield (head + ",".join(map(render, first))).encode()
        async for page in pages:
            yield ("," + ",".join(map(render, page))).encode()
        yield tail.encode()

    return StreamingResponse(chunks(), status_code=status, media_type="application/json")
