"""The Freeplay SDK's recording routes, with bodies as the SDK sends them."""

import uuid

from tests.support import Api, assert_problem, completion_example, create_evaluation, trace_example

RESULTS = """query($id: ID!) { testRun(id: $id) { status progress { done total }
  results { edges { node { output evalResults scores { source name value } recordingId } } } } }"""


def completion_body(run_id: str | None, case_id: str | None, answer: str, **more: object) -> dict:  # type: ignore[type-arg]
    """Every key the SDK always sends, as it sends them."""
    return {
        "messages": [
            {"role": "user", "content": "question"},
            {"role": "assistant", "content": answer},
        ],
        "inputs": {"question": "question"},
        "tool_schema": None,
        "output_schema": None,
        "session_info": {"custom_metadata": {"user": "u1"}},
        "parent_id": None,
        "call_info": {"model": "m", "provider": "p", "start_time": 1.0, "end_time": 2.0},
        "test_run_info": None
        if run_id is None
        else {"test_run_id": run_id, "test_case_id": case_id},
        **more,
    }


async def completion_run(api: Api) -> tuple[str, list[str]]:
    await api.dataset_with_cases("qa", [completion_example(i) for i in range(2)])
    run = (await api.create_run("qa")).json()
    return run["test_run_id"], [c["id"] for c in run["test_cases"]]


async def test_a_completion_with_test_run_info_is_that_cases_result(api: Api) -> None:
    run_id, cases = await completion_run(api)
    session = str(uuid.uuid4())

    response = await api.post(
        f"/sessions/{session}/completions",
        completion_body(run_id, cases[0], "forty-two", eval_results={"exact": True, "bleu": 0.5}),
    )

    assert response.status_code == 201
    completion_id = response.json()["completion_id"]
    uuid.UUID(completion_id)
    run = (await api.graphql(RESULTS, {"id": run_id}))["data"]["testRun"]
    [result] = [e["node"] for e in run["results"]["edges"]]
    assert result["output"] == "forty-two"
    assert result["evalResults"] == {"bleu": 0.5, "exact": True}
    assert result["recordingId"] == completion_id
    assert run["status"] == "RUNNING"


async def test_a_retried_recording_changes_nothing(api: Api) -> None:
    run_id, cases = await completion_run(api)
    body = completion_body(run_id, cases[0], "once", completion_id=str(uuid.uuid4()))
    session = str(uuid.uuid4())

    first = await api.post(f"/sessions/{session}/completions", body)
    again = await api.post(f"/sessions/{session}/completions", body)

    assert first.json() == again.json()
    run = (await api.graphql(RESULTS, {"id": run_id}))["data"]["testRun"]
    assert len(run["results"]["edges"]) == 1
    assert run["progress"]["done"] == 1


async def test_completion_updates_and_feedback_update_the_result(api: Api) -> None:
    await create_evaluation(api, "policy-ok", "boolean", "human")
    run_id, cases = await completion_run(api)
    completion_id = (
        await api.post(
            f"/sessions/{uuid.uuid4()}/completions", completion_body(run_id, cases[0], "draft")
        )
    ).json()["completion_id"]

    updated = await api.post(
        f"/completions/{completion_id}",
        {
            "new_messages": [{"role": "assistant", "content": "final"}],
            "eval_results": {"exact": False},
        },
    )
    feedback = await api.post(
        f"/completion-feedback/id/{completion_id}", {"policy-ok": True, "comment": "fine"}
    )
    bad_feedback = await api.post(
        f"/completion-feedback/id/{completion_id}", {"policy-ok": "maybe"}
    )

    assert updated.status_code == 201
    assert updated.json() == {"completion_id": completion_id}
    assert feedback.status_code == 201
    assert_problem(bad_feedback, 422, "invalid_input")
    result = (await api.graphql(RESULTS, {"id": run_id}))["data"]["testRun"]["results"]["edges"][0][
        "node"
    ]
    assert result["output"] == "final"
    assert {(s["source"], s["name"], s["value"]) for s in result["scores"]} == {
        ("CLIENT", "exact", False),
        ("HUMAN", "policy-ok", True),
    }


async def test_traces_record_results_of_a_trace_dataset(api: Api) -> None:
    await api.dataset_with_cases("agents", [trace_example(i) for i in range(2)], kind="trace")
    run = (await api.create_run("agents")).json()
    case_id = run["trace_test_cases"][0]["test_case_id"]
    session, trace = str(uuid.uuid4()), str(uuid.uuid4())
    body = {
        "agent_name": "support-bot", "input": {"task": "t"}, "output": {"done": True},
        "parent_id": None, "custom_metadata": None, "eval_results": {"solved": True},
        "test_run_info": {"test_run_id": run["test_run_id"], "test_case_id": case_id},
        "kind": "agent", "name": "run", "start_time": "2026-01-01T00:00:00+00:00",
        "end_time": "2026-01-01T00:00:01+00:00",
    }  # fmt: skip

    created = await api.post(f"/sessions/{session}/traces/id/{trace}", body)
    patched = await api.client.patch(
        api.url(f"/sessions/{session}/traces/id/{trace}"),
        json={"eval_results": {"steps": 3}, "output": {"done": "yes"}},
        headers=api.headers,
    )
    empty_patch = await api.client.patch(
        api.url(f"/sessions/{session}/traces/id/{trace}"), json={}, headers=api.headers
    )

    assert created.status_code == 201
    assert patched.status_code == 200
    assert_problem(empty_patch, 422, "invalid_input")
    result = (await api.graphql(RESULTS, {"id": run["test_run_id"]}))["data"]["testRun"]["results"][
        "edges"
    ][0]["node"]
    assert result["output"] == {"done": "yes"}
    assert result["evalResults"] == {"solved": True, "steps": 3}


async def test_recording_errors(api: Api) -> None:
    run_id, cases = await completion_run(api)
    session = f"/sessions/{uuid.uuid4()}/completions"

    unknown_run = await api.post(session, completion_body(str(uuid.uuid4()), cases[0], "x"))
    foreign_case = await api.post(session, completion_body(run_id, str(uuid.uuid4()), "x"))
    no_messages = await api.post(session, {**completion_body(None, None, "x"), "messages": []})
    bad_session = await api.post(
        "/sessions/not-a-uuid/completions", completion_body(None, None, "x")
    )

    assert_problem(unknown_run, 404, "not_found")
    assert_problem(foreign_case, 422, "invalid_input")
    assert_problem(no_messages, 422, "invalid_input")
    assert_problem(bad_session, 422, "invalid_input")
    run = (await api.graphql(RESULTS, {"id": run_id}))["data"]["testRun"]
    assert run["results"]["edges"] == []


async def test_sessions_metadata_and_deletion(api: Api) -> None:
    session = str(uuid.uuid4())
    await api.post(f"/sessions/{session}/completions", completion_body(None, None, "plain"))

    metadata = await api.client.patch(
        api.url(f"/sessions/id/{session}/metadata"), json={"k": 1}, headers=api.headers
    )
    deleted = await api.client.delete(api.url(f"/sessions/{session}"), headers=api.headers)
    again = await api.client.delete(api.url(f"/sessions/{session}"), headers=api.headers)

    assert metadata.status_code == 200
    assert deleted.status_code == 201
    assert_problem(again, 404, "not_found")
