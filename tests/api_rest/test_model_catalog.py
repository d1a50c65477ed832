"""The model catalog over REST: admin-only changes, and provider keys never stored or echoed."""

from typing import Any

import pytest

from app.db.engine import Database
from app.domain import keys
from tests.support import Api, assert_problem

MODEL_ID = "6f1c2b3a-8d4e-4f5a-9b6c-7d8e9f0a1b2c"
SECRET = "sk-proj-9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c"


def model(**changes: Any) -> dict[str, Any]:
    return {
        "id": MODEL_ID,
        "name": "gpt-4o-mini",
        "provider_name": "openai",
        "model_family": "gpt-4o",
        "model_version": "2024-07-18",
        "display_name": None,
        "provider_info": {
            "base_url": "https://api.openai.com/v1",
            "api_key_env": "OPENAI_API_KEY",
            "input_price_per_million_tokens": "0.15",
            "output_price_per_million_tokens": 0.6,
        },
        "supports_tool_use": True,
        **changes,
    }


@pytest.fixture
async def admin(db: Database) -> dict[str, str]:
    _, key = await keys.create_key(db, admin=True, project_ids=[])
    return {"Authorization": f"Bearer {key}"}


async def test_an_admin_keeps_the_catalog_and_any_key_reads_it(
    api: Api, admin: dict[str, str]
) -> None:
    created = await api.client.post("/api/v2/models", json=model(), headers=admin)
    assert created.status_code == 200, created.text
    assert created.json()["provider_info"] == {
        "base_url": "https://api.openai.com/v1",
        "api_key_env": "OPENAI_API_KEY",
        "input_price_per_million_tokens": "0.15",
        "output_price_per_million_tokens": "0.6",
    }
    # the same id again replaces it
    upserted = await api.client.post(
        "/api/v2/models", json=model(display_name="GPT-4o mini"), headers=admin
    )
    assert upserted.json()["display_name"] == "GPT-4o mini"
    assert upserted.json()["created_at"] == created.json()["created_at"]

    listed = await api.client.get("/api/v2/models", headers=api.headers)
    assert [m["id"] for m in listed.json()["data"]] == [MODEL_ID]
    read = await api.client.get(f"/api/v2/models/{MODEL_ID}", headers=api.headers)
    assert read.json() == upserted.json()

    updated = await api.client.put(
        f"/api/v2/models/{MODEL_ID}", json={**model(), "model_version": "2025"}, headers=admin
    )
    assert updated.json()["model_version"] == "2025"
    deleted = await api.client.delete(f"/api/v2/models/{MODEL_ID}", headers=admin)
    assert deleted.status_code == 200
    assert_problem(
        await api.client.get(f"/api/v2/models/{MODEL_ID}", headers=admin), 404, "not_found"
    )


async def test_a_project_key_may_not_change_the_catalog(api: Api, admin: dict[str, str]) -> None:
    response = await api.client.post("/api/v2/models", json=model(), headers=api.headers)
    assert_problem(response, 403, "forbidden")
    await api.client.post("/api/v2/models", json=model(), headers=admin)
    response = await api.client.put(f"/api/v2/models/{MODEL_ID}", json=model(), headers=api.headers)
    assert_problem(response, 403, "forbidden")
    response = await api.client.delete(f"/api/v2/models/{MODEL_ID}", headers=api.headers)
    assert_problem(response, 403, "forbidden")
    assert (await api.client.get(f"/api/v2/models/{MODEL_ID}", headers=admin)).status_code == 200


@pytest.mark.parametrize(
    "provider_info",
    [
        {"api_key": SECRET},
        {"api_key_env": SECRET},
        {"api_key_env": "OPENAI_API_KEY", "headers": {"Authorization": f"Bearer {SECRET}"}},
        {"base_url": f"https://user:{SECRET}@api.openai.com/v1"},
        {"api_key_env": "TESTRUNS_DATABASE_URL"},
        {"input_price_per_million_tokens": "cheap"},
        {"base_url": "file:///etc/passwd"},
    ],
)
async def test_provider_info_holds_no_key_values(
    api: Api, admin: dict[str, str], provider_info: dict[str, Any]
) -> None:
    response = await api.client.post(
        "/api/v2/models", json=model(provider_info=provider_info), headers=admin
    )

    problem = assert_problem(response, 422, "invalid_input")
    assert problem["errors"][0]["loc"][0] == "provider_info"
    assert SECRET not in response.text
    listed = await api.client.get("/api/v2/models", headers=admin)
    assert listed.json()["data"] == []


async def test_a_model_is_unique_per_provider_and_name(api: Api, admin: dict[str, str]) -> None:
    await api.client.post("/api/v2/models", json=model(), headers=admin)
    twin = model(id="0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a")
    response = await api.client.post("/api/v2/models", json=twin, headers=admin)
    assert_problem(response, 409, "conflict")
    other_provider = {**twin, "provider_name": "azure"}
    response = await api.client.post("/api/v2/models", json=other_provider, headers=admin)
    assert response.status_code == 200, response.text


async def test_a_model_that_judges_criteria_is_kept(api: Api, admin: dict[str, str]) -> None:
    await api.client.post("/api/v2/models", json=model(), headers=admin)
    template = (await api.post("/prompt-templates", {"name": "support"})).json()
    response = await api.post(
        "/evaluation-criteria",
        {
            "name": "helpful",
            "target_id": template["id"],
            "question": "Helpful?",
            "type": "yes-no",
            "llm_eval_enabled": True,
            "model_id": MODEL_ID,
        },
    )
    assert response.status_code == 201, response.text
    response = await api.client.delete(f"/api/v2/models/{MODEL_ID}", headers=admin)
    assert_problem(response, 409, "conflict")


async def test_bad_ids_and_missing_models(api: Api, admin: dict[str, str]) -> None:
    response = await api.client.post("/api/v2/models", json=model(id="not-a-uuid"), headers=admin)
    assert_problem(response, 422, "invalid_input")
    response = await api.client.put("/api/v2/models/not-a-uuid", json=model(), headers=admin)
    assert_problem(response, 404, "not_found")
