"""Relay's Node interface: node(id:) and nodes(ids:) find every kind of object by the id REST
and GraphQL give it, respect key scopes, and a test case's content has an id of its own."""

import uuid
from typing import Any

from tests.support import Api, completion_example, create_evaluation, record, trace_example

NODES = """query($ids: [ID!]!) { nodes(ids: $ids) {
  __typename id
  ... on Project { name }
  ... on Dataset { name }
  ... on TestRun { name }
  ... on Evaluation { name }
  ... on Flavor { name }
  ... on TestCaseResult { repetition resultOutput: output }
  ... on CompletionTestCase { testCaseId values output }
  ... on TraceTestCase { testCaseId input traceOutput: output }
} }"""

NODE = """query($id: ID!) { node(id: $id) {
  __typename id
  ... on CompletionTestCase { testCaseId values output }
} }"""

CASES = """fragment Cases on TestCaseConnection { edges { node {
  ... on CompletionTestCase { id testCaseId values output } } } }
query($run: ID!, $dataset: ID!) {
  testRun(id: $run) { testCases { ...Cases } }
  dataset(id: $dataset) { testCases { ...Cases } }
}"""

UPDATE = """mutation($input: UpdateTestCaseInput!) { updateTestCase(input: $input) {
  version testCase { ... on CompletionTestCase { id testCaseId values } } } }"""


async def arrange(api: Api) -> dict[str, Any]:
    """One object of every kind, made over REST (and a result over GraphQL)."""
    dataset = await api.dataset_with_cases("qa", [completion_example(i) for i in range(2)])
    agents = await api.dataset_with_cases("agents", [trace_example(0)], kind="trace")
    evaluation = await create_evaluation(api, "exact", "boolean")
    flavor = (await api.post("/flavors", {"name": "fast", "settings": {"model": "m"}})).json()
    run = (await api.create_run("qa", include_outputs=True)).json()
    trace_run = (await api.create_run("agents", include_outputs=True)).json()
    case_id = run["test_cases"][0]["id"]
    recorded = await record(api, run["test_run_id"], case_id, output="said")
    cases = (await api.graphql(CASES, {"run": trace_run["test_run_id"], "dataset": dataset["id"]}))[
        "data"
    ]
    return {
        "Project": api.project_id,
        "Dataset": dataset["id"],
        "TestRun": run["test_run_id"],
        "Evaluation": evaluation["id"],
        "Flavor": flavor["id"],
        "TestCaseResult": recorded["data"]["recordTestCaseResult"]["result"]["id"],
        "CompletionTestCase": cases["dataset"]["testCases"]["edges"][0]["node"]["id"],
        "trace_run": trace_run["test_run_id"],
        "agents": agents["id"],
        "case_id": case_id,
    }


async def test_nodes_finds_every_type_by_the_id_rest_gave(api: Api) -> None:
    made = await arrange(api)
    trace_case = (
        await api.graphql(
            """query($id: ID!) { testRun(id: $id) { testCases { edges { node {
               ... on TraceTestCase { id } } } } } }""",
            {"id": made["trace_run"]},
        )
    )["data"]["testRun"]["testCases"]["edges"][0]["node"]["id"]
    kinds = [k for k in made if k[0].isupper()]
    ids = [made[k] for k in kinds] + [trace_case]

    body = await api.graphql(NODES, {"ids": ids})

    assert "errors" not in body, body
    found = body["data"]["nodes"]
    assert [n["__typename"] for n in found] == [*kinds, "TraceTestCase"]
    assert [n["id"] for n in found] == ids
    assert found[0]["name"] == "Test project"
    assert [found[1]["name"], found[3]["name"], found[4]["name"]] == ["qa", "exact", "fast"]
    assert found[2]["name"].startswith("qa ")
    assert found[5] == {**found[5], "repetition": 0, "resultOutput": "said"}
    assert found[6]["testCaseId"] == made["case_id"]
    assert found[6]["values"] == completion_example(0)["inputs"]
    assert found[7]["input"] == trace_example(0)["input"]
    assert found[7]["traceOutput"] == trace_example(0)["output"]


