"""Every in-scope operation of Freeplay's published OpenAPI document, called at its documented
path with a request the document says is valid, answers with the documented success status
and a body that validates against the document's own response schema.

In scope: the Test Runs, Prompt Datasets and Agent Datasets tags, and the project routes of
the Configuration tag. A guard fails when an in-scope operation has no check here.
"""

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from app.db.engine import Database
from app.domain import keys, projects
from tests.freeplay_scope import in_scope
from tests.freeplay_spec import all_operations, assert_conforms, assert_valid_request
from tests.support import Api

Check = Callable[["Freeplay"], Awaitable[Any]]
CHECKS: dict[str, Check] = {}


def conforms(operation_id: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        CHECKS[operation_id] = check
        return check

    return register


class Freeplay:
    """Calls the document's operations by id, at their documented paths, as a client
    generated from the document would."""

    def __init__(self, api: Api, db: Database) -> None:
        self.api = api
        self.db = db
        self.headers = api.headers

    async def send(
        self,
        operation_id: str,
        body: Any = None,
        query: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        **path: str,
    ) -> httpx.Response:
        op = all_operations()[operation_id]
        if body is not None:
            assert_valid_request(operation_id, body)
        url = op.path.format(project_id=self.api.project_id, **path)
        return await self.api.client.request(
            op.method, url, json=body, params=query, headers=headers or self.headers
        )

    async def call(self, operation_id: str, body: Any = None, **kwargs: Any) -> Any:
        """The answer's body, after checking it against the document."""
        return assert_conforms(operation_id, await self.send(operation_id, body, **kwargs))

    async def admin_headers(self) -> dict[str, str]:
        _, key = await keys.create_key(self.db, admin=True, project_ids=[])
        return {"Authorization": f"Bearer {key}"}

    async def db_project(self, name: str) -> str:
        return (await projects.create_project(self.db, name)).id

    async def prompt_dataset(self, name: str = "support", cases: int = 3) -> dict[str, Any]:
        dataset = await self.call(
            "post_create_prompt_dataset",
            {"name": name, "description": "replies", "input_names": ["question"]},
        )
        if cases:
            await self.call(
                "post_bulk_create_prompt_dataset_test_cases",
                {"data": [prompt_case(i) for i in range(cases)]},
                dataset_id=dataset["id"],
            )
        return dataset

    async def agent_dataset(self, name: str = "agents", cases: int = 3) -> dict[str, Any]:
        dataset = await self.call("post_create_agent_dataset", {"name": name})
        if cases:
            await self.call(
                "post_bulk_create_agent_dataset_test_cases",
                {"data": [agent_case(i) for i in range(cases)]},
                dataset_id=dataset["id"],
            )
        return dataset

    async def first_case(self, kind: str, dataset_id: str) -> dict[str, Any]:
        operation = f"get_get_{kind}_dataset_test_cases"
        return (await self.call(operation, dataset_id=dataset_id))["data"][0]


def prompt_case(i: int) -> dict[str, Any]:
    return {
        "inputs": {"question": f"question {i}", "n": i},
        "output": f"answer {i}",
        "metadata": {"index": i, "tag": "even" if i % 2 == 0 else "odd"},
        "history": [{"role": "user", "content": f"earlier {i}"}],
    }


def agent_case(i: int) -> dict[str, Any]:
    return {
        "inputs": {"task": f"task {i}", "steps": [i, i + 1]},
        "outputs": {"result": f"done {i}"},
        "metadata": {"index": i},
    }


@pytest.fixture
async def freeplay(api: Api, db: Database) -> Freeplay:
    return Freeplay(api, db)


# ---- Test Runs ---------------------------------------------------------------------------


@conforms("post_create_with_test_cases")
async def create_test_run(fp: Freeplay) -> None:
    await fp.prompt_dataset()
    body = await fp.call(
        "post_create_with_test_cases",
        {"dataset_name": "support", "include_outputs": True, "test_run_name": "nightly"},
    )
    assert len(body["test_cases"]) == 3
    assert body["trace_test_cases"] is None


@conforms("get_get_test_runs")
async def list_test_runs(fp: Freeplay) -> None:
    await fp.prompt_dataset()
    for _ in range(3):
        await fp.call("post_create_with_test_cases", {"dataset_name": "support"})
    first = await fp.call("get_get_test_runs", query={"page": 1, "page_size": 2})
    second = await fp.call("get_get_test_runs", query={"page": 2, "page_size": 2})
    assert len(first["test_runs"]) == 2
    assert len(second["test_runs"]) == 1


@conforms("get_get_test_run_results")
async def get_test_run(fp: Freeplay) -> None:
    await fp.prompt_dataset()
    run = await fp.call("post_create_with_test_cases", {"dataset_name": "support"})
    body = await fp.call("get_get_test_run_results", test_run_id=run["test_run_id"])
    assert body["id"] == run["test_run_id"]
    assert isinstance(body["created_at"], int)
    assert (body["prompt_name"], body["model_name"], body["sessions_count"]) == (None, None, 0)


# ---- Prompt Datasets ---------------------------------------------------------------------


@conforms("post_create_prompt_dataset")
async def create_prompt_dataset(fp: Freeplay) -> None:
    body = await fp.call(
        "post_create_prompt_dataset",
        {"name": "qa", "input_names": ["q"], "media_input_names": [], "support_history": True},
    )
    assert (body["name"], body["support_history"]) == ("qa", True)


@conforms("get_get_prompt_datasets")
async def list_prompt_datasets(fp: Freeplay) -> None:
    for name in ("b", "a", "c"):
        await fp.prompt_dataset(name, cases=0)
    await fp.agent_dataset("an-agent-dataset", cases=0)
    first = await fp.call("get_get_prompt_datasets", query={"page": 1, "page_size": 2})
    named = await fp.call("get_get_prompt_datasets", query={"name": "c"})
    assert [d["name"] for d in first["data"]] == ["a", "b"]
    assert first["pagination"] == {"page": 1, "page_size": 2, "has_next": True}
    assert [d["name"] for d in named["data"]] == ["c"]
    by_id = await fp.call("get_get_prompt_datasets", query={"id": named["data"][0]["id"]})
    assert [d["name"] for d in by_id["data"]] == ["c"]


@conforms("get_get_prompt_dataset")
async def get_prompt_dataset(fp: Freeplay) -> None:
    dataset = await fp.prompt_dataset()
    body = await fp.call("get_get_prompt_dataset", dataset_id=dataset["id"])
    assert body["input_names"] == ["question"]


@conforms("patch_update_prompt_dataset")
async def update_prompt_dataset(fp: Freeplay) -> None:
    dataset = await fp.prompt_dataset()
    body = await fp.call(
        "patch_update_prompt_dataset",
        {"name": "renamed", "input_names": ["q", "n"], "support_history": True},
        dataset_id=dataset["id"],
    )
    assert (body["name"], body["input_names"], body["support_history"]) == (
        "renamed",
        ["q", "n"],
        True,
    )


@conforms("delete_delete_prompt_dataset")
async def delete_prompt_dataset(fp: Freeplay) -> None:
    dataset = await fp.prompt_dataset()
    assert await fp.call("delete_delete_prompt_dataset", dataset_id=dataset["id"]) == {}
    gone = await fp.send("get_get_prompt_dataset", dataset_id=dataset["id"])
    assert gone.status_code == 404


@conforms("get_get_by_id")
async def get_dataset_by_id(fp: Freeplay) -> None:
    dataset = await fp.prompt_dataset()
    assert (await fp.call("get_get_by_id", dataset_id=dataset["id"]))["name"] == "support"


@conforms("get_get_by_name")
async def get_dataset_by_name(fp: Freeplay) -> None:
    dataset = await fp.prompt_dataset()
    assert (await fp.call("get_get_by_name", dataset_name="support"))["id"] == dataset["id"]


@conforms("post_upload_test_cases")
async def upload_test_cases(fp: Freeplay) -> None:
    dataset = await fp.prompt_dataset(cases=0)
    examples = [{"inputs": {"q": "x"}, "output": "y", "metadata": {"source": "docs"}}]
    body = await fp.call("post_upload_test_cases", {"examples": examples}, dataset_id=dataset["id"])
    assert body["message"]


@conforms("get_get_test_cases_by_id")
async def list_test_cases_by_id(fp: Freeplay) -> None:
    dataset = await fp.prompt_dataset()
    every = await fp.call("get_get_test_cases_by_id", dataset_id=dataset["id"])
    page = await fp.call(
        "get_get_test_cases_by_id", dataset_id=dataset["id"], query={"page": 2, "page_size": 2}
    )
    assert [c["values"]["n"] for c in every] == [0, 1, 2]
    assert [c["values"]["n"] for c in page] == [2]


@conforms("get_get_test_cases_by_name")
async def list_test_cases_by_name(fp: Freeplay) -> None:
    await fp.prompt_dataset()
    every = await fp.call("get_get_test_cases_by_name", dataset_name="support")
    page = await fp.call(
        "get_get_test_cases_by_name", dataset_name="support", query={"page": 1, "page_size": 2}
    )
    assert [c["values"]["n"] for c in every] == [0, 1, 2]
    assert [c["values"]["n"] for c in page] == [0, 1]


@conforms("get_get_prompt_dataset_test_cases")
async def list_prompt_test_cases(fp: Freeplay) -> None:
    dataset = await fp.prompt_dataset()
    first = await fp.call(
        "get_get_prompt_dataset_test_cases",
        dataset_id=dataset["id"],
        query={"page": 1, "page_size": 2},
    )
    second = await fp.call(
        "get_get_prompt_dataset_test_cases",
        dataset_id=dataset["id"],
        query={"page": 2, "page_size": 2},
    )
    assert [c["inputs"]["n"] for c in first["data"] + second["data"]] == [0, 1, 2]
    assert (first["pagination"]["has_next"], second["pagination"]["has_next"]) == (True, False)


@conforms("post_bulk_create_prompt_dataset_test_cases")
async def bulk_create_prompt_test_cases(fp: Freeplay) -> None:
    dataset = await fp.prompt_dataset(cases=0)
    body = await fp.call(
        "post_bulk_create_prompt_dataset_test_cases",
        {"data": [prompt_case(i) for i in range(5)]},
        dataset_id=dataset["id"],
    )
    assert [c["inputs"]["n"] for c in body["data"]] == [0, 1, 2, 3, 4]
    assert all(uuid.UUID(c["id"]) for c in body["data"])


@conforms("delete_bulk_delete_prompt_dataset_test_cases")
async def bulk_delete_prompt_test_cases(fp: Freeplay) -> None:
    dataset = await fp.prompt_dataset()
    cases = (await fp.call("get_get_prompt_dataset_test_cases", dataset_id=dataset["id"]))["data"]
    body = await fp.call(
        "delete_bulk_delete_prompt_dataset_test_cases",
        {"test_case_ids": [cases[0]["id"], cases[2]["id"]]},
        dataset_id=dataset["id"],
    )
    assert body == {}
    left = (await fp.call("get_get_prompt_dataset_test_cases", dataset_id=dataset["id"]))["data"]
    assert [c["id"] for c in left] == [cases[1]["id"]]


@conforms("get_get_prompt_dataset_test_case")
async def get_prompt_test_case(fp: Freeplay) -> None:
    dataset = await fp.prompt_dataset()
    case = await fp.first_case("prompt", dataset["id"])
    body = await fp.call(
        "get_get_prompt_dataset_test_case", dataset_id=dataset["id"], test_case_id=case["id"]
    )
    assert body == case


@conforms("patch_update_prompt_dataset_test_case")
async def update_prompt_test_case(fp: Freeplay) -> None:
    dataset = await fp.prompt_dataset()
    case = await fp.first_case("prompt", dataset["id"])
    body = await fp.call(
        "patch_update_prompt_dataset_test_case",
        {"output": "a better answer", "metadata": {"reviewed": True}},
        dataset_id=dataset["id"],
        test_case_id=case["id"],
    )
    assert (body["id"], body["output"], body["inputs"]) == (
        case["id"],
        "a better answer",
        case["inputs"],
    )
    assert body["metadata"] == {"reviewed": True}


@conforms("delete_delete_prompt_dataset_test_case")
async def delete_prompt_test_case(fp: Freeplay) -> None:
    dataset = await fp.prompt_dataset()
    case = await fp.first_case("prompt", dataset["id"])
    body = await fp.call(
        "delete_delete_prompt_dataset_test_case", dataset_id=dataset["id"], test_case_id=case["id"]
    )
    assert body == {}
    gone = await fp.send(
        "get_get_prompt_dataset_test_case", dataset_id=dataset["id"], test_case_id=case["id"]
    )
    assert gone.status_code == 404


# ---- Agent Datasets ----------------------------------------------------------------------


@conforms("post_create_agent_dataset")
async def create_agent_dataset(fp: Freeplay) -> None:
    agent_id = str(uuid.uuid4())
    body = await fp.call(
        "post_create_agent_dataset",
        {"name": "agents", "description": "flows", "compatible_agent_ids": [agent_id]},
    )
    assert body["compatible_agent_ids"] == [agent_id]


@conforms("get_get_agent_datasets")
async def list_agent_datasets(fp: Freeplay) -> None:
    for name in ("y", "x"):
        await fp.agent_dataset(name, cases=0)
    await fp.prompt_dataset("a-prompt-dataset", cases=0)
    body = await fp.call("get_get_agent_datasets")
    assert [d["name"] for d in body["data"]] == ["x", "y"]
    assert body["pagination"] == {"page": 1, "page_size": 30, "has_next": False}


@conforms("get_get_agent_dataset")
async def get_agent_dataset(fp: Freeplay) -> None:
    dataset = await fp.agent_dataset()
    assert (await fp.call("get_get_agent_dataset", dataset_id=dataset["id"]))["name"] == "agents"


@conforms("patch_update_agent_dataset")
async def update_agent_dataset(fp: Freeplay) -> None:
    dataset = await fp.agent_dataset()
    agent_id = str(uuid.uuid4())
    body = await fp.call(
        "patch_update_agent_dataset",
        {"description": "now described", "compatible_agent_ids": [agent_id]},
        dataset_id=dataset["id"],
    )
    assert (body["description"], body["compatible_agent_ids"]) == ("now described", [agent_id])


@conforms("delete_delete_agent_dataset")
async def delete_agent_dataset(fp: Freeplay) -> None:
    dataset = await fp.agent_dataset()
    assert await fp.call("delete_delete_agent_dataset", dataset_id=dataset["id"]) == {}


@conforms("get_get_agent_dataset_test_cases")
async def list_agent_test_cases(fp: Freeplay) -> None:
    dataset = await fp.agent_dataset()
    body = await fp.call(
        "get_get_agent_dataset_test_cases", dataset_id=dataset["id"], query={"page_size": 2}
    )
    assert [c["input"]["task"] for c in body["data"]] == ["task 0", "task 1"]
    assert body["data"][0]["output"] == {"result": "done 0"}
    assert body["data"][0]["metadata"] == {"index": 0}
    assert body["pagination"]["has_next"] is True


@conforms("post_bulk_create_agent_dataset_test_cases")
async def bulk_create_agent_test_cases(fp: Freeplay) -> None:
    dataset = await fp.agent_dataset(cases=0)
    body = await fp.call(
        "post_bulk_create_agent_dataset_test_cases",
        {"data": [agent_case(i) for i in range(4)]},
        dataset_id=dataset["id"],
    )
    assert [c["input"]["task"] for c in body["data"]] == [f"task {i}" for i in range(4)]


@conforms("delete_bulk_delete_agent_dataset_test_cases")
async def bulk_delete_agent_test_cases(fp: Freeplay) -> None:
    dataset = await fp.agent_dataset()
    case = await fp.first_case("agent", dataset["id"])
    body = await fp.call(
        "delete_bulk_delete_agent_dataset_test_cases",
        {"test_case_ids": [case["id"]]},
        dataset_id=dataset["id"],
    )
    assert body == {}
    left = (await fp.call("get_get_agent_dataset_test_cases", dataset_id=dataset["id"]))["data"]
    assert len(left) == 2


@conforms("get_get_agent_dataset_test_case")
async def get_agent_test_case(fp: Freeplay) -> None:
    dataset = await fp.agent_dataset()
    case = await fp.first_case("agent", dataset["id"])
    body = await fp.call(
        "get_get_agent_dataset_test_case", dataset_id=dataset["id"], test_case_id=case["id"]
    )
    assert body == case


@conforms("patch_update_agent_dataset_test_case")
async def update_agent_test_case(fp: Freeplay) -> None:
    dataset = await fp.agent_dataset()
    case = await fp.first_case("agent", dataset["id"])
    body = await fp.call(
        "patch_update_agent_dataset_test_case",
        {"outputs": {"result": "better"}, "metadata": {"reviewed": True}},
        dataset_id=dataset["id"],
        test_case_id=case["id"],
    )
    assert (body["input"], body["output"], body["metadata"]) == (
        case["input"],
        {"result": "better"},
        {"reviewed": True},
    )


@conforms("delete_delete_agent_dataset_test_case")
async def delete_agent_test_case(fp: Freeplay) -> None:
    dataset = await fp.agent_dataset()
    case = await fp.first_case("agent", dataset["id"])
    body = await fp.call(
        "delete_delete_agent_dataset_test_case", dataset_id=dataset["id"], test_case_id=case["id"]
    )
    assert body == {}


# ---- Projects (Configuration) ------------------------------------------------------------


@conforms("get_get_projects")
async def list_projects(fp: Freeplay) -> None:
    other = await fp.db_project("Not this key's")
    body = await fp.call("get_get_projects")
    assert body == {"projects": [{"id": fp.api.project_id, "name": "Test project"}]}
    admin = await fp.call("get_get_projects", headers=await fp.admin_headers())
    assert {p["id"] for p in admin["projects"]} == {fp.api.project_id, other}


@conforms("get_get_project")
async def get_project(fp: Freeplay) -> None:
    body = await fp.call("get_get_project")
    assert body == {
        "id": fp.api.project_id,
        "name": "Test project",
        "is_private": False,
        "freeplay_spend_limit_usd": None,
        "data_retention_days": None,
        "enable_eval_insights": True,
        "enable_review_insights": True,
    }


@conforms("put_update_project")
async def update_project(fp: Freeplay) -> None:
    body = await fp.call(
        "put_update_project",
        {"name": "Renamed", "freeplay_spend_limit_usd": 250, "enable_review_insights": False},
    )
    assert (body["name"], body["freeplay_spend_limit_usd"], body["enable_review_insights"]) == (
        "Renamed",
        250,
        False,
    )
    assert (await fp.call("get_get_project"))["name"] == "Renamed"


@conforms("post_create_project")
async def create_project(fp: Freeplay) -> None:
    wanted = str(uuid.uuid4())
    body = await fp.call(
        "post_create_project",
        {"name": "New team", "id": wanted, "is_private": True, "data_retention_days": 30},
        headers=await fp.admin_headers(),
    )
    assert (body["id"], body["is_private"], body["data_retention_days"]) == (wanted, True, 30)
    assert body["enable_eval_insights"] is True


# ---- the checks --------------------------------------------------------------------------


@pytest.mark.parametrize("operation_id", sorted(CHECKS))
async def test_operation_conforms_to_freeplays_document(
    operation_id: str, freeplay: Freeplay
) -> None:
    await CHECKS[operation_id](freeplay)


def test_every_in_scope_operation_of_the_document_has_a_check() -> None:
    documented = {op.operation_id for op in in_scope()}
    assert len(documented) == 34
    assert sorted(documented - set(CHECKS)) == []
    assert sorted(set(CHECKS) - documented) == []
