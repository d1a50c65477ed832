"""Recording results of a run over GraphQL: status, replace or repeat, validation, listing."""

import uuid

import pytest

from tests.support import Api, completion_example, create_evaluation, record

RUN = """query($id: ID!) { testRun(id: $id) { status completedAt progress { done total } } }"""
RESULTS = """query($id: ID!, $first: Int, $after: String, $filter: TestCaseResultFilter) {
  testRun(id: $id) { results(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { repetition output evalResults
      testCase { ... on CompletionTestCase { id: testCaseId values } } } } } } }"""


async def new_run(api: Api, n: int = 3, **body: object) -> tuple[str, list[str]]:
    if (await api.get("/datasets/name/qa")).status_code == 404:
        await api.dataset_with_cases("qa", [completion_example(i) for i in range(n)])
    run = (await api.create_run("qa", **body)).json()
    return run["test_run_id"], [c["id"] for c in run["test_cases"]]


async def test_status_goes_created_running_completed(api: Api) -> None:
    run_id, cases = await new_run(api)

    before = (await api.graphql(RUN, {"id": run_id}))["data"]["testRun"]
    first = await record(api, run_id, cases[0], output="one")
    await record(api, run_id, cases[1], output="two")
    last = await record(api, run_id, cases[2], output="three")

    assert before == {"status": "CREATED", "completedAt": None, "progress": {"done": 0, "total": 3}}
    assert first["data"]["recordTestCaseResult"]["testRun"] == {
        "status": "RUNNING",
        "progress": {"done": 1, "total": 3},
    }
    assert last["data"]["recordTestCaseResult"]["testRun"] == {
        "status": "COMPLETED",
        "progress": {"done": 3, "total": 3},
    }
    assert (await api.graphql(RUN, {"id": run_id}))["data"]["testRun"]["completedAt"] is not None


async def test_recording_again_replaces_the_result_unless_a_repetition_is_given(api: Api) -> None:
    run_id, cases = await new_run(api)

    await record(api, run_id, cases[0], output="first try", evalResults={"ok": False})
    replaced = await record(api, run_id, cases[0], output="second try", evalResults={"ok": True})
    repeated = await record(api, run_id, cases[0], output="again", repetition=1)

    assert replaced["data"]["recordTestCaseResult"]["result"]["evalResults"] == {"ok": True}
    assert repeated["data"]["recordTestCaseResult"]["testRun"]["progress"] == {
        "done": 1,
        "total": 3,
    }
    listed = (await api.graphql(RESULTS, {"id": run_id}))["data"]["testRun"]["results"]
    assert listed["totalCount"] == 2
    assert [(e["node"]["repetition"], e["node"]["output"]) for e in listed["edges"]] == [
        (0, "second try"),
        (1, "again"),
    ]


async def test_results_list_in_dataset_order_with_their_cases(api: Api) -> None:
    run_id, cases = await new_run(api, n=5)
    for case_id in reversed(cases):
        await record(api, run_id, case_id, output={"answer": case_id})

    seen, after = [], None
    while True:
        page = (await api.graphql(RESULTS, {"id": run_id, "first": 2, "after": after}))["data"][
            "testRun"
        ]["results"]
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert [n["testCase"]["id"] for n in seen] == cases
    assert [n["output"] for n in seen] == [{"answer": c} for c in cases]
    assert seen[0]["testCase"]["values"] == completion_example(0)["inputs"]


async def test_results_filter_by_case_and_by_failed_evaluation(api: Api) -> None:
    run_id, cases = await new_run(api, n=4)
    for i, case_id in enumerate(cases):
        await record(api, run_id, case_id, evalResults={"exact": i % 2 == 0, "score": i})

    failed = await api.graphql(
        RESULTS, {"id": run_id, "filter": {"evaluation": "exact", "passed": False}}
    )
    low = await api.graphql(RESULTS, {"id": run_id, "filter": {"evaluation": "score", "below": 2}})
    some = await api.graphql(RESULTS, {"id": run_id, "filter": {"testCaseIds": [cases[3]]}})

    def ids(body: dict) -> list[str]:  # type: ignore[type-arg]
        return [e["node"]["testCase"]["id"] for e in body["data"]["testRun"]["results"]["edges"]]

    assert ids(failed) == [cases[1], cases[3]]
    assert ids(low) == [cases[0], cases[1]]
    assert ids(some) == [cases[3]]


