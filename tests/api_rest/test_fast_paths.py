"""The fast paths (docs/DESIGN.md, "Fast paths and their fences") are in use when on, and an
app with all of them off answers the same sequence of REST and GraphQL requests identically.

Both apps share one database, each in a project of its own; ids (and cursors, which hold
them) and timestamps necessarily differ: ids are renamed in order of appearance and times
blanked before answers are compared.
"""

import re
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from app import fast_paths
from app.db.engine import Database
from app.domain import keys, projects
from app.main import create_app
from app.settings import Settings
from tests.support import RECORD, Api, asgi_client, completion_example, message, trace_example

ALL_OFF = {
    "fast_graphql_projection": False,
    "fast_sqlite_driver": False,
    "fast_query_cache": False,
    "fast_json": False,
    "fast_routes": False,
    "fast_statements": False,
}

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIME_KEYS = {"created_at", "updated_at", "completed_at", "createdAt", "updatedAt", "completedAt"}
OPAQUE_KEYS = {"cursor", "startCursor", "endCursor", "e1", "id", "nodeId"}

CASES = """query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  testRun(id: $id) { name status testCases(first: $first, after: $after, last: $last, before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { __typename ...C ... on TraceTestCase { testCaseId input traceOut: output customMetadata }
      ... on Node { nodeId: id } } } } } }
fragment C on CompletionTestCase { id testCaseId vars: values output metadata mediaInputs
  outputMessage { role content { type text } } history { __typename role content { text } } }"""

DATASET_CASES = """query($id: ID!) { node(id: $id) { ... on Dataset { name version
  testCases(first: 4) { edges { node { __typename ... on CompletionTestCase { testCaseId values history { role } } } } } } } }"""


def completion(i: int) -> dict[str, Any]:
    case = completion_example(i)
    if i % 3 == 0:  # a system message: listings give its content as text
        case["history"] = [message("system", f"be brief {i}"), *case["history"]]
    if i % 4 == 1:
        case.update(output=None, output_message=None, metadata=None)
    return case


