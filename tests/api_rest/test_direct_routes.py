"""The busiest routes called directly (app/api/direct_routes.py): status, headers and body as
the app gives them through FastAPI, whatever the request; what they do not serve themselves
reaches the app with its body intact."""

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import orjson
import pytest

from app import fast_paths
from app.db.engine import Database
from app.domain import keys, projects
from app.main import create_app
from app.settings import Settings
from tests.support import Api, asgi_client, completion_example

PROJECT = "query($id: ID!) { project(id: $id) { id name } }"
# Headers that differ between any two answers.
VARYING = {"x-request-id", "date", "content-length"}


@pytest.fixture
async def apps(settings: Settings, db: Database) -> AsyncIterator[tuple[Api, Api]]:
    """The same project and key on an app with the direct routes and one without them."""
    project = await projects.create_project(db, "Direct")
    _, key = await keys.create_key(db, admin=False, project_ids=[project.id])
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                asgi_client(create_app(settings.model_copy(update={"fast_routes": fast})))
            )
            for fast in (True, False)
        ]
        fast_api, plain_api = (Api(client, key, project.id) for client in clients)
        await fast_api.dataset_with_cases("qa", [completion_example(i) for i in range(3)])
        yield fast_api, plain_api


async def both(
    apps: tuple[Api, Api], method: str, path: str, **kwargs: Any
) -> tuple[httpx.Response, httpx.Response, int]:
    """The answer of each app to the same request, and how many the direct routes served."""
    extra = kwargs.pop("headers", {})
    answers, served = [], []
    for api in apps:
        url = path if path.startswith("/graphql") else api.url(path)
        before = fast_paths.used[fast_paths.DIRECT_ROUTE]
        headers = {**api.headers, **extra}
        answers.append(await api.client.request(method, url, headers=headers, **kwargs))
        served.append(fast_paths.used[fast_paths.DIRECT_ROUTE] - before)
    assert served[1] == 0  # the app without them
    return answers[0], answers[1], served[0]


def same(fast: httpx.Response, plain: httpx.Response, *, ids: bool = True) -> None:
    assert fast.status_code == plain.status_code, (fast.text, plain.text)
    shown = {k: v for k, v in fast.headers.items() if k not in VARYING}
    assert shown == {k: v for k, v in plain.headers.items() if k not in VARYING}
    assert fast.headers["x-request-id"]
    if ids:
        assert fast.json() == plain.json()


def without_ids(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("test_run_id", "test_run_name")}


async def test_creating_listing_and_graphql_answer_as_the_app_does(apps: tuple[Api, Api]) -> None:
    request = {"dataset_name": "qa", "include_outputs": True, "test_run_name": "same"}
    fast, plain, served = await both(apps, "POST", "/test-runs", json=request)
    same(fast, plain, ids=False)
    assert fast.status_code == 201
    assert without_ids(fast.json()) == without_ids(plain.json())
    assert served == 1

    for params in ({}, {"page_size": "1"}, {"page": "2", "page_size": "1"}, {"status": "created"}):
        fast, plain, served = await both(apps, "GET", "/test-runs", params=params)
        same(fast, plain)
        assert served == 1
    assert fast.json()["total"] == 2

    project = {"query": PROJECT, "variables": {"id": apps[0].project_id}}
    fast, plain, served = await both(apps, "POST", "/graphql", json=project)
    same(fast, plain)
    assert fast.json() == {"data": {"project": {"id": apps[0].project_id, "name": "Direct"}}}
    assert served == 1


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("POST", "/test-runs", {"json": {"dataset_name": "missing"}}, 404),
        (
            "POST",
            "/test-runs",
            {"json": {"dataset_name": "qa"}, "headers": {"Authorization": "Bearer no"}},
            401,
        ),
        ("GET", "/test-runs", {"headers": {"Authorization": "Basic x"}}, 401),
        ("POST", "/graphql", {"json": {"query": PROJECT}, "headers": {"Authorization": ""}}, 401),
        ("POST", "/graphql", {"json": {"query": "{ nope }"}}, 200),
        (
            "POST",
            "/graphql",
            {
                "json": {"query": "{ nope }"},
                "headers": {"Accept": "application/graphql-response+json"},
            },
            400,
        ),
    ],
)
async def test_errors_they_meet_are_the_apps_own(
    apps: tuple[Api, Api], method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    fast, plain, served = await both(apps, method, path, **kwargs)
    same(fast, plain)
    assert fast.status_code == status
    assert served == 1


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("POST", "/test-runs", {"json": {"dataset_name": 5}}, 422),
        (
            "POST",
            "/test-runs",
            {"content": b'{"dataset_name": "qa"', "headers": {"Content-Type": "application/json"}},
            400,
        ),
        (
            "POST",
            "/test-runs",
            {"content": b"dataset_name=qa", "headers": {"Content-Type": "text/plain"}},
            415,
        ),
        ("POST", "/test-runs?x=1", {"json": {"dataset_name": "qa", "test_run_name": "q"}}, 201),
        ("GET", "/test-runs", {"params": {"page": "0"}}, 422),
        ("GET", "/test-runs", {"params": {"page_size": "+2"}}, 200),
        ("GET", "/test-runs", {"params": {"status": "sleeping"}}, 422),
        ("GET", "/test-runs", {"params": [("page", "1"), ("page", "2")]}, 200),
        ("GET", "/test-runs", {"params": {"sort": "name"}}, 200),
    ],
)
async def test_what_they_do_not_serve_reaches_the_app_whole(
    apps: tuple[Api, Api], method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    fast, plain, served = await both(apps, method, path, **kwargs)
    same(fast, plain, ids=status != 201)
    assert fast.status_code == status
    assert served == 0


async def test_an_idempotency_key_is_honoured(apps: tuple[Api, Api]) -> None:
    fast_api = apps[0]
    headers = {"Idempotency-Key": "once"}
    first = await fast_api.post("/test-runs", {"dataset_name": "qa"}, headers=headers)
    again = await fast_api.post("/test-runs", {"dataset_name": "qa"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["test_run_id"] == again.json()["test_run_id"]


async def test_a_body_over_the_limit_is_413_on_a_direct_route(
    settings: Settings, db: Database
) -> None:
    project = await projects.create_project(db, "Small")
    _, key = await keys.create_key(db, admin=False, project_ids=[project.id])
    application = create_app(settings.model_copy(update={"max_body_bytes": 100}))

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"dataset_name": "'
        yield b"x" * 200
        yield b'"}'

    async with asgi_client(application) as client:
        response = await client.post(
            f"/api/v2/projects/{project.id}/test-runs",
            content=chunks(),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


async def test_the_access_log_names_the_route(
    apps: tuple[Api, Api], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="testruns.access"):
        await apps[0].get("/test-runs")
        await apps[0].graphql(PROJECT, {"id": apps[0].project_id})
    routes = [orjson.loads(r.getMessage())["route"] for r in caplog.records]
    assert routes == ["/api/v2/projects/{project_id}/test-runs", "/graphql"]
    assert orjson.loads(caplog.records[0].getMessage())["project"] == apps[0].project_id
