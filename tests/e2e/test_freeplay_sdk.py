"""The official Freeplay Python SDK, unchanged, against a live server (only api_base set)."""

import uuid
from typing import Any

import anyio
import httpx
import pytest
from freeplay import Freeplay, RecordPayload
from freeplay.errors import FreeplayClientError
from freeplay.resources.test_cases import DatasetTestCase

from app.db.engine import Database
from app.domain import (
    datasets,
    evaluations,
    keys,
    projects,
    result_recording,
    result_statistics,
    test_cases,
    test_runs,
)
from app.domain.datasets import NewDataset, TestCaseType
from app.domain.keys import OPERATOR


async def make_project(db: Database) -> tuple[str, str, str]:
    """A project, its key and an empty completion dataset, as an operator sets them up."""
    project = await projects.create_project(db, "SDK project")
    _, key = await keys.create_key(db, admin=False, project_ids=[project.id])
    dataset = await datasets.create_dataset(
        db, OPERATOR, project.id, NewDataset("sdk-cases", TestCaseType.COMPLETION)
    )
    return project.id, key, dataset.id


def sdk_cases() -> list[DatasetTestCase]:
    return [
        DatasetTestCase(
            inputs={"question": f"What is {i} + {i}?", "n": i},
            output=str(i + i),
            history=[{"role": "user", "content": "You are a calculator."}],
            metadata={"difficulty": "easy" if i < 2 else "hard"},
        )
        for i in range(4)
    ]


async def test_sdk_uploads_lists_and_runs_a_dataset(db: Database, live_url: str) -> None:
    project_id, key, dataset_id = await make_project(db)

    def use_the_sdk() -> None:
        client = Freeplay(freeplay_api_key=key, api_base=f"{live_url}/api")
        cases = sdk_cases()

        client.test_cases.create_many(project_id, dataset_id, cases)
        listed = client.test_cases.get(project_id, dataset_id).test_cases
        run = client.test_runs.create(project_id, testlist="sdk-cases", include_outputs=True)

        assert [c.inputs for c in listed] == [c.inputs for c in cases]
        assert [c.output for c in listed] == [c.output for c in cases]
        assert [c.metadata for c in listed] == [c.metadata for c in cases]
        assert all(c.id for c in listed)
        assert run.test_run_id
        run_cases = run.get_test_cases()
        assert [c.id for c in run_cases] == [c.id for c in listed]
        assert [c.variables for c in run_cases] == [c.inputs for c in cases]
        assert [c.output for c in run_cases] == [c.output for c in cases]
        assert [c.custom_metadata for c in run_cases] == [c.metadata for c in cases]
        assert run_cases[0].history == [
            {"role": "user", "content": [{"type": "text", "text": "You are a calculator."}]}
        ]
        info = run.get_test_run_info(run_cases[0].id)
        assert (info.test_run_id, info.test_case_id) == (run.test_run_id, run_cases[0].id)

    await anyio.to_thread.run_sync(use_the_sdk)


async def test_sdk_without_outputs_and_with_errors(db: Database, live_url: str) -> None:
    project_id, key, dataset_id = await make_project(db)

    def use_the_sdk() -> None:
        client = Freeplay(freeplay_api_key=key, api_base=f"{live_url}/api")
        client.test_cases.create(project_id, dataset_id, sdk_cases()[0])

        run = client.test_runs.create(project_id, testlist="sdk-cases")
        assert [c.output for c in run.get_test_cases()] == [None]

        with pytest.raises(FreeplayClientError, match="404"):
            client.test_runs.create(project_id, testlist="no-such-dataset")
        bad_key = Freeplay(freeplay_api_key="trk_wrong", api_base=f"{live_url}/api")
        with pytest.raises(FreeplayClientError, match="401"):
            bad_key.test_runs.create(project_id, testlist="sdk-cases")

    await anyio.to_thread.run_sync(use_the_sdk)


