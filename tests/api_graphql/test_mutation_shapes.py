"""Mutations in the shape frontend clients expect: each has its own payload type named after
it, and an invalid field is located in the GraphQL input's own names."""

from typing import Any

from graphql import GraphQLNonNull, GraphQLObjectType

from app.api.graphql.schema import schema
from tests.support import Api, completion_example, create_evaluation, record


def test_every_mutation_has_its_own_payload_named_after_it() -> None:
    mutations = schema._schema.mutation_type
    assert mutations is not None
    payloads = {}
    for name, field in mutations.fields.items():
        payload = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
        assert isinstance(payload, GraphQLObjectType), name
        payloads[name] = payload.name

    assert payloads == {name: name[0].upper() + name[1:] + "Payload" for name in payloads}
    assert {"scoreTestCaseResult", "updateEvaluation", "updateFlavor"} <= set(payloads)


async def errors(api: Api, mutation: str, input: dict[str, Any]) -> list[dict[str, Any]]:
    body = await api.graphql(mutation, {"input": input})
    assert body["data"] is None, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INVALID_INPUT", error
    return [f["loc"] for f in error["extensions"]["fields"]]


ADD = """mutation($input: AddTestCasesInput!) { addTestCases(input: $input) { version } }"""
UPDATE = """mutation($input: UpdateTestCaseInput!) { updateTestCase(input: $input) { version } }"""
CREATE_RUN = """mutation($input: CreateTestRunInput!) {
  createTestRun(input: $input) { testRun { id } } }"""
SCORE = """mutation($input: ScoreTestCaseResultInput!) {
  scoreTestCaseResult(input: $input) { result { id } } }"""


async def test_invalid_test_cases_are_located_in_the_inputs_names(api: Api) -> None:
    completion = await api.create_dataset("qa")
    trace = await api.create_dataset("agents", kind="trace")
    bad_message = {"role": "", "content": [{"text": "x"}]}

    assert await errors(
        api,
        ADD,
        {
            "datasetId": completion["id"],
            "completionCases": [
                {"values": {"q": 1}},
                {"values": [1]},
                {"values": {}, "outputMessage": bad_message},
            ],
        },
    ) == [["completionCases", 1, "values"], ["completionCases", 2, "outputMessage", "role"]]
    assert await errors(
        api, ADD, {"datasetId": trace["id"], "traceCases": [{"input": 1, "customMetadata": [1]}]}
    ) == [["traceCases", 0, "customMetadata"]]
    assert await errors(api, ADD, {"datasetId": completion["id"], "completionCases": []}) == [
        ["completionCases"]
    ]


async def test_an_invalid_patch_is_located_under_its_kind(api: Api) -> None:
    dataset = await api.dataset_with_cases("qa", [completion_example(0)])
    case_id = (await api.get(f"/datasets/id/{dataset['id']}/test-cases")).json()[0]["id"]

    loc = await errors(
        api,
        UPDATE,
        {"datasetId": dataset["id"], "testCaseId": case_id, "completion": {"values": [1]}},
    )

    assert loc == [["completion", "values"]]


async def test_create_test_run_fields_are_camel_case(api: Api) -> None:
    await api.dataset_with_cases("qa", [completion_example(0)])
    base = {"projectId": api.project_id, "datasetName": "qa"}

    assert await errors(api, CREATE_RUN, {**base, "flavorName": "nope"}) == [["flavorName"]]
    assert await errors(api, CREATE_RUN, {**base, "testCaseFilter": {"testCaseIds": ["x"]}}) == [
        ["testCaseFilter", "testCaseIds", 0]
    ]
    assert await errors(api, CREATE_RUN, {**base, "testRunName": "x" * 401}) == [["testRunName"]]


async def test_scores_are_located_by_their_place_in_the_list(api: Api) -> None:
    await api.dataset_with_cases("qa", [completion_example(0)])
    passed = await create_evaluation(api, "passed", "boolean")
    stars = await create_evaluation(api, "stars", "numeric")
    run = (await api.create_run("qa")).json()
    run_id, case_id = run["test_run_id"], run["test_cases"][0]["id"]

    body = await record(
        api,
        run_id,
        case_id,
        scores=[
            {"evaluationId": passed["id"], "value": True},
            {"evaluationId": stars["id"], "value": "many"},
        ],
    )
    client = await record(api, run_id, case_id, evalResults={"my_score": {"a": 1}})
    await record(api, run_id, case_id, output="x")
    scored = await errors(
        api,
        SCORE,
        {"testRunId": run_id, "testCaseId": case_id, "evaluationId": stars["id"], "value": "x"},
    )

    assert body["errors"][0]["extensions"]["fields"][0]["loc"] == ["scores", 1, "value"]
    assert client["errors"][0]["extensions"]["fields"][0]["loc"] == ["evalResults", "my_score"]
    assert scored == [["value"]]
