"""The official Freeplay Python SDK, unchanged, against a live server (only api_base set)."""

import anyio
import pytest
from freeplay import Freeplay
from freeplay.errors import FreeplayClientError
from freeplay.resources.test_cases import DatasetTestCase

from app.db.engine import Database
from app.domain import datasets, keys, projects
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
