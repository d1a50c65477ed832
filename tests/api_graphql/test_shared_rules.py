"""Rules that REST and GraphQL both reach live once, in the domain: the same bad input is
refused with the same code on each, and nothing is written."""

import uuid
from typing import Any

from tests.support import Api, assert_problem, completion_example, trace_example

ADD = """mutation($input: AddTestCasesInput!) { addTestCases(input: $input) { version } }"""
BULK_ADD = """mutation($input: BulkAddTestCasesInput!) {
  bulkAddTestCases(input: $input) { dataset { version } } }"""
UPDATE = """mutation($input: UpdateTestCaseInput!) { updateTestCase(input: $input) { version } }"""
TRACE_CASE = {"input": {"task": "t"}, "output": {"result": "r"}}


def _error(answer: dict[str, Any]) -> tuple[str, str]:
    [error] = answer["errors"]
    return error["extensions"]["code"], error["message"]


async def _case_count(api: Api, name: str) -> tuple[int, int]:
    dataset = (await api.get(f"/datasets/name/{name}")).json()
    return dataset["test_case_count"], dataset["version"]


async def test_cases_of_the_other_kind_are_refused_by_both_apis(api: Api) -> None:
    dataset = await api.dataset_with_cases("qa", [completion_example(0)])
    before = await _case_count(api, "qa")

    rest = await api.post(f"/datasets/id/{dataset['id']}/test-cases", {"examples": [TRACE_CASE]})
    add = await api.graphql(
        ADD, {"input": {"datasetId": dataset["id"], "traceCases": [TRACE_CASE]}}
    )
    bulk = await api.graphql(
        BULK_ADD,
        {
            "input": {
                "datasetId": dataset["id"],
                "completionCases": [{"values": {"q": 1}}],
                "traceCases": [TRACE_CASE],
            }
        },
    )

    assert_problem(rest, 422, "invalid_input")
    rule = "'qa' is a completion dataset; give completion cases only"
    assert _error(add) == ("INVALID_INPUT", rule)
    assert _error(bulk) == ("INVALID_INPUT", rule)
    assert await _case_count(api, "qa") == before


async def test_a_trace_dataset_refuses_completion_cases_alike(api: Api) -> None:
    dataset = await api.dataset_with_cases("flows", [trace_example(0)], kind="trace")
    completion = completion_example(1)

    rest = await api.post(f"/datasets/id/{dataset['id']}/test-cases", {"examples": [completion]})
    add = await api.graphql(
        ADD, {"input": {"datasetId": dataset["id"], "completionCases": [{"values": {"q": 1}}]}}
    )

    assert_problem(rest, 422, "invalid_input")
    assert _error(add) == ("INVALID_INPUT", "'flows' is a trace dataset; give trace cases only")
    assert await _case_count(api, "flows") == (1, 1)


async def test_editing_a_case_with_nothing_or_the_other_kind_is_refused_alike(api: Api) -> None:
    dataset = await api.dataset_with_cases("qa", [completion_example(0)])
    [case] = (await api.get(f"/datasets/id/{dataset['id']}/test-cases")).json()
    path = api.url(f"/datasets/id/{dataset['id']}/test-cases/id/{case['id']}")
    ids = {"datasetId": dataset["id"], "testCaseId": case["id"]}

    rest_nothing = await api.client.patch(path, json={}, headers=api.headers)
    graphql_nothing = await api.graphql(UPDATE, {"input": ids})
    graphql_other = await api.graphql(UPDATE, {"input": {**ids, "trace": {"input": 1}}})

    problem = assert_problem(rest_nothing, 422, "invalid_input")
    assert _error(graphql_nothing) == ("INVALID_INPUT", problem["detail"])
    assert _error(graphql_other) == (
        "INVALID_INPUT",
        "'qa' is a completion dataset; give completion cases only",
    )
    assert await _case_count(api, "qa") == (1, 1)


async def test_an_update_of_a_recording_that_says_nothing_is_refused_on_both_routes(
    api: Api,
) -> None:
    session = str(uuid.uuid4())
    trace_id = str(uuid.uuid4())
    body = {"input": "question", "output": "answer", "test_run_info": None}
    recorded = await api.post(f"/sessions/{session}/traces/id/{trace_id}", body)
    assert recorded.status_code == 201, recorded.text
    completion = await api.post(
        f"/sessions/{session}/completions",
        {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]},
    )
    assert completion.status_code == 201, completion.text
    completion_id = completion.json()["completion_id"]

    trace = await api.client.patch(
        api.url(f"/sessions/{session}/traces/id/{trace_id}"),
        json={"output": None, "metadata": None},
        headers=api.headers,
    )
    completion_update = await api.post(
        f"/completions/{completion_id}", {"new_messages": None, "eval_results": None}
    )

    trace_problem = assert_problem(trace, 422, "invalid_input")
    completion_problem = assert_problem(completion_update, 422, "invalid_input")
    assert trace_problem["detail"] == (
        "give at least one of output, metadata, feedback, eval_results, test_run_info"
    )
    assert completion_problem["detail"] == (
        "give at least one of new_messages, metadata, feedback, eval_results, test_run_info"
    )
