"""POST /api/v2/projects/{project_id}/test-runs, exactly as the contract documents it."""

import uuid

import pytest

from app.api.rest import rendering
from app.db.engine import Database
from app.domain import evaluations
from app.domain.keys import OPERATOR
from tests.freeplay_spec import assert_conforms
from tests.support import Api, assert_problem, completion_example, message, trace_example

RUN_KEYS = {
    "test_run_id",
    "test_run_name",
    "test_run_description",
    "test_cases",
    "trace_test_cases",
}
COMPLETION_CASE_KEYS = {
    "id",
    "test_case_id",
    "values",
    "variables",
    "output",
    "output_message",
    "history",
    "metadata",
    "custom_metadata",
    "media_variables",
    "test_case_type",
}
TRACE_CASE_KEYS = {"test_case_id", "input", "output", "custom_metadata", "test_case_type"}


async def test_create_returns_201_with_every_documented_key(api: Api) -> None:
    await api.dataset_with_cases("qa", [completion_example(i) for i in range(3)])

    response = await api.create_run(
        "qa", include_outputs=True, test_run_name="nightly", test_run_description="the nightly"
    )

    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == RUN_KEYS
    uuid.UUID(body["test_run_id"])
    assert body["test_run_name"] == "nightly"
    assert body["test_run_description"] == "the nightly"
    assert body["trace_test_cases"] is None
    assert len(body["test_cases"]) == 3


async def test_completion_cases_carry_documented_and_sdk_keys_with_same_values(api: Api) -> None:
    example = completion_example(7)
    example["media_inputs"] = {"photo": {"type": "url", "url": "https://example.com/a.png"}}
    await api.dataset_with_cases("qa", [example])

    case = (await api.create_run("qa", include_outputs=True)).json()["test_cases"][0]

    assert set(case) == COMPLETION_CASE_KEYS
    uuid.UUID(case["id"])
    assert case["test_case_id"] == case["id"]
    assert case["values"] == case["variables"] == example["inputs"]
    assert case["metadata"] == case["custom_metadata"] == example["metadata"]
    assert case["output"] == example["output"]
    assert case["output_message"] == example["output_message"]
    assert case["history"] == example["history"]
    assert case["media_variables"] == example["media_inputs"]
    assert case["test_case_type"] == "completion"


async def test_include_outputs_false_leaves_expected_outputs_out(api: Api) -> None:
    await api.dataset_with_cases("qa", [completion_example(1)])

    case = (await api.create_run("qa", include_outputs=False)).json()["test_cases"][0]

    assert case["output"] is None
    assert case["output_message"] is None
    assert case["values"] == completion_example(1)["inputs"]
    assert case["history"] == completion_example(1)["history"]


async def test_include_outputs_null_or_absent_means_false(api: Api) -> None:
    await api.dataset_with_cases("qa", [completion_example(1)])

    for body in ({"include_outputs": None}, {}):
        case = (await api.create_run("qa", **body)).json()["test_cases"][0]
        assert case["output"] is None


