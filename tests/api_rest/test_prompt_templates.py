"""Prompt templates over REST: versions, environments, rendering, validation and scoping."""

from typing import Any

import httpx

from app.db.engine import Database
from app.domain import keys
from tests.support import Api, assert_problem

MESSAGES = [
    {"role": "system", "content": "You answer {{customer}}'s questions about {{product}}."},
    {"kind": "history"},
    {"role": "user", "content": "{{question}}"},
]


def version(**changes: Any) -> dict[str, Any]:
    return {
        "template_messages": MESSAGES,
        "model": "gpt-4o-mini",
        "provider": "openai",
        "llm_parameters": {"temperature": 0.2},
        **changes,
    }


async def new_template(api: Api, name: str = "support") -> str:
    response = await api.post("/prompt-templates", {"name": name})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def add_version(api: Api, template_id: str, **changes: Any) -> dict[str, Any]:
    response = await api.post(f"/prompt-templates/id/{template_id}/versions", version(**changes))
    assert response.status_code == 201, response.text
    return response.json()


async def by_name(api: Api, name: str, environment: str | None = None) -> httpx.Response:
    params = {} if environment is None else {"environment": environment}
    return await api.get(f"/prompt-templates/name/{name}", params=params)


async def test_versions_are_numbered_and_latest_is_the_newest(api: Api) -> None:
    template_id = await new_template(api)
    info = (await api.get(f"/prompt-templates/id/{template_id}")).json()
    assert info == {"id": template_id, "name": "support", "latest_template_version_id": None}

    first = await add_version(api, template_id, version_name="v1")
    second = await add_version(
        api, template_id, version_name="v2", llm_parameters={"temperature": 0}
    )

    assert (first["version_number"], second["version_number"]) == (1, 2)
    assert first["content"] == MESSAGES
    assert first["metadata"]["params"] == {"temperature": 0.2}
    assert second["environments"] == ["latest"]
    info = (await api.get(f"/prompt-templates/id/{template_id}")).json()
    assert info["latest_template_version_id"] == second["prompt_template_version_id"]
    latest = (await by_name(api, "support")).json()
    assert latest["prompt_template_version_id"] == second["prompt_template_version_id"]
    listed = (await api.get(f"/prompt-templates/id/{template_id}/versions")).json()
    assert [v["version_name"] for v in listed["data"]] == ["v2", "v1"]
    assert listed["pagination"] == {"page": 1, "page_size": 30, "has_next": False}
    older = await api.get(
        f"/prompt-templates/id/{template_id}/versions", params={"from_version": "1"}
    )
    assert [v["version_name"] for v in older.json()["data"]] == ["v1"]


