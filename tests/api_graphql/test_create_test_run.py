"""createTestRun over GraphQL: the union, field selection, and agreement with REST."""

import pytest

from tests.support import Api, completion_example, message, trace_example

CREATE = """
mutation Create($input: CreateTestRunInput!) {
  createTestRun(input: $input) {
    testRun {
      id name description status datasetVersion includeOutputs testCaseCount
      dataset { name testCaseType }
      testCases(first: 100) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node {
          __typename
          ... on CompletionTestCase { id values }
          ... on TraceTestCase { id input }
        } }
      }
    }
  }
}
"""

# `output` is a String on completion cases and JSON on trace cases; GraphQL requires an alias
# when one document selects both.
ALL_FIELDS = """
mutation Create($input: CreateTestRunInput!) {
  createTestRun(input: $input) {
    testRun { testCases { edges { node {
      __typename
      ... on CompletionTestCase {
        id testCaseId values output metadata mediaInputs
        outputMessage { role content { type text } }
        history { role content { type text } }
      }
      ... on TraceTestCase { id testCaseId input traceOutput: output customMetadata }
    } } } }
  }
}
"""


def nodes(data: dict) -> list[dict]:  # type: ignore[type-arg]
    return [e["node"] for e in data["createTestRun"]["testRun"]["testCases"]["edges"]]


async def test_completion_cases_return_only_the_selected_fields(api: Api) -> None:
    examples = [completion_example(i) for i in range(3)]
    await api.dataset_with_cases("qa", examples)

    body = await api.graphql(CREATE, {"input": {"projectId": api.project_id, "datasetName": "qa"}})

    assert "errors" not in body
    run = body["data"]["createTestRun"]["testRun"]
    assert run["status"] == "CREATED"
    assert run["datasetVersion"] == 1
    assert run["testCaseCount"] == 3
    assert run["includeOutputs"] is False
    assert run["description"] == ""
    assert run["name"].startswith("qa ")
    assert run["dataset"] == {"name": "qa", "testCaseType": "COMPLETION"}
    assert run["testCases"]["totalCount"] == 3
    assert run["testCases"]["pageInfo"]["hasNextPage"] is False
    for node, example in zip(nodes(body["data"]), examples, strict=True):
        assert set(node) == {"__typename", "id", "values"}
        assert node["__typename"] == "CompletionTestCase"
        assert node["values"] == example["inputs"]


async def test_trace_cases_resolve_to_the_trace_member(api: Api) -> None:
    examples = [trace_example(i) for i in range(2)]
    await api.dataset_with_cases("agents", examples, kind="trace")

    body = await api.graphql(
        CREATE, {"input": {"projectId": api.project_id, "datasetName": "agents"}}
    )

    found = nodes(body["data"])
    assert [set(n) for n in found] == [{"__typename", "id", "input"}] * 2
    assert [n["__typename"] for n in found] == ["TraceTestCase"] * 2
    assert [n["input"] for n in found] == [e["input"] for e in examples]


async def test_all_fields_follow_include_outputs(api: Api) -> None:
    example = completion_example(1)
    await api.dataset_with_cases("qa", [example])
    await api.dataset_with_cases("agents", [trace_example(1)], kind="trace")

    def run_input(name: str, include: bool) -> dict:  # type: ignore[type-arg]
        return {
            "input": {"projectId": api.project_id, "datasetName": name, "includeOutputs": include}
        }

    shown = nodes((await api.graphql(ALL_FIELDS, run_input("qa", True)))["data"])[0]
    hidden = nodes((await api.graphql(ALL_FIELDS, run_input("qa", False)))["data"])[0]
    trace_shown = nodes((await api.graphql(ALL_FIELDS, run_input("agents", True)))["data"])[0]
    trace_hidden = nodes((await api.graphql(ALL_FIELDS, run_input("agents", False)))["data"])[0]

    assert shown["output"] == example["output"]
    assert shown["outputMessage"] == example["output_message"]
    assert shown["history"] == example["history"]
    assert shown["metadata"] == example["metadata"]
    assert shown["mediaInputs"] is None
    assert hidden["output"] is None
    assert hidden["outputMessage"] is None
    assert hidden["history"] == example["history"]
    assert trace_shown["traceOutput"] == trace_example(1)["output"]
    assert trace_shown["customMetadata"] == trace_example(1)["custom_metadata"]
    assert trace_hidden["traceOutput"] is None


async def test_rest_and_graphql_return_the_same_cases_in_the_same_order(api: Api) -> None:
    dataset = await api.create_dataset("qa")
    await api.add_cases(dataset["id"], [completion_example(i) for i in range(4)])
    await api.add_cases(dataset["id"], [completion_example(i) for i in range(4, 9)])

    rest = (await api.create_run("qa", include_outputs=True)).json()["test_cases"]
    graphql = nodes(
        (
            await api.graphql(
                ALL_FIELDS,
                {
                    "input": {
                        "projectId": api.project_id,
                        "datasetName": "qa",
                        "includeOutputs": True,
                    }
                },
            )
        )["data"]
    )

    assert [(c["id"], c["values"], c["output"], c["metadata"]) for c in rest] == [
        (n["testCaseId"], n["values"], n["output"], n["metadata"]) for n in graphql
    ]


