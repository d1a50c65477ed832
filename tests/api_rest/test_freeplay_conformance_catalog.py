"""Every operation of Freeplay's Prompt Templates, Models and Evaluation Criteria tags answers
a valid request with the documented success status and a body valid under the documented
schema (tests/reference/freeplay-openapi.json)."""

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from app.db.engine import Database
from app.domain import keys
from tests.freeplay_spec import all_operations, assert_conforms, assert_valid_request, operations
from tests.support import Api

TAGS = ("Prompt Templates", "Models", "Evaluation Criteria")
MODEL_ID = "6f1c2b3a-8d4e-4f5a-9b6c-7d8e9f0a1b2c"

VERSION_BODY = {
    "template_messages": [
        {"role": "system", "content": "You answer {{customer}}'s questions."},
        {"kind": "history"},
        {"role": "user", "content": "{{question}}"},
    ],
    "model": "gpt-4o-mini",
    "provider": "openai",
    "version_name": "first",
    "version_description": "The first version",
    "llm_parameters": {"temperature": 0.2, "max_tokens": 300},
    "tool_schema": [
        {
            "name": "lookup_order",
            "description": "Find an order",
            "parameters": {"type": "object", "properties": {"id": {"type": "string"}}},
        }
    ],
    "output_schema": None,
    "environments": ["production"],
}
MODEL_BODY = {
    "name": "gpt-4o-mini",
    "provider_name": "openai",
    "model_family": "gpt-4o",
    "model_version": "2024-07-18",
    "display_name": "GPT-4o mini",
    "provider_info": {
        "base_url": "http://127.0.0.1:9/v1",
        "api_key_env": "OPENAI_API_KEY",
        "input_price_per_million_tokens": "0.15",
        "output_price_per_million_tokens": "0.6",
    },
    "supports_tool_use": True,
}


@dataclass
class Catalog:
    """A project holding a model, a template with a version, and a criterion with two
    versions (the first deployed)."""

    api: Api
    admin: dict[str, str]
    template_id: str
    version_id: str
    criterion_id: str
    criterion_version_id: str
    spare_version_id: str

    async def call(
        self, operation_id: str, path: str, body: Any = None, *, admin: bool = False, **kw: Any
    ) -> httpx.Response:
        """Send the operation's method to ``path`` (relative to the project unless it starts
        with /api), checking that the path is one the operation documents."""
        op = all_operations()[operation_id]
        url = path if path.startswith("/api") else self.api.url(path)
        pattern = re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(op.path))
        assert re.fullmatch(pattern, url), (url, op.path)
        if body is not None:
            assert_valid_request(operation_id, body)
        headers = self.admin if admin else self.api.headers
        return await self.api.client.request(op.method, url, json=body, headers=headers, **kw)


@pytest.fixture
async def catalog(api: Api, db: Database) -> Catalog:
    _, admin_key = await keys.create_key(db, admin=True, project_ids=[])
    admin = {"Authorization": f"Bearer {admin_key}"}
    response = await api.client.post(
        "/api/v2/models", json={"id": MODEL_ID, **MODEL_BODY}, headers=admin
    )
    assert response.status_code == 200, response.text
    response = await api.post("/prompt-templates", {"name": "support"})
    template_id = response.json()["id"]
    response = await api.post(f"/prompt-templates/id/{template_id}/versions", VERSION_BODY)
    version_id = response.json()["prompt_template_version_id"]
    response = await api.post(
        "/evaluation-criteria",
        {
            "name": "helpfulness",
            "target_id": template_id,
            "question": "How helpful is it?",
            "llm_question": "Rate how helpful the reply is.",
            "type": "1-5",
            "rubric": {"1": "Not at all", "5": "Fully"},
            "llm_eval_enabled": True,
            "model_id": MODEL_ID,
        },
    )
    assert response.status_code == 201, response.text
    criterion = response.json()
    response = await api.post(
        f"/evaluation-criteria/id/{criterion['id']}/versions",
        {"question": "Is it helpful?", "type": "yes-no", "rubric": {"yes": "It helps"}},
    )
    assert response.status_code == 201, response.text
    return Catalog(
        api=api,
        admin=admin,
        template_id=template_id,
        version_id=version_id,
        criterion_id=criterion["id"],
        criterion_version_id=criterion["latest_version_id"],
        spare_version_id=response.json()["version_id"],
    )


