"""`testruns serve` runs the cases of executed runs itself (its embedded worker)."""

import asyncio
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from app.db.engine import Database
from app.domain import keys, projects
from app.main import create_app
from app.settings import Settings
from tests.fake_llm import FakeLLM
from tests.runner.conftest import add_dataset, add_prompt, case


@pytest.fixture
def served(settings: Settings) -> Iterator[str]:
    """The app served by uvicorn with its lifespan, so with its embedded worker."""
    config = uvicorn.Config(
        create_app(settings.model_copy(update={"worker_poll_seconds": 0.05})),
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the server did not start")
        time.sleep(0.01)
    yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=30)


async def test_the_server_runs_an_executed_run_by_itself(
    db: Database, served: str, fake_llm: FakeLLM
) -> None:
    project = await projects.create_project(db, "Served")
    _, key = await keys.create_key(db, admin=False, project_ids=[project.id])
    await add_dataset(db, project.id, [case(i) for i in range(6)])
    version = await add_prompt(db, project.id, fake_llm)
    base = f"{served}/api/v2/projects/{project.id}"
    headers = {"Authorization": f"Bearer {key}"}

    async with httpx.AsyncClient(headers=headers, timeout=30) as http:
        created = await http.post(
            f"{base}/test-runs",
            json={"dataset_name": "qa", "execute": {"prompt_template_version_id": version}},
        )
        assert created.status_code == 201, created.text
        run_url = f"{base}/test-runs/id/{created.json()['test_run_id']}"
        run = {}
        for _ in range(300):
            run = (await http.get(run_url)).json()
            if run["status"] == "completed":
                break
            await asyncio.sleep(0.1)

    assert run["status"] == "completed"
    assert run["execution"]["completed"] == 6
    assert run["summary_statistics"]["auto_evaluation"]["helpful"]["mean"] == 5
