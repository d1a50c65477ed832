"""Evaluation criteria over REST: versions and deploying, enabling, order, validation, scoping,
and test runs that target them."""

from typing import Any

import pytest

from app.db.engine import Database
from app.domain import keys
from tests.support import Api, assert_problem, completion_example

MODEL_ID = "6f1c2b3a-8d4e-4f5a-9b6c-7d8e9f0a1b2c"


@pytest.fixture
async def template_id(api: Api, db: Database) -> str:
    _, key = await keys.create_key(db, admin=True, project_ids=[])
    model = {
        "id": MODEL_ID,
        "name": "judge",
        "provider_name": "openai",
        "model_family": "gpt-4o",
        "model_version": "1",
        "provider_info": {"base_url": "http://127.0.0.1:9/v1", "api_key_env": "JUDGE_KEY"},
    }
    response = await api.client.post(
        "/api/v2/models", json=model, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200, response.text
    response = await api.post("/prompt-templates", {"name": "support"})
    return response.json()["id"]


def criterion(template_id: str, name: str = "helpfulness", **changes: Any) -> dict[str, Any]:
    return {
        "name": name,
        "target_id": template_id,
        "question": "How helpful is the reply?",
        "llm_question": "Rate how well the reply solves the problem.",
        "type": "1-5",
        "rubric": {"1": "Does not help", "5": "Solves it"},
        "llm_eval_enabled": True,
        "model_id": MODEL_ID,
        **changes,
    }


async def create(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post("/evaluation-criteria", body)
    assert response.status_code == 201, response.text
    return response.json()


async def patch(api: Api, path: str, body: Any = None) -> Any:
    return await api.client.patch(api.url(path), json=body, headers=api.headers)


async def test_a_new_version_is_used_only_once_deployed(api: Api, template_id: str) -> None:
    made = await create(api, criterion(template_id))
    assert made["type"] == "1-5"
    assert (made["is_enabled"], made["llm_eval_enabled"], made["direction"]) == (
        True,
        True,
        "higher",
    )
    path = f"/evaluation-criteria/id/{made['id']}"

    response = await api.post(
        f"{path}/versions",
        {"question": "Does it answer?", "type": "yes-no", "rubric": {"yes": "It answers"}},
    )
    assert response.status_code == 201, response.text
    draft = response.json()
    assert (draft["version_number"], draft["is_deployed"]) == (2, False)

    info = (await api.get(path)).json()
    assert (info["type"], info["latest_version_id"]) == ("1-5", draft["version_id"])
    response = await api.post(f"{path}/versions/{draft['version_id']}/deploy")
    assert response.status_code == 200, response.text
    info = (await api.get(path)).json()
    assert (info["type"], info["llm_eval_enabled"]) == ("yes-no", False)

    versions = (await api.get(f"{path}/versions")).json()["data"]
    assert [(v["version_number"], v["is_deployed"]) for v in versions] == [(2, True), (1, False)]
    first = (await api.get(f"{path}/versions/{versions[1]['version_id']}")).json()
    assert first["rubric"] == {"1": "Does not help", "5": "Solves it"}
    assert first["target"] == {"target_type": "prompt", "id": template_id, "name": "support"}
    assert first["model_id"] == MODEL_ID


async def test_the_deployed_version_cannot_be_deleted(api: Api, template_id: str) -> None:
    made = await create(api, criterion(template_id))
    path = f"/evaluation-criteria/id/{made['id']}/versions"
    deployed = made["latest_version_id"]
    draft = (await api.post(path, {"question": "Q", "type": "text"})).json()

    assert_problem(
        await api.client.delete(api.url(f"{path}/{deployed}"), headers=api.headers), 409, "conflict"
    )
    response = await api.client.delete(
        api.url(f"{path}/{draft['version_id']}"), headers=api.headers
    )
    assert response.status_code == 200
    assert_problem(await api.get(f"{path}/{draft['version_id']}"), 404, "not_found")


async def test_enable_disable_and_reorder(api: Api, template_id: str) -> None:
    a = await create(api, criterion(template_id, "a"))
    b = await create(api, criterion(template_id, "b"))
    c = await create(api, criterion(template_id, "c"))

    async def order() -> list[str]:
        return [x["name"] for x in (await api.get("/evaluation-criteria")).json()["data"]]

    assert await order() == ["a", "b", "c"]
    response = await patch(
        api, f"/evaluation-criteria/id/{c['id']}/reorder", {"move_before_id": a["id"]}
    )
    assert response.status_code == 200, response.text
    assert await order() == ["c", "a", "b"]
    await patch(api, f"/evaluation-criteria/id/{c['id']}/reorder", {"move_before_id": None})
    assert await order() == ["a", "b", "c"]
    response = await patch(
        api, f"/evaluation-criteria/id/{a['id']}/reorder", {"move_before_id": a["id"]}
    )
    assert_problem(response, 422, "invalid_input")

    response = await patch(api, f"/evaluation-criteria/id/{b['id']}/disable")
    assert response.status_code == 200
    assert (await api.get(f"/evaluation-criteria/id/{b['id']}")).json()["is_enabled"] is False
    await patch(api, f"/evaluation-criteria/id/{b['id']}/enable")
    assert (await api.get(f"/evaluation-criteria/id/{b['id']}")).json()["is_enabled"] is True


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"rubric": {"7": "Too high"}}, ["rubric", "7"]),
        ({"rubric": ["Too high"]}, ["rubric"]),
        ({"type": "yes-no", "rubric": {"maybe": "?"}}, ["rubric", "maybe"]),
        ({"model_id": None}, ["model_id"]),
        ({"model_id": "0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a"}, ["model_id"]),
        ({"type": "multi-select", "rubric": None}, ["options"]),
        ({"target_id": "0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a"}, ["target_id"]),
        ({"question": "  "}, ["question"]),
        ({"type": "1-10"}, ["type"]),
    ],
)
async def test_invalid_criteria_are_refused_and_nothing_is_written(
    api: Api, template_id: str, changes: dict[str, Any], loc: list[Any]
) -> None:
    response = await api.post("/evaluation-criteria", criterion(template_id, **changes))

    problem = assert_problem(response, 422, "invalid_input")
    assert problem["errors"][0]["loc"] == loc
    assert (await api.get("/evaluation-criteria")).json()["data"] == []