Request = Callable[[Catalog], Awaitable[httpx.Response]]
REQUESTS: dict[str, Request] = {}


def operation(operation_id: str) -> Callable[[Request], Request]:
    def register(request: Request) -> Request:
        REQUESTS[operation_id] = request
        return request

    return register


# ---- Prompt Templates ----------------------------------------------------------------------


@operation("get_list_prompt_templates")
async def _(c: Catalog) -> httpx.Response:
    return await c.call("get_list_prompt_templates", "/prompt-templates", params={"page_size": 5})


@operation("post_create_prompt_template")
async def _(c: Catalog) -> httpx.Response:
    body = {"name": "brand-new", "id": "3b0f8a2e-6c1d-4e5f-8a9b-0c1d2e3f4a5b"}
    return await c.call("post_create_prompt_template", "/prompt-templates", body)


@operation("get_get_all_by_environment")
async def _(c: Catalog) -> httpx.Response:
    return await c.call("get_get_all_by_environment", "/prompt-templates/all/production")


@operation("get_get_prompt_template")
async def _(c: Catalog) -> httpx.Response:
    return await c.call("get_get_prompt_template", f"/prompt-templates/id/{c.template_id}")


@operation("patch_update_prompt_template")
async def _(c: Catalog) -> httpx.Response:
    path = f"/prompt-templates/id/{c.template_id}"
    return await c.call("patch_update_prompt_template", path, {"name": "support-renamed"})


@operation("delete_delete_prompt_template")
async def _(c: Catalog) -> httpx.Response:
    path = f"/prompt-templates/id/{c.template_id}"
    return await c.call("delete_delete_prompt_template", path)


@operation("post_create_template_version_by_id")
async def _(c: Catalog) -> httpx.Response:
    path = f"/prompt-templates/id/{c.template_id}/versions"
    body = {**VERSION_BODY, "version_name": "second", "environments": ["staging"]}
    return await c.call("post_create_template_version_by_id", path, body)


@operation("post_create_template_version_by_name")
async def _(c: Catalog) -> httpx.Response:
    path = "/prompt-templates/name/another/versions"
    return await c.call(
        "post_create_template_version_by_name",
        path,
        VERSION_BODY,
        params={"create_template_if_not_exists": "true"},
    )


@operation("get_list_prompt_template_versions")
async def _(c: Catalog) -> httpx.Response:
    path = f"/prompt-templates/id/{c.template_id}/versions"
    return await c.call("get_list_prompt_template_versions", path)


@operation("get_get_by_template_version_id")
async def _(c: Catalog) -> httpx.Response:
    path = f"/prompt-templates/id/{c.template_id}/versions/{c.version_id}"
    return await c.call("get_get_by_template_version_id", path)


@operation("post_get_bound_by_template_version_id")
async def _(c: Catalog) -> httpx.Response:
    path = f"/prompt-templates/id/{c.template_id}/versions/{c.version_id}"
    body = {"customer": "Ada", "question": "Where is my order?"}
    return await c.call("post_get_bound_by_template_version_id", path, body)


@operation("delete_delete_template_version")
async def _(c: Catalog) -> httpx.Response:
    # A version deployed to a named environment is kept; this one is only "latest".
    response = await c.api.post(
        f"/prompt-templates/id/{c.template_id}/versions",
        {**VERSION_BODY, "version_name": "draft", "environments": None},
    )
    path = f"/prompt-templates/id/{c.template_id}/versions/{response.json()['prompt_template_version_id']}"
    return await c.call("delete_delete_template_version", path)


@operation("post_update_template_version_environments")
async def _(c: Catalog) -> httpx.Response:
    path = f"/prompt-templates/id/{c.template_id}/versions/{c.version_id}/environments"
    body = {"environments": ["production", "staging"]}
    return await c.call("post_update_template_version_environments", path, body)


@operation("get_get_by_name_and_environment")
async def _(c: Catalog) -> httpx.Response:
    return await c.call(
        "get_get_by_name_and_environment",
        "/prompt-templates/name/support",
        params={"environment": "production"},
    )


@operation("post_get_bound_by_name_and_environment")
async def _(c: Catalog) -> httpx.Response:
    body = {"customer": "Ada", "question": "Where is my order?"}
    return await c.call(
        "post_get_bound_by_name_and_environment", "/prompt-templates/name/support", body
    )