async def test_deploying_to_environments(api: Api) -> None:
    template_id = await new_template(api)
    v1 = await add_version(api, template_id, version_name="v1", environments=["production"])
    v2 = await add_version(api, template_id, version_name="v2", environments=["staging"])
    v1_id, v2_id = v1["prompt_template_version_id"], v2["prompt_template_version_id"]

    assert (await by_name(api, "support", "production")).json()[
        "prompt_template_version_id"
    ] == v1_id
    assert (await by_name(api, "support", "staging")).json()["prompt_template_version_id"] == v2_id
    assert_problem(await by_name(api, "support", "canary"), 404, "not_found")

    response = await api.post(
        f"/prompt-templates/id/{template_id}/versions/{v2_id}/environments",
        {"environments": ["production", "canary"]},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {}

    for environment in ("production", "canary"):
        found = (await by_name(api, "support", environment)).json()
        assert found["prompt_template_version_id"] == v2_id
    assert_problem(await by_name(api, "support", "staging"), 404, "not_found")
    first = (await api.get(f"/prompt-templates/id/{template_id}/versions/{v1_id}")).json()
    assert first["environments"] == []
    everything = (await api.get("/prompt-templates/all/production")).json()
    assert [t["prompt_template_version_id"] for t in everything["prompt_templates"]] == [v2_id]


async def test_latest_cannot_be_moved_to_an_older_version(api: Api) -> None:
    template_id = await new_template(api)
    v1 = await add_version(api, template_id, version_name="v1")
    await add_version(api, template_id, version_name="v2")
    response = await api.post(
        f"/prompt-templates/id/{template_id}/versions/{v1['prompt_template_version_id']}/environments",
        {"environments": ["latest"]},
    )
    assert_problem(response, 422, "invalid_input")


async def test_uploading_an_identical_version_reuses_it(api: Api) -> None:
    template_id = await new_template(api)
    first = await add_version(api, template_id, environments=["production"])

    again = await add_version(api, template_id, environments=["production", "staging"])
    by_name_upload = await api.post("/prompt-templates/name/support/versions", version())

    assert again["prompt_template_version_id"] == first["prompt_template_version_id"]
    assert (
        by_name_upload.json()["prompt_template_version_id"] == first["prompt_template_version_id"]
    )
    assert again["environments"] == ["latest", "production", "staging"]
    listed = (await api.get(f"/prompt-templates/id/{template_id}/versions")).json()
    assert len(listed["data"]) == 1
    changed = await add_version(api, template_id, model="gpt-4o", environments=["production"])
    assert changed["version_number"] == 2


async def test_creating_a_version_by_name_makes_the_template_only_when_asked(api: Api) -> None:
    response = await api.post("/prompt-templates/name/fresh/versions", version())
    assert_problem(response, 404, "not_found")
    assert (await api.get("/prompt-templates")).json()["data"] == []

    response = await api.post(
        "/prompt-templates/name/fresh/versions",
        version(),
        params={"create_template_if_not_exists": "true"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["prompt_template_name"] == "fresh"


async def test_bound_templates_fill_in_variables_or_name_the_missing_ones(api: Api) -> None:
    template_id = await new_template(api)
    v = await add_version(api, template_id)
    path = f"/prompt-templates/id/{template_id}/versions/{v['prompt_template_version_id']}"

    response = await api.post(path, {"customer": "Ada", "product": "Nimbus", "question": "Why?"})

    assert response.status_code == 200, response.text
    assert response.json()["messages"] == [
        {"role": "system", "content": "You answer Ada's questions about Nimbus."},
        {"role": "user", "content": "Why?"},
    ]
    response = await api.post("/prompt-templates/name/support", {"customer": "Ada"})
    body = assert_problem(response, 422, "missing_variables")
    assert "product, question" in body["detail"]
    assert [e["loc"] for e in body["errors"]] == [
        ["variables", "product"],
        ["variables", "question"],
    ]


async def test_invalid_versions_are_refused_and_nothing_is_written(api: Api) -> None:
    template_id = await new_template(api)
    bad_bodies = {
        ("template_messages", 0, "role"): version(
            template_messages=[{"role": "robot", "content": "x"}]
        ),
        ("template_messages", 1): version(
            template_messages=[{"kind": "history"}, {"kind": "history"}]
        ),
        ("template_messages", 0, "content"): version(
            template_messages=[{"role": "user", "content": "{{> secrets}}"}]
        ),
        ("template_messages",): version(template_messages=[]),
        ("environments", 0): version(environments=["no spaces allowed"]),
        ("tool_schema", 0): version(tool_schema=[{"name": "x"}]),
        ("model",): version(model=" "),
    }
    for loc, body in bad_bodies.items():
        response = await api.post(f"/prompt-templates/id/{template_id}/versions", body)
        problem = assert_problem(response, 422, "invalid_input")
        assert problem["errors"][0]["loc"] == list(loc), problem

    info = (await api.get(f"/prompt-templates/id/{template_id}")).json()
    assert info["latest_template_version_id"] is None
    assert (await api.get(f"/prompt-templates/id/{template_id}/versions")).json()["data"] == []


async def test_names_are_unique_among_live_templates(api: Api) -> None:
    template_id = await new_template(api)
    assert_problem(await api.post("/prompt-templates", {"name": "support"}), 409, "conflict")
    other = await new_template(api, "other")
    response = await api.client.patch(
        api.url(f"/prompt-templates/id/{other}"), json={"name": "support"}, headers=api.headers
    )
    assert_problem(response, 409, "conflict")

    response = await api.client.delete(
        api.url(f"/prompt-templates/id/{template_id}"), headers=api.headers
    )
    assert response.status_code == 200

    assert_problem(await api.get(f"/prompt-templates/id/{template_id}"), 404, "not_found")
    assert await new_template(api, "support") != template_id


async def test_a_version_deployed_to_an_environment_is_kept(api: Api) -> None:
    template_id = await new_template(api)
    v1 = await add_version(api, template_id, version_name="v1", environments=["production"])
    v2 = await add_version(api, template_id, version_name="v2")
    path = f"/prompt-templates/id/{template_id}/versions/"

    response = await api.client.delete(
        api.url(path + v1["prompt_template_version_id"]), headers=api.headers
    )
    assert_problem(response, 409, "conflict")
    response = await api.client.delete(
        api.url(path + v2["prompt_template_version_id"]), headers=api.headers
    )
    assert response.status_code == 200
    # latest falls back to the newest version left
    latest = (await by_name(api, "support")).json()
    assert latest["prompt_template_version_id"] == v1["prompt_template_version_id"]


async def test_provider_info_comes_from_the_model_catalog(api: Api, db: Database) -> None:
    _, admin_key = await keys.create_key(db, admin=True, project_ids=[])
    model = {
        "id": "6f1c2b3a-8d4e-4f5a-9b6c-7d8e9f0a1b2c",
        "name": "gpt-4o-mini",
        "provider_name": "openai",
        "model_family": "gpt-4o",
        "model_version": "1",
        "provider_info": {"base_url": "http://127.0.0.1:9/v1", "api_key_env": "OPENAI_API_KEY"},
    }
    response = await api.client.post(
        "/api/v2/models", json=model, headers={"Authorization": f"Bearer {admin_key}"}
    )
    assert response.status_code == 200, response.text
    template_id = await new_template(api)

    known = await add_version(api, template_id)
    unknown = await add_version(api, template_id, model="local-llama")

    assert known["metadata"]["provider_info"] == model["provider_info"]
    assert unknown["metadata"]["provider_info"] is None


async def test_another_projects_key_sees_nothing(api: Api, other_api: Api) -> None:
    template_id = await new_template(api)
    v = await add_version(api, template_id, environments=["production"])
    version_id = v["prompt_template_version_id"]
    elsewhere = f"/api/v2/projects/{api.project_id}/prompt-templates"
    headers = other_api.headers

    for method, path, body in [
        ("GET", f"{elsewhere}", None),
        ("GET", f"{elsewhere}/id/{template_id}", None),
        ("GET", f"{elsewhere}/id/{template_id}/versions/{version_id}", None),
        ("GET", f"{elsewhere}/name/support", None),
        ("GET", f"{elsewhere}/all/production", None),
        ("POST", f"{elsewhere}/id/{template_id}/versions", version()),
        ("DELETE", f"{elsewhere}/id/{template_id}", None),
    ]:
        response = await api.client.request(method, path, json=body, headers=headers)
        assert_problem(response, 404, "not_found")
    # and its own project does not hold the template either
    own = await other_api.get(f"/prompt-templates/id/{template_id}")
    assert_problem(own, 404, "not_found")
