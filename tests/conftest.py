"""Fixtures shared by the whole suite.

Every test that touches data gets a fresh, migrated database of each configured backend:
SQLite always, PostgreSQL when ``TESTRUNS_TEST_POSTGRES_URL`` names a server we may create
databases on (``scripts/test`` starts one). A test is written once and runs on both.
"""

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.db import migrate
from app.db.engine import Database
from app.domain import keys, projects
from app.main import create_app
from app.settings import Settings
from tests.support import (
    Api,
    create_postgres_database,
    drop_postgres_database,
    reset_postgres,
)

POSTGRES_URL = os.environ.get("TESTRUNS_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "testruns.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_migrated() -> str:
    assert POSTGRES_URL
    reset_postgres(POSTGRES_URL, drop_schema=True)
    migrate.upgrade(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "testruns.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_migrated")
        reset_postgres(url)
        yield url


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all, for migration tests."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    assert POSTGRES_URL
    name = f"testruns_empty_{os.getpid()}"
    yield create_postgres_database(POSTGRES_URL, name)
    drop_postgres_database(POSTGRES_URL, name)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path / "data")


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    """Direct domain access, for arranging what only the command line can create."""
    database = Database(settings)
    yield database
    await database.dispose()


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    yield application
    await application.state.db.dispose()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def api(client: httpx.AsyncClient, db: Database) -> Api:
    """A project and a key scoped to it, as `testruns projects create` / `keys create` make."""
    project = await projects.create_project(db, "Test project")
    _, key = await keys.create_key(db, admin=False, project_ids=[project.id])
    return Api(client, key, project.id)


@pytest.fixture
async def other_api(client: httpx.AsyncClient, db: Database) -> Api:
    """A second project with its own key: it must never see the first one's data."""
    project = await projects.create_project(db, "Other project")
    _, key = await keys.create_key(db, admin=False, project_ids=[project.id])
    return Api(client, key, project.id)


# Test tiers, by folder: `scripts/test --quick` runs unit and api tests on SQLite only.
TIERS = {
    "domain": "unit",
    "unit": "unit",
    "api_rest": "api",
    "api_graphql": "api",
    "api_web": "api",
    "db": "api",
    "e2e": "e2e",
    # Runs the server executes, against a real HTTP server speaking the OpenAI API.
    "runner": "e2e",
    "browser": "browser",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    tests_dir = Path(__file__).parent
    for item in items:
        folder = Path(item.path).relative_to(tests_dir).parts[0]
        item.add_marker(TIERS[folder])
