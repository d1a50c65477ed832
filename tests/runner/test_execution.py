"""A run the server executes: created over REST or GraphQL, drained by a worker that calls a
real OpenAI-compatible HTTP server through the openai SDK, judged, recorded, summarised."""

import pytest

from app.db.engine import Database
from tests.fake_llm import BAD_ANSWER, FakeLLM
from tests.runner.conftest import add_dataset, add_prompt, case, drain, worker
from tests.support import Api, assert_problem


async def start(api: Api, version_id: str, **execute: object) -> dict:
    response = await api.post(
        "/test-runs",
        {
            "dataset_name": "qa",
            "include_outputs": False,
            "execute": {"prompt_template_version_id": version_id, **execute},
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_fifty_case_run_is_executed_judged_and_summarised(
    api: Api, db: Database, fake_llm: FakeLLM
) -> None:
    case_ids = await add_dataset(db, api.project_id, [case(i) for i in range(50)])
    version_id = await add_prompt(db, api.project_id, fake_llm)

    created = await start(api, version_id, concurrency=8)
    assert [c["id"] for c in created["test_cases"]] == case_ids
    await drain(db, worker(db))

    run = (await api.get(f"/test-runs/id/{created['test_run_id']}")).json()
    assert run["status"] == "completed"
    execution = run["execution"]
    assert (execution["completed"], execution["errored"], execution["pending"]) == (50, 0, 0)
    assert execution["status"] == "finished"
    helpful = run["summary_statistics"]["auto_evaluation"]["helpful"]
    assert helpful["count"] == 50
    assert helpful["mean"] == 5
    usage = run["summary_statistics"]["usage"]
    assert usage["count"] == 50
    assert 0 < usage["latency_ms"]["p50"] <= usage["latency_ms"]["p95"]
    assert usage["prompt_tokens"] > 0
    assert usage["completion_tokens"] > 0
    expected_cost = (usage["prompt_tokens"] * 2 + usage["completion_tokens"] * 8) / 1e6
    assert usage["cost"] == pytest.approx(expected_cost)
    # 50 answers and 50 judgements, each request rendered from its case.
    answers = [r for r in fake_llm.seen() if r.model == "fake-chat"]
    assert len(answers) == 50
    assert answers[0].messages[0]["content"] == "You answer customer questions about Nimbus."
    assert len(fake_llm.seen("You are evaluating")) == 50


async def test_each_result_is_recorded_like_a_client_recording(
    api: Api, db: Database, fake_llm: FakeLLM
) -> None:
    case_ids = await add_dataset(db, api.project_id, [case(i) for i in range(3)])
    version_id = await add_prompt(db, api.project_id, fake_llm)
    created = await start(api, version_id, repetitions=2)
    await drain(db, worker(db))

    answer = await api.graphql(
        """query($id: ID!) { testRun(id: $id) { status progress { done total }
             execution { total completed errored pending status repetitions }
             summary { usage { count latencyP50Ms latencyP95Ms totalTokens cost } }
             results(first: 10) { edges { node { repetition output latencyMs promptTokens
               completionTokens cost recordingId scores { source name value } } } } } }""",
        {"id": created["test_run_id"]},
    )
    assert "errors" not in answer, answer
    run = answer["data"]["testRun"]
    assert run["status"] == "COMPLETED"
    assert run["progress"] == {"done": 3, "total": 3}
    assert run["execution"] == {
        "total": 6,
        "completed": 6,
        "errored": 0,
        "pending": 0,
        "status": "FINISHED",
        "repetitions": 2,
    }
    nodes = [e["node"] for e in run["results"]["edges"]]
    assert [(n["repetition"], n["output"]) for n in nodes] == [
        (rep, f"Answer: question {i}") for i in range(3) for rep in range(2)
    ]
    assert all(n["scores"] == [{"source": "AUTO", "name": "helpful", "value": 5}] for n in nodes)
    assert all(n["latencyMs"] > 0 and n["promptTokens"] > 0 and n["cost"] > 0 for n in nodes)
    assert run["summary"]["usage"]["count"] == 6

    exported = await api.get(f"/test-runs/id/{created['test_run_id']}/results")
    lines = [line for line in exported.text.splitlines() if line]
    assert len(lines) == 6
    assert '"latency_ms":' in lines[0]
    assert '"auto":{"helpful":5}' in lines[0]
    assert case_ids  # the cases exist


async def test_a_template_missing_variables_is_refused_before_any_call(
    api: Api, db: Database, fake_llm: FakeLLM
) -> None:
    cases = [case(0), case(1), {**case(2), "inputs": {"question": "no product"}}]
    await add_dataset(db, api.project_id, cases)
    version_id = await add_prompt(db, api.project_id, fake_llm)

    response = await api.post(
        "/test-runs",
        {"dataset_name": "qa", "execute": {"prompt_template_version_id": version_id}},
    )

    problem = assert_problem(response, 422, "missing_variables")
    assert "product" in problem["detail"]
    listed = (await api.get("/test-runs")).json()
    assert listed["test_runs"] == []  # nothing half-written
    await drain(db, worker(db))
    assert fake_llm.seen() == []


async def test_execute_must_name_a_prompt_version_of_the_project(
    api: Api, db: Database, fake_llm: FakeLLM
) -> None:
    await add_dataset(db, api.project_id, [case(0)])
    unknown = await api.post(
        "/test-runs",
        {
            "dataset_name": "qa",
            "execute": {"prompt_template_version_id": "6f1c2b3a-8d4e-4f5a-9b6c-7d8e9f0a1b2c"},
        },
    )
    assert_problem(unknown, 422, "invalid_input")
    version_id = await add_prompt(db, api.project_id, fake_llm)
    too_many = await api.post(
        "/test-runs",
        {
            "dataset_name": "qa",
            "execute": {"prompt_template_version_id": version_id, "repetitions": 0},
        },
    )
    assert_problem(too_many, 422, "invalid_input")


async def test_a_worse_prompt_scores_worse(api: Api, db: Database, fake_llm: FakeLLM) -> None:
    await add_dataset(db, api.project_id, [case(i) for i in range(5)])
    sloppy = await add_prompt(
        db, api.project_id, fake_llm, system="You are sloppy about {{product}}."
    )
    created = await start(api, sloppy)
    await drain(db, worker(db))
    run = (await api.get(f"/test-runs/id/{created['test_run_id']}")).json()
    assert run["summary_statistics"]["auto_evaluation"]["helpful"]["mean"] == 1
    assert {r.answered for r in fake_llm.seen() if r.model == "fake-chat"} == {BAD_ANSWER}
