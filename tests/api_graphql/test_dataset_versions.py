"""Dataset versions over GraphQL: a run keeps its version's cases forever."""

import asyncio

import pytest

from app.main import create_app
from app.settings import Settings
from tests.support import Api, assert_problem, completion_example, served_by, trace_example

UPDATE = """mutation($input: UpdateTestCaseInput!) { updateTestCase(input: $input) {
  version dataset { version testCaseCount }
  testCase { __typename ... on CompletionTestCase { id: testCaseId output metadata } ... on TraceTestCase { id: testCaseId input } } } }"""
DELETE = """mutation($input: DeleteTestCasesInput!) { deleteTestCases(input: $input) {
  version dataset { version testCaseCount } } }"""
RUN_CASES = """query($id: ID!) { testRun(id: $id) { datasetVersion testCases { totalCount
  edges { node { ... on CompletionTestCase { id: testCaseId output } } } } } }"""
DATASET = """query($id: ID!, $at: Int) { dataset(id: $id) { version testCaseCount
  versions { totalCount edges { node { number added edited deleted testCaseCount } } }
  testCases(atVersion: $at) { totalCount edges { node { ... on CompletionTestCase { id: testCaseId output } } } } } }"""


def outputs(connection: dict) -> list:  # type: ignore[type-arg]
    return [(e["node"]["id"], e["node"]["output"]) for e in connection["edges"]]


async def test_a_run_made_at_v3_keeps_v3s_cases_after_edits_and_deletes(api: Api) -> None:
    dataset = await api.create_dataset("qa")
    for i in range(3):  # versions 1, 2, 3
        await api.add_cases(dataset["id"], [completion_example(i)])
    run = (await api.create_run("qa", include_outputs=True)).json()
    ids = [c["id"] for c in run["test_cases"]]

    edited = await api.graphql(
        UPDATE,
        {
            "input": {
                "datasetId": dataset["id"],
                "testCaseId": ids[0],
                "completion": {"output": "edited", "metadata": None},
            }
        },
    )
    deleted = await api.graphql(
        DELETE, {"input": {"datasetId": dataset["id"], "testCaseIds": [ids[1]]}}
    )

    assert edited["data"]["updateTestCase"]["version"] == 4
    assert edited["data"]["updateTestCase"]["testCase"] == {
        "__typename": "CompletionTestCase",
        "id": ids[0],
        "output": "edited",
        "metadata": None,
    }
    assert deleted["data"]["deleteTestCases"] == {
        "version": 5,
        "dataset": {"version": 5, "testCaseCount": 2},
    }
    pinned = (await api.graphql(RUN_CASES, {"id": run["test_run_id"]}))["data"]["testRun"]
    assert pinned["datasetVersion"] == 3
    assert outputs(pinned["testCases"]) == [(c["id"], c["output"]) for c in run["test_cases"]]

    history = (await api.graphql(DATASET, {"id": dataset["id"], "at": 3}))["data"]["dataset"]
    assert outputs(history["testCases"]) == outputs(pinned["testCases"])
    assert history["versions"]["totalCount"] == 6
    assert [e["node"] for e in history["versions"]["edges"]] == [
        {"number": 5, "added": 0, "edited": 0, "deleted": 1, "testCaseCount": 2},
        {"number": 4, "added": 0, "edited": 1, "deleted": 0, "testCaseCount": 3},
        {"number": 3, "added": 1, "edited": 0, "deleted": 0, "testCaseCount": 3},
        {"number": 2, "added": 1, "edited": 0, "deleted": 0, "testCaseCount": 2},
        {"number": 1, "added": 1, "edited": 0, "deleted": 0, "testCaseCount": 1},
        {"number": 0, "added": 0, "edited": 0, "deleted": 0, "testCaseCount": 0},
    ]
    latest = (await api.graphql(DATASET, {"id": dataset["id"], "at": None}))["data"]["dataset"]
    assert outputs(latest["testCases"]) == [(ids[0], "edited"), (ids[2], "answer 2")]
    assert latest["testCases"]["totalCount"] == 2


