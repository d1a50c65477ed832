"""The pages a browser opens: the console at ``/``, GraphiQL (the page of ``GET /graphql``),
Swagger UI at ``/docs`` and Redoc at ``/redoc``.

Every script and stylesheet they load is served by the app itself, so they work without
internet access: the console's own files (plain JavaScript modules, no build step) from
``app/web/static``; third-party ones from ``app/web/vendor``, which ``scripts/web-assets``
(also run by ``scripts/run`` and ``scripts/test``) fills from ``web/package-lock.json``.
Without those the API still works and the pages say how to build them. No page or file
here needs an API key.
"""

import contextlib
import html
import json
from pathlib import Path

import orjson
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.staticfiles import StaticFiles

from app import demo
from app.api.auth import database, settings
from app.domain import projects
from app.domain.errors import ServiceError
from app.domain.keys import OPERATOR

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
STATIC_DIR = WEB_DIR / "static"
VENDOR_DIR = WEB_DIR / "vendor"
FAVICON = "/static/favicon.svg"
GRAPHIQL_PAGE = (WEB_DIR / "graphiql.html").read_text()

GRAPHIQL_FILES = (
    "react/react.production.min.js",
    "react-dom/react-dom.production.min.js",
    "graphiql/graphiql.min.js",
    "graphiql/graphiql.min.css",
    "@graphiql/plugin-explorer/index.umd.js",
    "@graphiql/plugin-explorer/style.css",
)
SWAGGER_JS = "swagger-ui-dist/swagger-ui-bundle.js"
SWAGGER_CSS = "swagger-ui-dist/swagger-ui.css"
REDOC_JS = "redoc/redoc.standalone.js"

# The README's example operations: GraphiQL opens with one tab for each.
CREATE_TEST_RUN = """mutation CreateTestRun {
  createTestRun(input: {projectId: "PROJECT_ID", datasetName: "support-replies"}) {
    testRun {
      id
      name
      testCases(first: 3) {
        edges { node {
          __typename
          ... on CompletionTestCase { id values }
          ... on TraceTestCase { id input }
        } }
      }
    }
  }
}
"""
PROJECT_DATASETS = """query ProjectDatasets {
  project(id: "PROJECT_ID") {
    name
    datasets(first: 10) {
      totalCount
      edges { node { id name testCaseType testCaseCount version } }
    }
  }
}
"""
NO_KEY_HINT = """# Put your API key in the Headers editor below:
#   {"Authorization": "Bearer <api key>"}
# then reload the schema (the circular arrow on the left) and replace PROJECT_ID with
# one of your projects: query { projects { id name } }

"""

router = APIRouter(include_in_schema=False)


class _AssetFiles(StaticFiles):
    """Static files whose folder may not exist yet: until it is built, every file is 404."""

    async def check_config(self) -> None:
        with contextlib.suppress(RuntimeError):  # the folder is missing
            await super().check_config()


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount("/vendor", _AssetFiles(directory=VENDOR_DIR, check_dir=False), name="vendor")


def _not_built(page: str, files: tuple[str, ...]) -> HTMLResponse | None:
    """A page saying how to build the missing assets, or None when they are all there."""
    if all((VENDOR_DIR / name).is_file() for name in files):
        return None
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(page)}: assets not built</title>
<link rel="icon" href="{FAVICON}"></head>
<body style="font-family: system-ui, sans-serif; max-width: 44rem; margin: 3rem auto">
<h1>{html.escape(page)} is not available yet</h1>
<p>The files this page loads are served by testrun-gateway itself (so it works offline), and
they have not been built on this machine. Build them with <code>scripts/web-assets</code>
(<code>scripts/run</code> does it too): it installs them with npm from
<code>web/package-lock.json</code> into <code>app/web/vendor/</code>.</p>
<p>The REST and GraphQL APIs work without them, and so does the <a href="/">console</a>.</p>
</body></html>"""
    return HTMLResponse(body, status_code=503)


@router.get("/")
async def console() -> FileResponse:
    """The console: a small frontend over the public GraphQL API."""
    return FileResponse(STATIC_DIR / "index.html")


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    missing = _not_built("Swagger UI", (SWAGGER_JS, SWAGGER_CSS))
    if missing:
        return missing
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} - REST API",
        swagger_js_url=f"/vendor/{SWAGGER_JS}",
        swagger_css_url=f"/vendor/{SWAGGER_CSS}",
        swagger_favicon_url=FAVICON,
    )


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    missing = _not_built("Redoc", (REDOC_JS,))
    if missing:
        return missing
    return get_redoc_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} - REST API",
        redoc_js_url=f"/vendor/{REDOC_JS}",
        redoc_favicon_url=FAVICON,
        with_google_fonts=False,
    )


async def _demo_for_ide(request: Request) -> demo.Demo | None:
    """The demo project and key, when the server runs on the demo data and it still exists."""
    saved = demo.saved_demo(await settings(request))
    if saved is None:
        return None
    try:
        await projects.get_project(await database(request), OPERATOR, saved.project_id)
    except (ServiceError, SQLAlchemyError):
        return None
    return saved


async def graphiql_page(request: Request) -> HTMLResponse:
    """GraphiQL, loading its files from the app, with the README's operations as tabs."""
    missing = _not_built("GraphiQL", GRAPHIQL_FILES)
    if missing:
        return missing
    found = await _demo_for_ide(request)
    if found is None:
        headers, project_id, hint = "", "PROJECT_ID", NO_KEY_HINT
    else:
        headers = json.dumps({"Authorization": f"Bearer {found.api_key}"})
        project_id, hint = found.project_id, ""
    tabs = [
        {"query": hint + operation.replace('"PROJECT_ID"', json.dumps(project_id))}
        for operation in (CREATE_TEST_RUN, PROJECT_DATASETS)
    ]
    config = {"url": str(request.url.path), "headers": headers, "tabs": tabs}
    # Inside <script>, only "<" could end the element early; JSON may escape it.
    script_safe = orjson.dumps(config).decode().replace("<", "\\u003c")
    page = GRAPHIQL_PAGE.replace("{{ config }}", script_safe)
    # It may hold the demo key: not for caches.
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})
