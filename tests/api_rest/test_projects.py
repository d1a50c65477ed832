"""Projects over REST: who may see, make, change and delete them."""

import uuid

import httpx

from app.db.engine import Database
from app.domain import keys
from tests.support import Api, assert_problem, completion_example


async def admin(client: httpx.AsyncClient, db: Database) -> dict[str, str]:
    _, key = await keys.create_key(db, admin=True, project_ids=[])
    return {"Authorization": f"Bearer {key}"}


async def test_only_admin_keys_make_or_delete_projects(api: Api) -> None:
    made = await api.client.post("/api/v2/projects", json={"name": "x"}, headers=api.headers)
    deleted = await api.client.delete(f"/api/v2/projects/{api.project_id}", headers=api.headers)

    assert_problem(made, 403, "forbidden")
    assert_problem(deleted, 403, "forbidden")
    assert (
        await api.client.get(f"/api/v2/projects/{api.project_id}", headers=api.headers)
    ).status_code == 200


async def test_a_project_made_by_an_admin_is_seen_by_admin_keys_only(
    api: Api, db: Database
) -> None:
    headers = await admin(api.client, db)

    made = await api.client.post("/api/v2/projects", json={"name": "  Team  "}, headers=headers)
    project_id = made.json()["id"]

    assert made.status_code == 201
    assert made.json()["name"] == "Team"
    assert_problem(
        await api.client.get(f"/api/v2/projects/{project_id}", headers=api.headers),
        404,
        "not_found",
    )
    listed = (await api.client.get("/api/v2/projects/all", headers=headers)).json()["projects"]
    assert {"id": project_id, "name": "Team"} in listed


async def test_a_taken_id_is_409_and_bad_settings_are_422(api: Api, db: Database) -> None:
    headers = await admin(api.client, db)
    post = api.client.post

    taken = await post(
        "/api/v2/projects", json={"name": "x", "id": api.project_id}, headers=headers
    )
    not_uuid = await post("/api/v2/projects", json={"name": "x", "id": "nope"}, headers=headers)
    negative = await post(
        "/api/v2/projects", json={"name": "x", "data_retention_days": -1}, headers=headers
    )
    huge = await api.client.put(
        f"/api/v2/projects/{api.project_id}",
        json={"data_retention_days": 2**40},
        headers=api.headers,
    )
    too_large = await api.client.put(
        f"/api/v2/projects/{api.project_id}",
        json={"freeplay_spend_limit_usd": 2**31},
        headers=api.headers,
    )
    blank = await api.client.put(
        f"/api/v2/projects/{api.project_id}", json={"name": " "}, headers=api.headers
    )

    assert_problem(taken, 409, "conflict")
    assert_problem(not_uuid, 422, "invalid_input")
    assert_problem(negative, 422, "invalid_input")
    assert_problem(huge, 422, "invalid_input")
    assert_problem(too_large, 422, "invalid_input")
    assert_problem(blank, 422, "invalid_input")
    listed = (await api.client.get("/api/v2/projects/all", headers=headers)).json()["projects"]
    assert [p["name"] for p in listed] == ["Test project"]


async def test_a_key_changes_only_projects_it_may_see(api: Api, other_api: Api) -> None:
    response = await api.client.put(
        f"/api/v2/projects/{other_api.project_id}", json={"name": "mine"}, headers=api.headers
    )

    assert_problem(response, 404, "not_found")
    theirs = await other_api.client.get(
        f"/api/v2/projects/{other_api.project_id}", headers=other_api.headers
    )
    assert theirs.json()["name"] == "Other project"


async def test_deleting_a_project_removes_everything_in_it(api: Api, db: Database) -> None:
    headers = await admin(api.client, db)
    await api.dataset_with_cases("qa", [completion_example(i) for i in range(3)])
    run = (await api.create_run("qa")).json()
    await api.post(
        f"/sessions/{uuid.uuid4()}/completions",
        {
            "messages": [{"role": "assistant", "content": "hi"}],
            "test_run_info": {
                "test_run_id": run["test_run_id"],
                "test_case_id": run["test_cases"][0]["id"],
            },
        },
    )

    deleted = await api.client.delete(f"/api/v2/projects/{api.project_id}", headers=headers)

    assert (deleted.status_code, deleted.json()) == (200, {})
    assert_problem(
        await api.client.get(f"/api/v2/projects/{api.project_id}", headers=headers),
        404,
        "not_found",
    )
    assert_problem(
        await api.client.get(
            f"/api/v2/projects/{api.project_id}/test-runs/id/{run['test_run_id']}", headers=headers
        ),
        404,
        "not_found",
    )
    assert (await api.client.get("/api/v2/projects/all", headers=headers)).json() == {
        "projects": []
    }