async def test_names_are_unique_in_a_project(api: Api, template_id: str) -> None:
    await create(api, criterion(template_id))
    response = await api.post("/evaluation-criteria", criterion(template_id))
    assert_problem(response, 409, "conflict")


async def test_direction_can_be_set_and_changed(api: Api, template_id: str) -> None:
    made = await create(api, criterion(template_id, "verbosity", direction="lower"))
    assert made["direction"] == "lower"
    response = await patch(api, f"/evaluation-criteria/id/{made['id']}", {"direction": "higher"})
    assert response.json()["direction"] == "higher"

    evaluation = await api.post(
        "/evaluations", {"name": "latency", "kind": "numeric", "direction": "lower"}
    )
    assert evaluation.json()["direction"] == "lower"
    default = await api.post("/evaluations", {"name": "accuracy", "kind": "numeric"})
    assert default.json()["direction"] == "higher"


async def test_a_test_run_may_target_criteria_of_its_project(
    api: Api, other_api: Api, template_id: str
) -> None:
    made = await create(api, criterion(template_id))
    await api.dataset_with_cases("cases", [completion_example(0)])
    evaluation = (await api.post("/evaluations", {"name": "exact", "kind": "boolean"})).json()

    response = await api.create_run("cases", target_evaluation_ids=[made["id"], evaluation["id"]])

    assert response.status_code == 201, response.text
    run = (await api.get(f"/test-runs/id/{response.json()['test_run_id']}")).json()
    assert run["target_evaluation_ids"] == sorted([made["id"], evaluation["id"]])
    # a criterion a run targets is kept
    response = await api.client.delete(
        api.url(f"/evaluation-criteria/id/{made['id']}"), headers=api.headers
    )
    assert_problem(response, 409, "conflict")
    # another project's criterion is not a target of this one
    await other_api.dataset_with_cases("cases", [completion_example(0)])
    response = await other_api.create_run("cases", target_evaluation_ids=[made["id"]])
    assert_problem(response, 422, "invalid_input")


async def test_another_projects_key_sees_nothing(
    api: Api, other_api: Api, template_id: str
) -> None:
    made = await create(api, criterion(template_id))
    base = f"/api/v2/projects/{api.project_id}/evaluation-criteria"
    for method, path in [
        ("GET", base),
        ("GET", f"{base}/id/{made['id']}"),
        ("GET", f"{base}/id/{made['id']}/versions"),
        ("PATCH", f"{base}/id/{made['id']}/disable"),
        ("DELETE", f"{base}/id/{made['id']}"),
    ]:
        response = await api.client.request(method, path, headers=other_api.headers)
        assert_problem(response, 404, "not_found")
    assert_problem(await other_api.get(f"/evaluation-criteria/id/{made['id']}"), 404, "not_found")
    # a criterion may not target another project's template
    response = await other_api.post("/evaluation-criteria", criterion(template_id))
    assert_problem(response, 422, "invalid_input")
    assert (await api.get(f"/evaluation-criteria/id/{made['id']}")).json()["is_enabled"] is True