async def test_a_case_outside_the_runs_pinned_version_is_invalid_input(api: Api) -> None:
    run_id, _ = await new_run(api)
    dataset = (await api.get("/datasets/name/qa")).json()
    later = (await api.add_cases(dataset["id"], [completion_example(9)]))["test_case_ids"][0]

    for case_id in (later, str(uuid.uuid4()), "nope"):
        body = await record(api, run_id, case_id, output="x")
        assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert (await api.graphql(RUN, {"id": run_id}))["data"]["testRun"]["status"] == "CREATED"


async def test_an_unknown_run_is_not_found(api: Api, other_api: Api) -> None:
    _, cases = await new_run(api)
    their_run, their_cases = await new_run(other_api)

    for run_id, case_id in ((str(uuid.uuid4()), cases[0]), (their_run, their_cases[0])):
        body = await record(api, run_id, case_id, output="x")
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_scores_must_fit_their_evaluation(api: Api) -> None:
    numeric = await create_evaluation(api, "helpfulness", "numeric")
    boolean = await create_evaluation(api, "safe", "boolean", "human")
    category = await create_evaluation(api, "tone", "category", categories=["warm", "cold"])
    run_id, cases = await new_run(api)

    bad = [
        (numeric["id"], True),
        (numeric["id"], "high"),
        (boolean["id"], 1),
        (category["id"], "lukewarm"),
        (str(uuid.uuid4()), 1),
    ]
    for evaluation_id, value in bad:
        body = await record(
            api, run_id, cases[0], scores=[{"evaluationId": evaluation_id, "value": value}]
        )
        assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT", (evaluation_id, value)
    good = await record(
        api,
        run_id,
        cases[0],
        scores=[
            {"evaluationId": numeric["id"], "value": 4.5},
            {"evaluationId": boolean["id"], "value": True},
            {"evaluationId": category["id"], "value": "warm"},
        ],
    )
    scores = good["data"]["recordTestCaseResult"]["result"]["scores"]
    assert {(s["source"], s["name"], str(s["value"])) for s in scores} == {
        ("AUTO", "helpfulness", "4.5"),
        ("HUMAN", "safe", "True"),
        ("AUTO", "tone", "warm"),
    }


@pytest.mark.parametrize("value", [{"nested": 1}, [1], None])
async def test_client_eval_results_are_flags_numbers_or_text(api: Api, value: object) -> None:
    run_id, cases = await new_run(api)

    body = await record(api, run_id, cases[0], evalResults={"x": value})

    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_a_run_can_be_marked_complete(api: Api) -> None:
    run_id, cases = await new_run(api)
    await record(api, run_id, cases[0], output="only one")

    done = await api.graphql(
        "mutation($input: CompleteTestRunInput!) { completeTestRun(input: $input) { testRun { status progress { done total } } } }",
        {"input": {"testRunId": run_id}},
    )

    assert done["data"]["completeTestRun"]["testRun"] == {
        "status": "COMPLETED",
        "progress": {"done": 1, "total": 3},
    }


async def test_a_later_score_adds_to_a_recorded_result(api: Api) -> None:
    human = await create_evaluation(api, "reviewed-ok", "boolean", "human")
    run_id, cases = await new_run(api)
    await record(api, run_id, cases[0], output="x", evalResults={"exact": True})
    score = """mutation($input: ScoreTestCaseResultInput!) { scoreTestCaseResult(input: $input) {
        result { scores { source name value } } } }"""

    added = await api.graphql(
        score,
        {
            "input": {
                "testRunId": run_id,
                "testCaseId": cases[0],
                "evaluationId": human["id"],
                "value": False,
            }
        },
    )
    unrecorded = await api.graphql(
        score,
        {
            "input": {
                "testRunId": run_id,
                "testCaseId": cases[1],
                "evaluationId": human["id"],
                "value": True,
            }
        },
    )

    assert added["data"]["scoreTestCaseResult"]["result"]["scores"] == [
        {"source": "CLIENT", "name": "exact", "value": True},
        {"source": "HUMAN", "name": "reviewed-ok", "value": False},
    ]
    assert unrecorded["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