async def test_node_accepts_a_uuid_in_any_spelling_rest_accepts(api: Api) -> None:
    dataset = await api.create_dataset("qa")
    body = await api.graphql(
        "query($id: ID!) { node(id: $id) { __typename id } }", {"id": dataset["id"].upper()}
    )
    assert body["data"]["node"] == {"__typename": "Dataset", "id": dataset["id"]}


async def test_what_a_key_may_not_see_answers_null_like_what_does_not_exist(
    api: Api, other_api: Api
) -> None:
    theirs = await arrange(other_api)
    ids = [theirs[k] for k in theirs if k[0].isupper()]
    missing = [str(uuid.uuid4()), f"{uuid.uuid4()}.0.1", "not an id", f"{theirs['Dataset']}.0.9"]

    body = await api.graphql(NODES, {"ids": ids + missing})
    single = await api.graphql(NODE, {"id": theirs["TestRun"]})

    assert "errors" not in body, body
    assert body["data"]["nodes"] == [None] * (len(ids) + len(missing))
    assert single == {"data": {"node": None}}
    seen_by_owner = await other_api.graphql(NODES, {"ids": ids})
    assert None not in seen_by_owner["data"]["nodes"]


async def test_a_case_keeps_its_test_case_id_but_each_content_has_its_own_id(api: Api) -> None:
    dataset = await api.dataset_with_cases("qa", [completion_example(0)])
    pinned = (await api.create_run("qa", include_outputs=True)).json()
    hidden = (await api.create_run("qa", include_outputs=False)).json()
    case_id = pinned["test_cases"][0]["id"]
    edited = await api.graphql(
        UPDATE,
        {
            "input": {
                "datasetId": dataset["id"],
                "testCaseId": case_id,
                "completion": {"values": {"question": "changed"}},
            }
        },
    )
    new_content = edited["data"]["updateTestCase"]["testCase"]

    def first(body: dict[str, Any], root: str) -> dict[str, Any]:
        return body["data"][root]["testCases"]["edges"][0]["node"]

    read = await api.graphql(CASES, {"run": pinned["test_run_id"], "dataset": dataset["id"]})
    read_hidden = await api.graphql(CASES, {"run": hidden["test_run_id"], "dataset": dataset["id"]})
    old, latest = first(read, "testRun"), first(read, "dataset")
    without_outputs = first(read_hidden, "testRun")

    assert old["testCaseId"] == latest["testCaseId"] == without_outputs["testCaseId"] == case_id
    assert len({old["id"], latest["id"], without_outputs["id"], case_id}) == 4
    assert latest == new_content | {"output": latest["output"]}
    assert old["values"] == completion_example(0)["inputs"]
    assert without_outputs["values"] == old["values"]
    assert without_outputs["output"] is None

    for content in (old, latest, without_outputs):
        again = await api.graphql(NODE, {"id": content["id"]})
        assert again["data"]["node"] == {"__typename": "CompletionTestCase", **content}


async def test_mutations_take_the_test_case_id_not_a_revision_id(api: Api) -> None:
    dataset = await api.dataset_with_cases("qa", [completion_example(0)])
    run = (await api.create_run("qa")).json()
    case = (await api.graphql(CASES, {"run": run["test_run_id"], "dataset": dataset["id"]}))[
        "data"
    ]["dataset"]["testCases"]["edges"][0]["node"]

    by_revision = await record(api, run["test_run_id"], case["id"], output="x")
    by_case = await record(api, run["test_run_id"], case["testCaseId"], output="x")

    assert by_revision["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert "errors" not in by_case


async def test_nodes_takes_at_most_a_pages_worth_of_ids(api: Api) -> None:
    body = await api.graphql(NODES, {"ids": [str(uuid.uuid4()) for _ in range(1001)]})

    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert body["errors"][0]["extensions"]["fields"][0]["loc"] == ["ids"]
    huge = await api.graphql(NODE, {"id": f"{uuid.uuid4()}.{10**30}.1"})
    assert huge == {"data": {"node": None}}