@pytest.mark.parametrize("at", [-1, 2])
async def test_at_version_outside_the_history_is_invalid_input(api: Api, at: int) -> None:
    dataset = await api.dataset_with_cases("qa", [completion_example(1)])

    body = await api.graphql(DATASET, {"id": dataset["id"], "at": at})

    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_versions_page_with_cursors(api: Api) -> None:
    dataset = await api.create_dataset("qa")
    for i in range(4):
        await api.add_cases(dataset["id"], [completion_example(i)])
    query = """query($id: ID!, $after: String) { dataset(id: $id) { versions(first: 2, after: $after) {
        pageInfo { hasNextPage endCursor } edges { node { number } } } } }"""

    seen, after = [], None
    while True:
        page = (await api.graphql(query, {"id": dataset["id"], "after": after}))["data"]["dataset"][
            "versions"
        ]
        seen += [e["node"]["number"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert seen == [4, 3, 2, 1, 0]


async def test_trace_cases_are_edited_through_the_trace_patch(api: Api) -> None:
    dataset = await api.dataset_with_cases("agents", [trace_example(1)], kind="trace")
    case_id = (await api.get(f"/datasets/id/{dataset['id']}/test-cases")).json()[0]["id"]

    good = await api.graphql(
        UPDATE,
        {"input": {"datasetId": dataset["id"], "testCaseId": case_id, "trace": {"input": "new"}}},
    )
    wrong = await api.graphql(
        UPDATE,
        {
            "input": {
                "datasetId": dataset["id"],
                "testCaseId": case_id,
                "completion": {"output": "x"},
            }
        },
    )

    assert good["data"]["updateTestCase"]["testCase"] == {
        "__typename": "TraceTestCase",
        "id": case_id,
        "input": "new",
    }
    assert wrong["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_datasets_are_updated_and_deleted_through_mutations(api: Api) -> None:
    dataset = await api.dataset_with_cases("qa", [completion_example(1)])
    await api.create_run("qa")

    updated = await api.graphql(
        """mutation($input: UpdateDatasetInput!) { updateDataset(input: $input) {
             dataset { name description version } } }""",
        {"input": {"datasetId": dataset["id"], "name": "qa-2", "description": "d"}},
    )
    refused = await api.graphql(
        "mutation($input: DeleteDatasetInput!) { deleteDataset(input: $input) { deletedDatasetId } }",
        {"input": {"datasetId": dataset["id"]}},
    )
    forced = await api.graphql(
        "mutation($input: DeleteDatasetInput!) { deleteDataset(input: $input) { deletedDatasetId } }",
        {"input": {"datasetId": dataset["id"], "force": True}},
    )

    assert updated["data"]["updateDataset"]["dataset"] == {
        "name": "qa-2",
        "description": "d",
        "version": 1,
    }
    assert refused["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert forced["data"]["deleteDataset"]["deletedDatasetId"] == dataset["id"]
    gone = await api.graphql("query($id: ID!) { dataset(id: $id) { id } }", {"id": dataset["id"]})
    assert gone["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_paging_while_cases_are_added_skips_and_repeats_nothing(api: Api) -> None:
    dataset = await api.dataset_with_cases("qa", [completion_example(i) for i in range(20)])
    original = [c["id"] for c in (await api.get(f"/datasets/id/{dataset['id']}/test-cases")).json()]
    query = """query($id: ID!, $after: String) { dataset(id: $id) { testCases(first: 3, after: $after) {
        pageInfo { hasNextPage endCursor } edges { node { ... on CompletionTestCase { id: testCaseId } } } } } }"""

    async def add_more() -> None:
        for i in range(10):
            await api.add_cases(dataset["id"], [completion_example(100 + i)])
            await asyncio.sleep(0)

    async def page_through() -> list[str]:
        seen, after = [], None
        while True:
            page = (await api.graphql(query, {"id": dataset["id"], "after": after}))["data"][
                "dataset"
            ]["testCases"]
            seen += [e["node"]["id"] for e in page["edges"]]
            await asyncio.sleep(0)
            if not page["pageInfo"]["hasNextPage"]:
                return seen
            after = page["pageInfo"]["endCursor"]

    seen, _ = await asyncio.gather(page_through(), add_more())

    assert len(seen) == len(set(seen))
    assert seen[: len(original)] == original


async def test_limits_answer_with_clear_errors_on_both_surfaces(
    api: Api, settings: Settings
) -> None:
    dataset = await api.create_dataset("qa")
    limited = create_app(
        settings.model_copy(update={"max_cases_per_request": 3, "max_test_case_bytes": 300})
    )
    async with served_by(limited, api) as small:
        too_many = await small.post(
            f"/datasets/id/{dataset['id']}/test-cases", {"examples": [{"inputs": {}}] * 4}
        )
        too_big = await small.post(
            f"/datasets/id/{dataset['id']}/test-cases", {"examples": [{"inputs": {"q": "x" * 400}}]}
        )
        graphql_big = await small.graphql(
            """mutation($input: AddTestCasesInput!) { addTestCases(input: $input) { version } }""",
            {
                "input": {
                    "datasetId": dataset["id"],
                    "completionCases": [{"values": {"q": "x" * 400}}],
                }
            },
        )
        graphql_many = await small.graphql(
            """mutation($input: AddTestCasesInput!) { addTestCases(input: $input) { version } }""",
            {"input": {"datasetId": dataset["id"], "completionCases": [{"values": {}}] * 4}},
        )

    assert "at most 3" in assert_problem(too_many, 422, "invalid_input")["detail"]
    assert "at most 300" in assert_problem(too_big, 422, "invalid_input")["detail"]
    assert graphql_big["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert "at most 300" in graphql_big["errors"][0]["message"]
    assert "at most 3" in graphql_many["errors"][0]["message"]
    assert (await api.get("/datasets/name/qa")).json()["version"] == 0


async def test_variables_must_be_an_object_and_trace_input_present_over_graphql(api: Api) -> None:
    completion = await api.create_dataset("qa")
    trace = await api.create_dataset("agents", kind="trace")
    add = """mutation($input: AddTestCasesInput!) { addTestCases(input: $input) { version } }"""

    not_object = await api.graphql(
        add, {"input": {"datasetId": completion["id"], "completionCases": [{"values": [1, 2]}]}}
    )
    no_input = await api.graphql(
        add, {"input": {"datasetId": trace["id"], "traceCases": [{"input": None}]}}
    )

    assert not_object["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert "inputs" in not_object["errors"][0]["message"]
    # input is JSON! in the schema, so a null is refused before the domain sees it.
    assert no_input["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "input" in no_input["errors"][0]["message"]