async def test_sdk_records_every_result_and_reads_the_summary(db: Database, live_url: str) -> None:
    project_id, key, dataset_id = await make_project(db)
    helpful = await evaluations.create_evaluation(
        db,
        OPERATOR,
        project_id,
        evaluations.NewEvaluation("helpful", evaluations.EvaluationKind.NUMERIC),
    )
    await evaluations.create_evaluation(
        db,
        OPERATOR,
        project_id,
        evaluations.NewEvaluation(
            "policy-ok", evaluations.EvaluationKind.BOOLEAN, evaluations.EvaluationSource.HUMAN
        ),
    )

    def use_the_sdk() -> tuple[str, list[str]]:
        client = Freeplay(freeplay_api_key=key, api_base=f"{live_url}/api")
        client.test_cases.create_many(project_id, dataset_id, sdk_cases())
        run = client.test_runs.create(
            project_id, testlist="sdk-cases", target_evaluation_ids=[uuid.UUID(helpful.id)]
        )
        completion_ids = []
        for i, case in enumerate(run.test_cases):
            session = client.sessions.create()
            recorded = client.recordings.create(
                RecordPayload(
                    project_id=project_id,
                    all_messages=[
                        {"role": "user", "content": case.variables["question"]},
                        {"role": "assistant", "content": str(2 * case.variables["n"])},
                    ],
                    inputs=case.variables,
                    session_info=session.session_info,
                    test_run_info=run.get_test_run_info(case.id),
                    eval_results={"exact": i != 1, "similarity": 0.25 * (i + 1)},
                )
            )
            completion_ids.append(recorded.completion_id)
            client.customer_feedback.update(
                project_id, recorded.completion_id, {"policy-ok": i < 3}
            )
        return run.test_run_id, [c.id for c in run.test_cases]

    run_id, case_ids = await anyio.to_thread.run_sync(use_the_sdk)
    for i, case_id in enumerate(case_ids):  # an automatic evaluator scores each output
        await result_recording.score_result(
            db, OPERATOR, run_id, case_id, 0, helpful.id, [3, 4, 5, 4][i]
        )

    def read_the_results() -> Any:
        client = Freeplay(freeplay_api_key=key, api_base=f"{live_url}/api")
        return client.test_runs.get(project_id, run_id)

    got = await anyio.to_thread.run_sync(read_the_results)

    assert got.test_run_id == run_id
    assert got.status == "completed"
    assert got.summary_statistics.auto_evaluation["helpful"] == {
        "kind": "numeric",
        "count": 4,
        "mean": 4.0,
        "min": 3.0,
        "max": 5.0,
        "evaluation_id": helpful.id,
    }
    human = got.summary_statistics.human_evaluation["policy-ok"]
    assert (human["count"], human["pass_count"], human["pass_rate"]) == (4, 3, 0.75)
    async with httpx.AsyncClient(base_url=live_url) as http:
        body = (
            await http.get(
                f"/api/v2/projects/{project_id}/test-runs/id/{run_id}",
                headers={"Authorization": f"Bearer {key}"},
            )
        ).json()
    client_stats = body["summary_statistics"]["client_evaluation"]
    assert (client_stats["exact"]["pass_count"], client_stats["exact"]["count"]) == (3, 4)
    assert client_stats["similarity"]["mean"] == 0.625


async def test_sdk_traces_record_agent_results(db: Database, live_url: str) -> None:
    project = await projects.create_project(db, "Agents")
    _, key = await keys.create_key(db, admin=False, project_ids=[project.id])
    dataset = await datasets.create_dataset(
        db, OPERATOR, project.id, NewDataset("agent-cases", TestCaseType.TRACE)
    )
    await test_cases.add_test_cases(
        db, OPERATOR, project.id, dataset.id, [{"input": {"task": f"t{i}"}} for i in range(3)]
    )

    def use_the_sdk() -> str:
        client = Freeplay(freeplay_api_key=key, api_base=f"{live_url}/api")
        run = client.test_runs.create(project.id, testlist="agent-cases", include_outputs=True)
        for case in run.get_trace_test_cases():
            session = client.sessions.create()
            trace = session.create_trace(input=case.input, agent_name="bot")
            trace.record_output(
                project.id,
                {"answer": case.input["task"].upper()},
                eval_results={"solved": case.input["task"] != "t2"},
                test_run_info=run.get_test_run_info(case.id),
            )
        return run.test_run_id

    run_id = await anyio.to_thread.run_sync(use_the_sdk)

    run = await test_runs.get_test_run(db, OPERATOR, run_id)
    summary = await result_statistics.summarize(db, run)
    assert run.status.value == "completed"
    assert summary.as_dict()["client_evaluation"]["solved"]["pass_rate"] == 2 / 3
