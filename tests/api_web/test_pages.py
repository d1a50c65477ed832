"""The browser pages over HTTP: GraphiQL, Swagger UI and Redoc load every file from the app,
need no key, and say how to build their files when those are missing."""

import json
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.api import web
from app.db.engine import Database
from app.demo import ensure_demo
from app.main import create_app
from app.settings import Settings
from tests.support import Api, asgi_client

HTML = {"Accept": "text/html"}


@pytest.fixture(autouse=True)
def _built_assets() -> None:
    if not (web.VENDOR_DIR / "graphiql" / "graphiql.min.js").is_file():
        pytest.fail("the browser assets are not built: run scripts/web-assets (or scripts/test)")


def asset_urls(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', page) + re.findall(r"url: '([^']+)'", page)


def graphiql_config(page: str) -> dict[str, Any]:
    found = re.search(r'<script id="graphiql-config" type="application/json">(.*?)</script>', page)
    assert found, page
    return json.loads(found.group(1))


async def assert_served_without_a_key(client: httpx.AsyncClient, page: str) -> None:
    urls = asset_urls(page)
    assert urls
    for url in urls:
        assert url.startswith("/"), f"{url} is not served by the app"
        response = await client.get(url)
        assert response.status_code == 200, url


async def test_graphiql_loads_from_the_app_with_the_demo_key_and_readme_tabs(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    demo = await ensure_demo(db, settings)

    response = await client.get("/graphql", headers=HTML)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    await assert_served_without_a_key(client, response.text)
    config = graphiql_config(response.text)
    assert json.loads(config["headers"]) == {"Authorization": f"Bearer {demo.api_key}"}
    create, datasets = (tab["query"] for tab in config["tabs"])
    assert create.startswith("mutation CreateTestRun {")
    assert f'projectId: "{demo.project_id}"' in create
    assert "... on CompletionTestCase" in create
    assert "... on TraceTestCase" in create
    assert f'project(id: "{demo.project_id}")' in datasets


async def test_graphiql_tabs_run_as_they_are_with_the_demo_key(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    await ensure_demo(db, settings)
    config = graphiql_config((await client.get("/graphql", headers=HTML)).text)

    for tab in config["tabs"]:
        response = await client.post(
            "/graphql", json={"query": tab["query"]}, headers=json.loads(config["headers"])
        )
        assert response.status_code == 200
        assert "errors" not in response.json(), response.json()


async def test_graphiql_without_the_demo_has_no_key_and_says_where_it_goes(
    client: httpx.AsyncClient,
) -> None:
    config = graphiql_config((await client.get("/graphql", headers=HTML)).text)

    assert config["headers"] == ""
    assert all('"PROJECT_ID"' in tab["query"] for tab in config["tabs"])
    assert '{"Authorization": "Bearer <api key>"}' in config["tabs"][0]["query"]


async def test_graphiql_ignores_a_demo_file_whose_project_is_gone(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    settings.demo_file.parent.mkdir(parents=True, exist_ok=True)
    settings.demo_file.write_text(
        json.dumps({"project_id": str(uuid.uuid4()), "api_key": "trk_gone"})
    )

    config = graphiql_config((await client.get("/graphql", headers=HTML)).text)

    assert config["headers"] == ""


async def test_graphiql_page_cannot_be_broken_out_of_by_the_demo_file(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    demo = await ensure_demo(db, settings)
    saved = json.loads(settings.demo_file.read_text())
    settings.demo_file.write_text(
        json.dumps({**saved, "api_key": f"{demo.api_key}</script><script>alert(1)"})
    )

    page = (await client.get("/graphql", headers=HTML)).text

    assert "<script>alert(1)" not in page
    assert graphiql_config(page)["headers"].endswith('alert(1)"}')


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_api_docs_load_from_the_app_without_a_key(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)

    assert response.status_code == 200
    await assert_served_without_a_key(client, response.text)
    assert (await client.get("/openapi.json")).status_code == 200


async def test_openapi_lists_rest_routes_only(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]

    assert "/api/v2/projects/{project_id}/test-runs" in paths
    assert "/graphql" not in paths
    assert not {"/docs", "/redoc"} & set(paths)


async def test_pages_say_how_to_build_missing_assets_and_the_api_still_works(
    settings: Settings, api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web, "VENDOR_DIR", tmp_path / "not-built")
    async with asgi_client(create_app(settings)) as client:
        for path in ("/graphql", "/docs", "/redoc"):
            page = await client.get(path, headers=HTML)
            assert page.status_code == 503, path
            assert page.headers["content-type"].startswith("text/html")
            assert "scripts/web-assets" in page.text
        assert (await client.get("/vendor/graphiql/graphiql.min.js")).status_code == 404
        answer = await client.post(
            "/graphql", json={"query": "{ projects { id } }"}, headers=api.headers
        )

    assert answer.json() == {"data": {"projects": [{"id": api.project_id}]}}


def test_graphiql_tabs_are_the_readme_examples() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()

    for operation in (web.CREATE_TEST_RUN, web.PROJECT_DATASETS):
        assert f"```graphql\n{operation}```" in readme
