"""Connections page backwards too (last/before), with the same keyset cursors as forwards,
and PageInfo tells both ways whether more lie beyond the page."""

from typing import Any

import pytest

from tests.support import Api, completion_example, record

PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
CASE = "... on CompletionTestCase { testCaseId }"

# Each connection: the query (it receives $id, $first, $after, $last, $before), the path to
# the connection in the answer, and how to tell an item.
CONNECTIONS: dict[str, tuple[str, list[str], Any]] = {
    "dataset cases": (
        f"""query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {{
          dataset(id: $id) {{ testCases(first: $first, after: $after, last: $last,
            before: $before) {{ {PAGE_INFO} edges {{ cursor node {{ {CASE} }} }} }} }} }}""",
        ["dataset", "testCases"],
        lambda node: node["testCaseId"],
    ),
    "run cases": (
        f"""query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {{
          testRun(id: $id) {{ testCases(first: $first, after: $after, last: $last,
            before: $before) {{ {PAGE_INFO} edges {{ cursor node {{ {CASE} }} }} }} }} }}""",
        ["testRun", "testCases"],
        lambda node: node["testCaseId"],
    ),
    "run results": (
        f"""query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {{
          testRun(id: $id) {{ results(first: $first, after: $after, last: $last,
            before: $before) {{ {PAGE_INFO} edges {{ cursor node {{ id repetition }} }} }} }} }}""",
        ["testRun", "results"],
        lambda node: node["id"],
    ),
    "dataset versions": (
        f"""query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {{
          dataset(id: $id) {{ versions(first: $first, after: $after, last: $last,
            before: $before) {{ {PAGE_INFO} edges {{ cursor node {{ number }} }} }} }} }}""",
        ["dataset", "versions"],
        lambda node: node["number"],
    ),
    "project datasets": (
        f"""query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {{
          project(id: $id) {{ datasets(first: $first, after: $after, last: $last,
            before: $before) {{ {PAGE_INFO} edges {{ cursor node {{ name }} }} }} }} }}""",
        ["project", "datasets"],
        lambda node: node["name"],
    ),
    "project runs": (
        f"""query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {{
          project(id: $id) {{ testRuns(first: $first, after: $after, last: $last,
            before: $before) {{ {PAGE_INFO} edges {{ cursor node {{ id }} }} }} }} }}""",
        ["project", "testRuns"],
        lambda node: node["id"],
    ),
}


async def arrange(api: Api) -> dict[str, str]:
    """Every connection holds 5 items (7 results: a case recorded three times)."""
    dataset = await api.create_dataset("qa")
    for i in range(5):
        await api.add_cases(dataset["id"], [completion_example(i)])  # versions 1..5
    for name in ("b", "c", "d", "e"):
        await api.create_dataset(name)
    runs = [(await api.create_run("qa")).json() for _ in range(5)]
    run = runs[0]
    for case in run["test_cases"]:
        await record(api, run["test_run_id"], case["id"], output="x")
    for repetition in (1, 2):
        await record(api, run["test_run_id"], run["test_cases"][2]["id"], repetition=repetition)
    return {
        "dataset cases": dataset["id"],
        "run cases": run["test_run_id"],
        "run results": run["test_run_id"],
        "dataset versions": dataset["id"],
        "project datasets": api.project_id,
        "project runs": api.project_id,
    }


def connection(body: dict[str, Any], path: list[str]) -> dict[str, Any]:
    assert "errors" not in body, body
    found = body["data"]
    for key in path:
        found = found[key]
    return found


@pytest.mark.parametrize("name", list(CONNECTIONS))
async def test_paging_backwards_meets_every_item_in_order(api: Api, name: str) -> None:
    query, path, key = CONNECTIONS[name]
    object_id = (await arrange(api))[name]

    async def page(**arguments: Any) -> dict[str, Any]:
        variables = {"id": object_id, "first": None, "after": None, "last": None, "before": None}
        return connection(await api.graphql(query, {**variables, **arguments}), path)

    everything = [key(e["node"]) for e in (await page(first=100))["edges"]]
    backwards: list[Any] = []
    pages = []
    before = None
    while True:
        current = await page(last=3, before=before)
        pages.append(current)
        backwards = [key(e["node"]) for e in current["edges"]] + backwards
        if not current["pageInfo"]["hasPreviousPage"]:
            break
        before = current["pageInfo"]["startCursor"]

    assert backwards == everything
    assert len(everything) >= 5
    last, first = pages[0], pages[-1]
    assert last["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "startCursor": last["edges"][0]["cursor"],
        "endCursor": last["edges"][-1]["cursor"],
    }
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["hasPreviousPage"] is False
    forward = await page(first=2, after=first["pageInfo"]["endCursor"])
    assert forward["pageInfo"]["hasPreviousPage"] is True
    assert key(forward["edges"][0]["node"]) == everything[len(first["edges"])]
    between = await page(
        first=10, after=first["edges"][0]["cursor"], before=last["edges"][-1]["cursor"]
    )
    assert [key(e["node"]) for e in between["edges"]] == everything[1:-1]


async def test_first_and_last_together_are_refused(api: Api) -> None:
    query, _, _ = CONNECTIONS["project datasets"]
    body = await api.graphql(
        query, {"id": api.project_id, "first": 2, "after": None, "last": 2, "before": None}
    )
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert body["errors"][0]["extensions"]["fields"][0]["loc"] == ["last"]


async def test_a_cursor_of_another_connection_is_refused_as_before(api: Api) -> None:
    query, _, _ = CONNECTIONS["project runs"]
    dataset = await api.dataset_with_cases("qa", [completion_example(0)])
    cursor = (await api.graphql(CONNECTIONS["dataset cases"][0], {"id": dataset["id"]}))["data"][
        "dataset"
    ]["testCases"]["pageInfo"]["endCursor"]
    body = await api.graphql(query, {"id": api.project_id, "last": 2, "before": cursor})
    assert body["errors"][0]["extensions"]["fields"][0]["loc"] == ["before"]
