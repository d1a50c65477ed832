"""Provider faults: 429 with Retry-After, 5xx, slow and malformed answers, refusals; judges
that cannot be read; cancelling. Errors are reported per case and the run goes on."""

import asyncio

import orjson
import pytest

from app.db.engine import Database
from tests.fake_llm import FakeLLM
from tests.runner.conftest import Sleeps, add_dataset, add_prompt, case, drain, worker
from tests.runner.test_execution import start
from tests.support import Api, assert_problem


async def test_rate_limits_and_server_errors_are_retried_until_they_pass(
    api: Api, db: Database, fake_llm: FakeLLM
) -> None:
    await add_dataset(db, api.project_id, [case(i) for i in range(10)])
    version_id = await add_prompt(db, api.project_id, fake_llm)
    fake_llm.fail("question 3", "429", times=2, retry_after=7)
    fake_llm.fail("question 5", "500", times=2)
    sleeps = Sleeps()

    created = await start(api, version_id)
    await drain(db, worker(db, sleeps))

    run = (await api.get(f"/test-runs/id/{created['test_run_id']}")).json()
    assert (run["execution"]["completed"], run["execution"]["errored"]) == (10, 0)
    # Retry-After is honoured exactly; 5xx answers back off exponentially (0.01 doubling).
    assert sleeps.asked.count(7) == 2
    assert sorted(s for s in sleeps.asked if s != 7) == [0.01, 0.02]
    asked = [r for r in fake_llm.seen("question 3") if r.model == "fake-chat"]
    assert len(asked) == 3
    assert run["summary_statistics"]["auto_evaluation"]["helpful"]["count"] == 10


async def test_a_slow_answer_times_out_and_is_retried(
    api: Api, db: Database, fake_llm: FakeLLM
) -> None:
    await add_dataset(db, api.project_id, [case(i) for i in range(2)])
    version_id = await add_prompt(db, api.project_id, fake_llm)
    fake_llm.fail("question 1", "slow", times=1, delay=3)

    created = await start(api, version_id)
    await drain(db, worker(db, timeout=0.5))

    run = (await api.get(f"/test-runs/id/{created['test_run_id']}")).json()
    assert run["execution"]["completed"] == 2
    assert len([r for r in fake_llm.seen("question 1") if r.model == "fake-chat"]) == 2


