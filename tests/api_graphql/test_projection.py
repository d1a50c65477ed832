"""The fast path for pages of test cases answers exactly as graphql-core's own executor."""

from typing import Any

import orjson
import pytest

from app.api.graphql.context import Context
from app.api.graphql.projection import ProjectingExecutionContext
from app.api.graphql.schema import build_schema
from app.db.engine import Database
from app.domain import keys
from app.settings import Settings
from tests.support import Api, completion_example, trace_example

FAST = build_schema(projection=True)
GENERAL = build_schema(projection=False)

QUERIES = [
    """query($id: ID!) { testRun(id: $id) { testCases(first: 50) {
         totalCount pageInfo { hasNextPage endCursor }
         edges { cursor node { __typename ... on CompletionTestCase { id testCaseId values } ... on TraceTestCase { id testCaseId input } } } } } }""",
    """query($id: ID!) { testRun(id: $id) { testCases(last: 4) {
         pageInfo { hasPreviousPage startCursor }
         edges { node { ... on Node { __typename nodeId: id } ... on TraceTestCase { testCaseId } } } } } }""",
    """query($id: ID!) { testRun(id: $id) { testCases { edges { node { ...C ...T } } } } }
       fragment C on CompletionTestCase { key: id vars: values output metadata mediaInputs
         outputMessage { role content { type text } } history { __typename role content { text } } }
       fragment T on TraceTestCase { id input traceOut: output customMetadata }""",
    """query($id: ID!, $more: Boolean!) { testRun(id: $id) { cases: testCases(first: 3) {
         edges { e1: cursor node { ... on CompletionTestCase { id values @include(if: $more) output @skip(if: $more) } } }
         __typename } } }""",
]


async def run_ids(api: Api) -> list[str]:
    await api.dataset_with_cases("qa", [completion_example(i) for i in range(7)])
    await api.dataset_with_cases("agents", [trace_example(i) for i in range(4)], kind="trace")
    return [
        (await api.create_run(name, include_outputs=include)).json()["test_run_id"]
        for name in ("qa", "agents")
        for include in (True, False)
    ]


async def answer(schema: Any, query: str, variables: dict[str, Any], context: Context) -> Any:
    result = await schema.execute(query, variable_values=variables, context_value=context)
    return orjson.loads(
        orjson.dumps({"data": result.data, "errors": [str(e) for e in result.errors or ()]})
    )


@pytest.mark.parametrize("query", QUERIES)
async def test_fast_path_equals_the_general_executor(
    api: Api, db: Database, settings: Settings, query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = Context(db=db, settings=settings, caller=await keys.authenticate(db, api.key))
    projected = []
    original = ProjectingExecutionContext._object_plan

    def counting(self: Any, *args: Any) -> Any:
        projected.append(args[0].name)
        return original(self, *args)

    monkeypatch.setattr(ProjectingExecutionContext, "_object_plan", counting)

    for run_id in await run_ids(api):
        for more in (True, False):
            variables = {"id": run_id, "more": more}
            fast = await answer(FAST, query, variables, context)
            general = await answer(GENERAL, query, variables, context)
            assert fast == general
            assert fast["errors"] == []
            assert fast["data"]["testRun"] is not None
    assert "TestCaseConnection" in projected  # the fast path did the work
