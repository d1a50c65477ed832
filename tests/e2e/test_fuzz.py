"""Property-based fuzzing of both APIs with schemathesis: every documented operation, with a
valid key, must never answer 5xx nor anything its schema does not document (status code,
content type, headers, body). Requests the domain refuses for reasons a schema cannot say
(an unknown dataset, text with U+0000) are fine: 4xx answers are documented problems.

Requests go over HTTP to a live server (as clients send them). Bounded (examples per
operation, derandomized so a run is repeatable) to keep the suite quick;
scripts/fuzz runs the same tests with many more examples (TESTRUNS_FUZZ_EXAMPLES).
"""

import os
from collections.abc import Callable
from typing import Any

import anyio
import graphql
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support import Api, completion_example

EXAMPLES = int(os.environ.get("TESTRUNS_FUZZ_EXAMPLES", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _json_node(value: Any) -> graphql.ValueNode:
    """A GraphQL literal for a JSON value (the JSON scalar takes literals of any shape)."""
    if value is None:
        return graphql.NullValueNode()
    if isinstance(value, bool):
        return graphql.BooleanValueNode(value=value)
    if isinstance(value, int):
        return graphql.IntValueNode(value=str(value))
    if isinstance(value, str):
        return graphql.StringValueNode(value=value)
    if isinstance(value, list):
        return graphql.ListValueNode(values=tuple(_json_node(v) for v in value))
    return graphql.ObjectValueNode(
        fields=tuple(
            graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=_json_node(v))
            for k, v in value.items()
        )
    )


_names = st.from_regex(r"[_A-Za-z][_0-9A-Za-z]{0,8}", fullmatch=True)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_names, inner, max_size=3),
    max_leaves=8,
)
schemathesis.graphql.scalar("JSON", _json.map(_json_node))


@pytest.fixture
async def seeded(api: Api) -> Api:
    """A project with a dataset and a run, so generated requests can reach real data."""
    await api.dataset_with_cases("qa", [completion_example(i) for i in range(3)])
    await api.create_run("qa")
    return api


def fuzz(schema: Any, check: Callable[[Any], None]) -> tuple[int, int]:
    """Run ``check`` on generated cases of every operation, valid and invalid ones; how many
    operations there were and how many cases ran."""
    operations = [result.ok() for result in schema.get_all_operations()]
    cases = 0
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @FUZZ
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: Any) -> None:
                nonlocal cases
                cases += 1
                check(case)

            try:
                run()
            except Unsatisfiable:
                continue  # no invalid input exists (an operation without parameters)
            except Exception as error:
                raise AssertionError(f"{operation.label} ({mode.value}): {error}") from error
    print(f"fuzzed {cases} cases over {len(operations)} operations")
    return len(operations), cases


async def test_rest_operations_never_fail_or_break_their_schema(live_url: str, seeded: Api) -> None:
    schema = await anyio.to_thread.run_sync(
        schemathesis.openapi.from_url, f"{live_url}/openapi.json"
    )

    @schema.hook
    def map_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
        # Most requests go to the key's own project, so they reach the code behind the 404.
        if path_parameters and "project_id" in path_parameters:
            path_parameters["project_id"] = seeded.project_id
        return path_parameters

    operations, cases = await anyio.to_thread.run_sync(
        fuzz, schema, lambda case: case.call_and_validate(headers=seeded.headers, checks=CHECKS)
    )
    assert operations >= 40
    assert cases >= operations * min(EXAMPLES, 2)


async def test_graphql_operations_never_fail(live_url: str, seeded: Api) -> None:
    schema = await anyio.to_thread.run_sync(
        lambda: schemathesis.graphql.from_url(f"{live_url}/graphql", headers=seeded.headers)
    )

    def check(case: Any) -> None:
        response = case.call(headers=seeded.headers)
        assert response.status_code < 500, response.text

    operations, cases = await anyio.to_thread.run_sync(fuzz, schema, check)
    assert operations >= 20
    assert cases >= operations * min(EXAMPLES, 2)