async def test_cases_that_keep_failing_are_errored_and_the_run_completes(
    api: Api, db: Database, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-test-0123456789abcdefSECRET"
    monkeypatch.setenv("FAKE_PROVIDER_KEY", secret)
    case_ids = await add_dataset(db, api.project_id, [case(i) for i in range(8)])
    version_id = await add_prompt(
        db, api.project_id, fake_llm, model="keyed-chat", api_key_env="FAKE_PROVIDER_KEY"
    )
    fake_llm.fail("question 2", "500", message="Upstream overloaded.")
    fake_llm.fail("question 4", "malformed")
    fake_llm.fail("question 6", "400", message=f"Invalid request for key {secret}")

    created = await start(api, version_id)
    await drain(db, worker(db))

    run = (await api.get(f"/test-runs/id/{created['test_run_id']}")).json()
    execution = run["execution"]
    assert run["status"] == "completed"
    assert (execution["completed"], execution["errored"], execution["pending"]) == (5, 3, 0)
    errors = {e["test_case_id"]: e["error"] for e in execution["errors"]}
    assert set(errors) == {case_ids[2], case_ids[4], case_ids[6]}
    assert (
        "500 from the provider: The server had an error. Upstream overloaded."
        in errors[case_ids[2]]
    )
    assert "gave up after 4 attempts" in errors[case_ids[2]]
    assert "not valid" in errors[case_ids[4]]
    assert errors[case_ids[6]].startswith("400 from the provider")
    assert "[redacted]" in errors[case_ids[6]]
    # A refusal is not retried; the key went to the provider and nowhere else.
    assert len(fake_llm.seen("question 6")) == 1
    assert fake_llm.seen("question 6")[0].authorization == f"Bearer {secret}"
    graphql = await api.graphql(
        "query($id: ID!) { testRun(id: $id) { execution { errored errors { error } } } }",
        {"id": created["test_run_id"]},
    )
    exported = await api.get(f"/test-runs/id/{created['test_run_id']}/results")
    for text in (orjson.dumps(run).decode(), orjson.dumps(graphql).decode(), exported.text):
        assert secret not in text
    assert graphql["data"]["testRun"]["execution"]["errored"] == 3


async def test_a_missing_key_variable_errors_every_case_clearly(
    api: Api, db: Database, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("UNSET_PROVIDER_KEY", raising=False)
    await add_dataset(db, api.project_id, [case(i) for i in range(2)])
    version_id = await add_prompt(
        db, api.project_id, fake_llm, model="unkeyed-chat", api_key_env="UNSET_PROVIDER_KEY"
    )
    created = await start(api, version_id)
    await drain(db, worker(db))
    run = (await api.get(f"/test-runs/id/{created['test_run_id']}")).json()
    assert run["execution"]["errored"] == 2
    assert "UNSET_PROVIDER_KEY" in run["execution"]["errors"][0]["error"]
    assert fake_llm.seen() == []


async def test_a_judge_answer_that_cannot_be_read_is_an_errored_evaluation(
    api: Api, db: Database, fake_llm: FakeLLM
) -> None:
    await add_dataset(db, api.project_id, [case(i) for i in range(4)])
    version_id = await add_prompt(
        db,
        api.project_id,
        fake_llm,
        judges=(("helpful", "1-5", "judge-garbage"), ("on_topic", "yes-no", "judge-yesno")),
    )
    created = await start(api, version_id)
    await drain(db, worker(db))

    run = (await api.get(f"/test-runs/id/{created['test_run_id']}")).json()
    execution = run["execution"]
    assert (execution["completed"], execution["errored"]) == (4, 0)
    assert execution["evaluation_errors"] == 4
    assert all("helpful" in e["evaluation_errors"] for e in execution["errors"])
    assert all(e["error"] is None for e in execution["errors"])
    auto = run["summary_statistics"]["auto_evaluation"]
    assert auto["on_topic"]["pass_rate"] == 1.0
    assert "helpful" not in auto


async def test_cancel_stops_a_run(api: Api, db: Database, fake_llm: FakeLLM) -> None:
    await add_dataset(db, api.project_id, [case(i) for i in range(20)])
    version_id = await add_prompt(db, api.project_id, fake_llm, judges=())
    fake_llm.fail("question", "slow", delay=0.2)
    created = await start(api, version_id, concurrency=2)
    run_id = created["test_run_id"]

    background = asyncio.create_task(drain(db, worker(db)))
    assert await asyncio.to_thread(fake_llm.wait_seen, 3)
    cancelled = await api.post(f"/test-runs/id/{run_id}/cancel")
    await asyncio.wait_for(background, 30)

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "completed"
    run = (await api.get(f"/test-runs/id/{run_id}")).json()
    execution = run["execution"]
    assert execution["status"] == "cancelled"
    assert execution["pending"] == 0
    assert execution["cancelled"] >= 15
    assert execution["completed"] + execution["cancelled"] == 20
    assert len(fake_llm.seen()) <= 6  # at most what was in flight when it was cancelled
    assert run["progress"]["done"] == execution["completed"]
    again = await api.post(f"/test-runs/id/{run_id}/cancel")
    assert again.status_code == 200


async def test_cancel_over_graphql_and_of_a_client_recorded_run(
    api: Api, db: Database, fake_llm: FakeLLM
) -> None:
    await add_dataset(db, api.project_id, [case(i) for i in range(3)])
    version_id = await add_prompt(db, api.project_id, fake_llm, judges=())
    answer = await api.graphql(
        """mutation($input: CreateTestRunInput!) { createTestRun(input: $input) {
             testRun { id status execution { pending total concurrency } } } }""",
        {
            "input": {
                "projectId": api.project_id,
                "datasetName": "qa",
                "execute": {"promptTemplateVersionId": version_id, "concurrency": 2},
            }
        },
    )
    run = answer["data"]["createTestRun"]["testRun"]
    assert run["status"] == "RUNNING"
    assert run["execution"] == {"pending": 3, "total": 3, "concurrency": 2}
    cancelled = await api.graphql(
        """mutation($id: ID!) { cancelTestRun(input: {testRunId: $id}) {
             testRun { status execution { status cancelled pending } } } }""",
        {"id": run["id"]},
    )
    assert cancelled["data"]["cancelTestRun"]["testRun"] == {
        "status": "COMPLETED",
        "execution": {"status": "CANCELLED", "cancelled": 3, "pending": 0},
    }
    await drain(db, worker(db))
    assert fake_llm.seen() == []

    plain = (await api.post("/test-runs", {"dataset_name": "qa"})).json()
    refused = await api.post(f"/test-runs/id/{plain['test_run_id']}/cancel")
    assert_problem(refused, 422, "invalid_input")