# ---- Models --------------------------------------------------------------------------------


@operation("get_list_models")
async def _(c: Catalog) -> httpx.Response:
    return await c.call("get_list_models", "/api/v2/models")


@operation("post_replicate_model")
async def _(c: Catalog) -> httpx.Response:
    body = {
        **MODEL_BODY,
        "id": "0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a",
        "name": "claude-sonnet",
        "provider_name": "anthropic",
    }
    return await c.call("post_replicate_model", "/api/v2/models", body, admin=True)


@operation("get_get_model")
async def _(c: Catalog) -> httpx.Response:
    return await c.call("get_get_model", f"/api/v2/models/{MODEL_ID}")


@operation("put_update_model")
async def _(c: Catalog) -> httpx.Response:
    body = {**MODEL_BODY, "display_name": "GPT-4o mini (2024)"}
    return await c.call("put_update_model", f"/api/v2/models/{MODEL_ID}", body, admin=True)


@operation("delete_delete_model")
async def _(c: Catalog) -> httpx.Response:
    body = {**MODEL_BODY, "id": "5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928170", "name": "unused"}
    response = await c.api.client.post("/api/v2/models", json=body, headers=c.admin)
    assert response.status_code == 200, response.text
    return await c.call("delete_delete_model", f"/api/v2/models/{body['id']}", admin=True)


# ---- Evaluation Criteria -------------------------------------------------------------------


@operation("get_list_evaluation_criteria")
async def _(c: Catalog) -> httpx.Response:
    return await c.call("get_list_evaluation_criteria", "/evaluation-criteria")


@operation("get_get_evaluation_criteria")
async def _(c: Catalog) -> httpx.Response:
    path = f"/evaluation-criteria/id/{c.criterion_id}"
    return await c.call("get_get_evaluation_criteria", path)


@operation("delete_delete_evaluation_criteria")
async def _(c: Catalog) -> httpx.Response:
    path = f"/evaluation-criteria/id/{c.criterion_id}"
    return await c.call("delete_delete_evaluation_criteria", path)


@operation("patch_disable_criteria")
async def _(c: Catalog) -> httpx.Response:
    path = f"/evaluation-criteria/id/{c.criterion_id}/disable"
    return await c.call("patch_disable_criteria", path)


@operation("patch_enable_criteria")
async def _(c: Catalog) -> httpx.Response:
    path = f"/evaluation-criteria/id/{c.criterion_id}/enable"
    return await c.call("patch_enable_criteria", path)


@operation("patch_reorder_criteria")
async def _(c: Catalog) -> httpx.Response:
    path = f"/evaluation-criteria/id/{c.criterion_id}/reorder"
    return await c.call("patch_reorder_criteria", path, {"move_before_id": None})


@operation("get_list_criteria_versions")
async def _(c: Catalog) -> httpx.Response:
    path = f"/evaluation-criteria/id/{c.criterion_id}/versions"
    return await c.call("get_list_criteria_versions", path)


@operation("get_get_criteria_version")
async def _(c: Catalog) -> httpx.Response:
    path = f"/evaluation-criteria/id/{c.criterion_id}/versions/{c.criterion_version_id}"
    return await c.call("get_get_criteria_version", path)


@operation("delete_delete_criteria_version")
async def _(c: Catalog) -> httpx.Response:
    path = f"/evaluation-criteria/id/{c.criterion_id}/versions/{c.spare_version_id}"
    return await c.call("delete_delete_criteria_version", path)


@operation("post_deploy_criteria_version")
async def _(c: Catalog) -> httpx.Response:
    path = f"/evaluation-criteria/id/{c.criterion_id}/versions/{c.spare_version_id}/deploy"
    return await c.call("post_deploy_criteria_version", path)


def test_every_operation_of_these_tags_has_a_conformance_request() -> None:
    documented = {op.operation_id for op in operations(*TAGS)}
    assert documented, "the reference document lists no operation of these tags"
    assert documented - set(REQUESTS) == set(), "operations without a conformance request"
    assert set(REQUESTS) - documented == set(), "requests for operations not documented"


@pytest.mark.parametrize("operation_id", sorted(REQUESTS))
async def test_operation_answers_as_documented(catalog: Catalog, operation_id: str) -> None:
    response = await REQUESTS[operation_id](catalog)
    assert_conforms(operation_id, response)