async def test_run_pins_its_dataset_version(api: Api) -> None:
    dataset = await api.create_dataset("qa")
    await api.add_cases(dataset["id"], [completion_example(i) for i in range(2)])
    run_id = (await api.create_run("qa")).json()["test_run_id"]

    await api.add_cases(dataset["id"], [completion_example(i) for i in range(2, 5)])

    body = await api.graphql(
        """query($id: ID!) { testRun(id: $id) { datasetVersion testCaseCount
             testCases { totalCount edges { node { ... on CompletionTestCase { values } } } } } }""",
        {"id": run_id},
    )
    run = body["data"]["testRun"]
    assert run["datasetVersion"] == 1
    assert run["testCaseCount"] == 2
    assert [e["node"]["values"]["n"] for e in run["testCases"]["edges"]] == [0, 1]
    latest = (await api.create_run("qa")).json()["test_cases"]
    assert [c["values"]["n"] for c in latest] == [0, 1, 2, 3, 4]


async def test_test_cases_page_with_cursors(api: Api) -> None:
    await api.dataset_with_cases("qa", [completion_example(i) for i in range(7)])
    run_id = (await api.create_run("qa")).json()["test_run_id"]
    query = """query($id: ID!, $after: String) { testRun(id: $id) { testCases(first: 3, after: $after) {
        pageInfo { hasNextPage endCursor } edges { cursor node { ... on CompletionTestCase { values } } } } } }"""

    seen, after, pages = [], None, 0
    while True:
        page = (await api.graphql(query, {"id": run_id, "after": after}))["data"]["testRun"][
            "testCases"
        ]
        seen += [e["node"]["values"]["n"] for e in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert seen == list(range(7))
    assert pages == 3


async def test_dataset_and_cases_are_made_through_mutations(api: Api) -> None:
    created = await api.graphql(
        """mutation($input: CreateDatasetInput!) { createDataset(input: $input) {
             dataset { id name testCaseType version testCaseCount } } }""",
        {"input": {"projectId": api.project_id, "name": "qa", "testCaseType": "COMPLETION"}},
    )
    dataset = created["data"]["createDataset"]["dataset"]
    added = await api.graphql(
        """mutation($input: AddTestCasesInput!) { addTestCases(input: $input) {
             version testCaseIds dataset { version testCaseCount } } }""",
        {
            "input": {
                "datasetId": dataset["id"],
                "completionCases": [
                    {
                        "values": {"q": "hi"},
                        "output": "hello",
                        "outputMessage": message("assistant", "hello"),
                        "history": [message("user", "before")],
                        "metadata": {"k": 1},
                    }
                ],
            }
        },
    )

    assert dataset["version"] == 0
    result = added["data"]["addTestCases"]
    assert result["version"] == 1
    assert result["dataset"] == {"version": 1, "testCaseCount": 1}
    listed = (await api.get(f"/datasets/id/{dataset['id']}/test-cases")).json()
    assert [c["id"] for c in listed] == result["testCaseIds"]
    assert listed[0]["output_message"] == message("assistant", "hello")
    assert listed[0]["history"] == [message("user", "before")]


async def test_project_queries_show_datasets_and_runs(api: Api) -> None:
    await api.dataset_with_cases("b-qa", [completion_example(1)])
    await api.dataset_with_cases("a-agents", [trace_example(1)], kind="trace")
    first = (await api.create_run("b-qa")).json()["test_run_id"]
    second = (await api.create_run("a-agents")).json()["test_run_id"]

    body = await api.graphql(
        """query($id: ID!) { project(id: $id) { id name
             datasets { totalCount edges { node { name testCaseType testCaseCount } } }
             dataset(name: "b-qa") { name version }
             testRuns { totalCount edges { node { id dataset { name } } } } } }""",
        {"id": api.project_id},
    )

    project = body["data"]["project"]
    assert project["id"] == api.project_id
    assert [e["node"]["name"] for e in project["datasets"]["edges"]] == ["a-agents", "b-qa"]
    assert project["dataset"] == {"name": "b-qa", "version": 1}
    assert [e["node"]["id"] for e in project["testRuns"]["edges"]] == [second, first]


async def test_projects_lists_only_what_the_key_may_see(api: Api, other_api: Api) -> None:
    body = await api.graphql("{ projects { id } }")

    assert body["data"]["projects"] == [{"id": api.project_id}]


@pytest.mark.parametrize("first", [-1, 1001])
async def test_page_size_outside_the_limit_is_invalid_input(api: Api, first: int) -> None:
    await api.dataset_with_cases("qa", [completion_example(1)])
    run_id = (await api.create_run("qa")).json()["test_run_id"]

    body = await api.graphql(
        "query($id: ID!, $first: Int) { testRun(id: $id) { testCases(first: $first) { totalCount } } }",
        {"id": run_id, "first": first},
    )

    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert "1000" in body["errors"][0]["message"]