async def test_sdk_style_body_with_every_key_null_gets_defaults(api: Api) -> None:
    await api.dataset_with_cases("qa", [completion_example(1)])

    response = await api.post(
        "/test-runs",
        {
            "dataset_name": "qa",
            "include_outputs": False,
            "test_run_name": None,
            "test_run_description": None,
            "flavor_name": None,
            "target_evaluation_ids": None,
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert body["test_run_name"].startswith("qa ")
    assert body["test_run_description"] == ""


async def test_trace_dataset_returns_trace_test_cases(api: Api) -> None:
    examples = [trace_example(i) for i in range(2)]
    await api.dataset_with_cases("agents", examples, kind="trace")

    body = (await api.create_run("agents", include_outputs=True)).json()

    assert body["test_cases"] is None
    assert [set(c) for c in body["trace_test_cases"]] == [TRACE_CASE_KEYS] * 2
    first = body["trace_test_cases"][0]
    assert first["input"] == examples[0]["input"]
    assert first["output"] == examples[0]["output"]
    assert first["custom_metadata"] == examples[0]["custom_metadata"]
    assert first["test_case_type"] == "trace"


async def test_trace_outputs_need_include_outputs(api: Api) -> None:
    await api.dataset_with_cases("agents", [trace_example(1)], kind="trace")

    case = (await api.create_run("agents")).json()["trace_test_cases"][0]

    assert case["output"] is None
    assert case["input"] == trace_example(1)["input"]


async def test_cases_come_in_dataset_order_across_several_additions(api: Api) -> None:
    dataset = await api.create_dataset("qa")
    await api.add_cases(dataset["id"], [completion_example(i) for i in range(5)])
    await api.add_cases(dataset["id"], [completion_example(i) for i in range(5, 8)])

    first = (await api.create_run("qa")).json()["test_cases"]
    second = (await api.create_run("qa")).json()["test_cases"]

    assert [c["values"]["n"] for c in first] == list(range(8))
    assert [c["id"] for c in first] == [c["id"] for c in second]


async def test_empty_dataset_gives_an_empty_run(api: Api) -> None:
    await api.create_dataset("empty")

    body = (await api.create_run("empty")).json()

    assert body["test_cases"] == []
    assert body["trace_test_cases"] is None


async def test_string_message_content_is_returned_as_text_parts(api: Api) -> None:
    example = completion_example(1)
    example["output_message"] = {"role": "assistant", "content": "plain"}
    await api.dataset_with_cases("qa", [example])

    case = (await api.create_run("qa", include_outputs=True)).json()["test_cases"][0]

    assert case["output_message"] == message("assistant", "plain")


async def test_flavor_and_target_evaluations_are_accepted(api: Api, db: Database) -> None:
    await api.dataset_with_cases("qa", [completion_example(1)])
    evaluation = await evaluations.create_evaluation(
        db,
        OPERATOR,
        api.project_id,
        evaluations.NewEvaluation("accuracy", evaluations.EvaluationKind.NUMERIC),
    )
    await evaluations.create_flavor(db, OPERATOR, api.project_id, "fast", {"model": "m"})

    response = await api.create_run(
        "qa", flavor_name="fast", target_evaluation_ids=[evaluation.id.upper()]
    )

    assert response.status_code == 201
    run = await api.graphql(
        "query($id: ID!) { testRun(id: $id) { flavorName targetEvaluations { id name } } }",
        {"id": response.json()["test_run_id"]},
    )
    assert run["data"]["testRun"] == {
        "flavorName": "fast",
        "targetEvaluations": [{"id": evaluation.id, "name": "accuracy"}],
    }


# ---- errors ------------------------------------------------------------------------------


async def test_unknown_dataset_name_is_404(api: Api) -> None:
    assert_problem(await api.create_run("nope"), 404, "not_found")


async def test_missing_dataset_name_is_422(api: Api) -> None:
    body = assert_problem(
        await api.post("/test-runs", {"include_outputs": True}), 422, "invalid_input"
    )
    assert body["errors"][0]["loc"] == ["dataset_name"]


async def test_wrong_types_are_422(api: Api) -> None:
    await api.create_dataset("qa")
    for bad in ({"dataset_name": 5}, {"dataset_name": "qa", "include_outputs": "yes"}):
        assert_problem(await api.post("/test-runs", bad), 422, "invalid_input")


async def test_target_evaluation_ids_that_are_not_uuids_are_422(api: Api) -> None:
    await api.create_dataset("qa")
    body = assert_problem(
        await api.create_run("qa", target_evaluation_ids=["not-a-uuid"]), 422, "invalid_input"
    )
    assert body["errors"][0]["loc"] == ["target_evaluation_ids", 0]


async def test_evaluations_of_no_or_another_project_are_422(
    api: Api, other_api: Api, db: Database
) -> None:
    await api.create_dataset("qa")
    foreign = await evaluations.create_evaluation(
        db,
        OPERATOR,
        other_api.project_id,
        evaluations.NewEvaluation("theirs", evaluations.EvaluationKind.BOOLEAN),
    )
    for ids in ([str(uuid.uuid4())], [foreign.id]):
        assert_problem(await api.create_run("qa", target_evaluation_ids=ids), 422, "invalid_input")


async def test_unknown_flavor_is_422(api: Api) -> None:
    await api.create_dataset("qa")
    body = assert_problem(await api.create_run("qa", flavor_name="nope"), 422, "invalid_input")
    assert body["errors"][0]["loc"] == ["flavor_name"]


async def test_malformed_json_is_400(api: Api) -> None:
    response = await api.client.post(
        api.url("/test-runs"),
        content=b'{"dataset_name": ',
        headers={**api.headers, "Content-Type": "application/json"},
    )
    assert_problem(response, 400, "malformed_request")


@pytest.mark.parametrize(
    "authorization", [None, "Bearer trk_wrong", "Basic dXNlcjpwYXNz", "Bearer "]
)
async def test_missing_or_wrong_key_is_401(api: Api, authorization: str | None) -> None:
    await api.create_dataset("qa")
    headers = {} if authorization is None else {"Authorization": authorization}

    response = await api.client.post(
        api.url("/test-runs"), json={"dataset_name": "qa"}, headers=headers
    )

    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_project_of_another_key_answers_like_a_missing_one(api: Api, other_api: Api) -> None:
    await other_api.dataset_with_cases("theirs", [completion_example(1)])

    foreign = await api.client.post(
        other_api.url("/test-runs"), json={"dataset_name": "theirs"}, headers=api.headers
    )
    missing = await api.client.post(
        f"/api/v2/projects/{uuid.uuid4()}/test-runs",
        json={"dataset_name": "theirs"},
        headers=api.headers,
    )

    assert_problem(foreign, 404, "not_found")
    assert_problem(missing, 404, "not_found")
    assert foreign.json()["title"] == missing.json()["title"]
    assert "theirs" not in foreign.text


async def test_a_failed_create_writes_nothing(api: Api) -> None:
    await api.create_dataset("qa")
    await api.create_run("qa", flavor_name="nope")

    runs = await api.graphql(
        "query($id: ID!) { project(id: $id) { testRuns { totalCount } } }", {"id": api.project_id}
    )

    assert runs["data"]["project"]["testRuns"]["totalCount"] == 0


@pytest.mark.parametrize("streamed", [False, True])
async def test_a_run_of_many_pages_comes_whole_and_in_order_sent_whole_or_streamed(
    api: Api, monkeypatch: pytest.MonkeyPatch, streamed: bool
) -> None:
    if streamed:  # as a body too long to send whole would be
        monkeypatch.setattr(rendering, "WHOLE_BODY", 10_000)
    dataset = await api.create_dataset("big")
    for start in (0, 1500, 3000):
        await api.add_cases(
            dataset["id"],
            [{"inputs": {"n": i}, "output": f"o{i}"} for i in range(start, start + 1500)],
        )

    created = await api.create_run("big", include_outputs=True)
    listed = await api.get(f"/datasets/id/{dataset['id']}/test-cases")

    assert created.status_code == 201
    assert ("content-length" not in created.headers) is streamed
    cases = created.json()["test_cases"]
    assert [c["values"]["n"] for c in cases] == list(range(4500))
    assert [c["output"] for c in cases[:2]] == ["o0", "o1"]
    assert created.json()["trace_test_cases"] is None
    assert [c["id"] for c in listed.json()] == [c["id"] for c in cases]


async def test_a_system_message_in_history_has_text_content_as_freeplays_document_says(
    api: Api,
) -> None:
    history = [message("system", "Be brief."), message("user", "Hi"), message("assistant", "Hey")]
    await api.dataset_with_cases(
        "chats", [{"inputs": {"q": "more?"}, "history": history, "output": "yes"}]
    )

    response = await api.create_run("chats", include_outputs=True)

    body = assert_conforms("post_create_with_test_cases", response)
    assert body["test_cases"][0]["history"] == [
        {"role": "system", "content": "Be brief."},
        message("user", "Hi"),
        message("assistant", "Hey"),
    ]
