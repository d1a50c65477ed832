"""Cross-origin access: a frontend served from another origin (a Vite dev server, a team's own
app) may call /graphql and the REST routes only when its origin is in TESTRUNS_CORS_ORIGINS."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import httpx
import pytest

from app.main import create_app
from app.settings import Settings
from tests.support import Api, asgi_client

FRONTEND = "http://localhost:5173"
STRANGER = "https://evil.example"


@pytest.fixture
async def app_client(
    settings: Settings,
) -> AsyncIterator[Callable[..., Awaitable[httpx.AsyncClient]]]:
    """Clients of apps whose settings differ from the test's in the given ways."""
    async with AsyncExitStack() as stack:

        async def make(**overrides: object) -> httpx.AsyncClient:
            app = create_app(settings.model_copy(update=overrides))
            return await stack.enter_async_context(asgi_client(app))

        yield make


def preflight(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type",
    }


def allowed_headers(response: httpx.Response) -> set[str]:
    value = response.headers.get("access-control-allow-headers", "")
    return {h.strip().lower() for h in value.split(",")}


async def test_an_allowed_origin_may_send_a_key_to_graphql_and_rest(
    app_client: Callable[..., Awaitable[httpx.AsyncClient]], api: Api
) -> None:
    client = await app_client(cors_origins=(FRONTEND, "https://app.example.com"))

    for path in ("/graphql", api.url("/test-runs")):
        answer = await client.options(path, headers=preflight(FRONTEND))  # no key

        assert answer.status_code == 200, path
        assert answer.headers["access-control-allow-origin"] == FRONTEND
        assert "POST" in answer.headers["access-control-allow-methods"]
        assert {"authorization", "content-type"} <= allowed_headers(answer)
        assert "access-control-allow-credentials" not in answer.headers


async def test_the_actual_request_of_an_allowed_origin_is_readable_by_its_page(
    app_client: Callable[..., Awaitable[httpx.AsyncClient]], api: Api
) -> None:
    client = await app_client(cors_origins=(FRONTEND,))
    headers = {**api.headers, "Origin": FRONTEND}

    graphql = await client.post("/graphql", json={"query": "{ projects { id } }"}, headers=headers)
    rest = await client.get(api.url("/test-runs"), headers=headers)

    for answer in (graphql, rest):
        assert answer.status_code == 200
        assert answer.headers["access-control-allow-origin"] == FRONTEND
        assert "x-request-id" in answer.headers["access-control-expose-headers"].lower()
    assert graphql.json()["data"]["projects"] == [{"id": api.project_id}]


async def test_errors_of_the_outermost_middleware_carry_the_grant_too(
    app_client: Callable[..., Awaitable[httpx.AsyncClient]], api: Api
) -> None:
    client = await app_client(cors_origins=(FRONTEND,), max_body_bytes=100)

    answer = await client.post(
        "/graphql",
        json={"query": "{ projects { id } }" + " " * 200},
        headers={**api.headers, "Origin": FRONTEND},
    )

    assert answer.status_code == 413
    assert answer.headers["access-control-allow-origin"] == FRONTEND


async def test_another_origin_gets_no_grant(
    app_client: Callable[..., Awaitable[httpx.AsyncClient]], api: Api
) -> None:
    client = await app_client(cors_origins=(FRONTEND,))

    refused = await client.options("/graphql", headers=preflight(STRANGER))
    answered = await client.post(
        "/graphql",
        json={"query": "{ projects { id } }"},
        headers={**api.headers, "Origin": STRANGER},
    )

    assert refused.status_code >= 400
    assert "access-control-allow-origin" not in refused.headers
    assert "access-control-allow-origin" not in answered.headers


async def test_by_default_no_origin_gets_a_grant(client: httpx.AsyncClient, api: Api) -> None:
    for path in ("/graphql", api.url("/test-runs")):
        refused = await client.options(path, headers=preflight(FRONTEND))

        assert refused.status_code >= 400
        assert "access-control-allow-origin" not in refused.headers
    answered = await client.get(api.url("/test-runs"), headers={**api.headers, "Origin": FRONTEND})
    assert answered.status_code == 200
    assert "access-control-allow-origin" not in answered.headers


def test_the_setting_is_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TESTRUNS_CORS_ORIGINS", "http://localhost:5173, https://app.example.com/")

    assert Settings().cors_origins == ("http://localhost:5173", "https://app.example.com")
    monkeypatch.setenv("TESTRUNS_CORS_ORIGINS", "")
    assert Settings().cors_origins == ()
