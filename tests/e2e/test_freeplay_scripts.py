"""A dataset-management script written from Freeplay's API reference, with plain HTTP against a
live server: upload 250 cases through the bulk routes 100 at a time, page through them, run
them. Every answer is checked against Freeplay's published document."""

from typing import Any

import anyio
import httpx

from app.db.engine import Database
from app.domain import keys, projects
from tests.freeplay_spec import assert_conforms

TOTAL = 250
BATCH = 100  # Freeplay's limit per bulk request


def prompt_case(i: int) -> dict[str, Any]:
    return {
        "inputs": {"question": f"What is {i} squared?", "n": i},
        "output": str(i * i),
        "metadata": {"source": "script", "index": i},
        "history": [{"role": "user", "content": "Answer with a number only."}],
    }


def agent_case(i: int) -> dict[str, Any]:
    return {"inputs": {"task": f"book trip {i}"}, "outputs": {"booked": i % 2 == 0}}


def upload_and_run(http: httpx.Client, kind: str, make: Any) -> dict[str, Any]:
    """What the script does for one kind of dataset; what it saw."""
    created = http.post(f"/{kind}-datasets", json={"name": f"{kind}-cases"})
    dataset_id = assert_conforms(f"post_create_{kind}_dataset", created)["id"]

    uploaded: list[str] = []
    cases = [make(i) for i in range(TOTAL)]
    for start in range(0, TOTAL, BATCH):
        response = http.post(
            f"/{kind}-datasets/{dataset_id}/test-cases/bulk",
            json={"data": cases[start : start + BATCH]},
        )
        body = assert_conforms(f"post_bulk_create_{kind}_dataset_test_cases", response)
        uploaded += [case["id"] for case in body["data"]]

    listed: list[dict[str, Any]] = []
    page = 1
    while True:
        response = http.get(
            f"/{kind}-datasets/{dataset_id}/test-cases", params={"page": page, "page_size": BATCH}
        )
        body = assert_conforms(f"get_get_{kind}_dataset_test_cases", response)
        listed += body["data"]
        if not body["pagination"]["has_next"]:
            break
        page += 1

    run = http.post("/test-runs", json={"dataset_name": f"{kind}-cases", "include_outputs": True})
    run_body = assert_conforms("post_create_with_test_cases", run)
    results = http.get(f"/test-runs/id/{run_body['test_run_id']}")
    assert_conforms("get_get_test_run_results", results)
    return {
        "id": dataset_id,
        "uploaded": uploaded,
        "listed": listed,
        "pages": page,
        "run": run_body,
    }


async def test_a_script_uploads_250_cases_in_batches_of_100_and_runs_them(
    db: Database, live_url: str
) -> None:
    project = await projects.create_project(db, "Script project")
    _, key = await keys.create_key(db, admin=False, project_ids=[project.id])

    def script() -> tuple[dict[str, Any], dict[str, Any], httpx.Response, int]:
        with httpx.Client(
            base_url=f"{live_url}/api/v2/projects/{project.id}",
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        ) as http:
            prompt = upload_and_run(http, "prompt", prompt_case)
            agent = upload_and_run(http, "agent", agent_case)
            too_many = http.post(
                f"/prompt-datasets/{prompt['id']}/test-cases/bulk",
                json={"data": [prompt_case(i) for i in range(BATCH + 1)]},
            )
            count = http.get("/datasets/name/prompt-cases").json()["test_case_count"]
            return prompt, agent, too_many, count

    prompt, agent, too_many, count = await anyio.to_thread.run_sync(script)

    assert len(prompt["uploaded"]) == len(set(prompt["uploaded"])) == TOTAL
    assert [c["id"] for c in prompt["listed"]] == prompt["uploaded"]
    assert prompt["pages"] == 3
    assert [c["inputs"]["n"] for c in prompt["listed"]] == list(range(TOTAL))
    run_cases = prompt["run"]["test_cases"]
    assert [c["id"] for c in run_cases] == prompt["uploaded"]
    assert run_cases[249]["output"] == str(249 * 249)
    assert prompt["run"]["trace_test_cases"] is None

    assert [c["id"] for c in agent["listed"]] == agent["uploaded"]
    trace_cases = agent["run"]["trace_test_cases"]
    assert [c["test_case_id"] for c in trace_cases] == agent["uploaded"]
    assert trace_cases[7]["input"] == {"task": "book trip 7"}
    assert trace_cases[7]["output"] == {"booked": False}
    assert agent["run"]["test_cases"] is None

    assert too_many.status_code == 422
    assert too_many.json()["code"] == "invalid_input"
    assert count == TOTAL