class Sequence:
    """One app's run of the requests; what it answered, with ids renamed in order of
    appearance."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.answers: list[Any] = []
        self.names: dict[str, str] = {}

    def _rename(self, value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            return {k: self._rename(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self._rename(v, key) for v in value]
        if key in TIME_KEYS and value is not None:
            return "<time>"
        if isinstance(value, str) and (key in OPAQUE_KEYS or UUID.fullmatch(value)):
            return self.names.setdefault(value, f"<{len(self.names)}>")
        return value

    def keep(self, status: int, body: Any) -> Any:
        self.answers.append((status, self._rename(body)))
        return body

    async def rest(self, method: str, path: str, json: Any = None, **params: Any) -> Any:
        response = await self.api.client.request(
            method, self.api.url(path), json=json, params=params, headers=self.api.headers
        )
        return self.keep(response.status_code, response.json())

    async def graphql(self, query: str, **variables: Any) -> Any:
        body = await self.api.graphql(query, variables)
        assert "errors" not in body, body
        return self.keep(200, body)


async def scenario(run: Sequence) -> None:
    """Datasets, cases, runs, results and every listing, through both APIs."""
    prompt = await run.rest("POST", "/prompt-datasets", {"name": "qa"})
    await run.rest(
        "POST",
        f"/datasets/id/{prompt['id']}/test-cases",
        {"examples": [completion(i) for i in range(9)]},
    )
    bulk = {
        "data": [
            {k: v for k, v in completion(i).items() if k != "inputs"} | {"inputs": {"n": i}}
            for i in (9, 10)
        ]
    }
    await run.rest("POST", f"/prompt-datasets/{prompt['id']}/test-cases/bulk", bulk)
    agents = await run.rest("POST", "/agent-datasets", {"name": "agents"})
    await run.rest(
        "POST",
        f"/datasets/id/{agents['id']}/test-cases",
        {"examples": [trace_example(i) for i in range(5)]},
    )
    traces = {"data": [{"inputs": {"task": "more"}, "outputs": {"ok": True}, "metadata": None}]}
    await run.rest("POST", f"/agent-datasets/{agents['id']}/test-cases/bulk", traces)

    listed = await run.rest("GET", f"/datasets/id/{prompt['id']}/test-cases")
    await run.rest("GET", f"/datasets/id/{prompt['id']}/test-cases", page=2, page_size=4)
    await run.rest("GET", f"/datasets/id/{agents['id']}/test-cases")
    await run.rest("GET", "/datasets/name/qa/test-cases")
    await run.rest("GET", f"/prompt-datasets/{prompt['id']}/test-cases", page=1, page_size=5)
    await run.rest("GET", f"/agent-datasets/{agents['id']}/test-cases", page=1, page_size=5)
    await run.rest(
        "PATCH", f"/datasets/id/{prompt['id']}/test-cases/id/{listed[0]['id']}", {"output": "new"}
    )
    first = f"/prompt-datasets/{prompt['id']}/test-cases/{listed[0]['id']}"
    await run.rest("GET", first)
    await run.rest("PATCH", first, {"metadata": {"edited": True}})
    traced = await run.rest("GET", f"/datasets/id/{agents['id']}/test-cases")
    await run.rest("GET", f"/agent-datasets/{agents['id']}/test-cases/{traced[1]['id']}")

    runs = []
    for name, include in (("qa", True), ("qa", False), ("agents", True), ("agents", False)):
        request = {"dataset_name": name, "include_outputs": include, "test_run_name": name}
        body = await run.rest("POST", "/test-runs", request)
        runs.append(body["test_run_id"])
        cases = body["test_cases"] or body["trace_test_cases"]
        for i, case in enumerate(cases[:3]):
            recorded = await run.graphql(
                RECORD,
                input={
                    "testRunId": body["test_run_id"],
                    "testCaseId": case["test_case_id"],
                    "output": {"text": f"out {i}"},
                    "evalResults": {"score": i / 2, "ok": i % 2 == 0},
                },
            )
            assert recorded["data"]["recordTestCaseResult"]["result"]

    for run_id in runs:
        for _ in range(2):  # the second time, the query text is known
            page = await run.graphql(CASES, id=run_id, first=4)
        connection = page["data"]["testRun"]["testCases"]
        after = connection["pageInfo"]["endCursor"]
        forward = await run.graphql(CASES, id=run_id, first=3, after=after)
        end = forward["data"]["testRun"]["testCases"]["pageInfo"]["endCursor"]
        await run.graphql(CASES, id=run_id, last=2, before=end)
        await run.graphql(CASES, id=run_id, last=3)
        await run.rest("GET", f"/test-runs/id/{run_id}")
    await run.graphql(DATASET_CASES, id=prompt["id"])
    await run.rest("GET", "/test-runs")
    await run.rest("GET", "/test-runs", page=2, page_size=1)
    await run.rest("GET", "/test-runs", page=9, page_size=2)  # past the end
    await run.rest("GET", "/test-runs", status="pending", page_size=2)
    await run.rest("GET", "/test-runs", dataset_id=prompt["id"])
    await run.rest("GET", "/test-runs", page=0)  # refused: the app's own 422
    await run.rest("GET", "/test-runs", page_size="many")
    await run.rest("POST", "/test-runs", {"dataset_name": "missing"})  # 404
    await run.rest("POST", "/test-runs", {"dataset_name": 5})  # 422
    await run.rest(
        "POST", "/test-runs", {"dataset_name": "qa", "test_run_name": "x", "surprise": True}
    )


@pytest.fixture
async def plain_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(create_app(settings.model_copy(update=ALL_OFF))) as client:
        yield client


async def project_api(db: Database, client: httpx.AsyncClient) -> Api:
    project = await projects.create_project(db, "Fenced")
    _, key = await keys.create_key(db, admin=False, project_ids=[project.id])
    return Api(client, key, project.id)


async def counted(work: Callable[[], Awaitable[None]]) -> Counter[str]:
    before = fast_paths.used.copy()
    await work()
    return fast_paths.used - before


async def test_all_fast_paths_off_answer_the_same(
    client: httpx.AsyncClient, plain_client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    fast = Sequence(await project_api(db, client))
    plain = Sequence(await project_api(db, plain_client))
    used_fast = await counted(lambda: scenario(fast))
    used_plain = await counted(lambda: scenario(plain))

    assert len(fast.answers) == len(plain.answers)
    for step, (answer, other) in enumerate(zip(fast.answers, plain.answers, strict=True)):
        assert answer == other, f"request {step}"

    # On, each did the work; off, none of them ran.
    assert used_fast[fast_paths.GRAPHQL_PROJECTION] > 0
    assert used_fast[fast_paths.QUERY_CACHE] > 0
    assert used_fast[fast_paths.FAST_JSON] > 0
    assert used_fast[fast_paths.DIRECT_ROUTE] > 0
    assert (used_fast[fast_paths.SQLITE_INLINE] > 0) is settings.is_sqlite
    assert used_fast[fast_paths.DIRECT_STATEMENT] > 0
    assert +used_plain == Counter()


SETTING_OF = {
    fast_paths.GRAPHQL_PROJECTION: "fast_graphql_projection",
    fast_paths.SQLITE_INLINE: "fast_sqlite_driver",
    fast_paths.QUERY_CACHE: "fast_query_cache",
    fast_paths.FAST_JSON: "fast_json",
    fast_paths.DIRECT_ROUTE: "fast_routes",
    fast_paths.DIRECT_STATEMENT: "fast_statements",
}


async def short_scenario(run: Sequence) -> None:
    dataset = await run.rest("POST", "/prompt-datasets", {"name": "qa"})
    examples = {"examples": [completion(i) for i in range(3)]}
    await run.rest("POST", f"/datasets/id/{dataset['id']}/test-cases", examples)
    body = await run.rest("POST", "/test-runs", {"dataset_name": "qa", "test_run_name": "qa"})
    for _ in range(2):
        await run.graphql(CASES, id=body["test_run_id"], first=2)


@pytest.mark.parametrize("path", list(SETTING_OF))
async def test_each_setting_turns_off_its_fast_path_alone(
    settings: Settings, db: Database, path: str
) -> None:
    application = create_app(settings.model_copy(update={SETTING_OF[path]: False}))
    async with asgi_client(application) as client:
        run = Sequence(await project_api(db, client))
        used = await counted(lambda: short_scenario(run))
    assert used[path] == 0
    others = set(SETTING_OF) - {path}
    if not settings.is_sqlite:
        others.discard(fast_paths.SQLITE_INLINE)  # SQLite's own
    elif path == fast_paths.SQLITE_INLINE:
        others.discard(fast_paths.DIRECT_STATEMENT)  # on SQLite it runs through that driver
    assert all(used[other] > 0 for other in others), used
