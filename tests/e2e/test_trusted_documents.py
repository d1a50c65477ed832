"""Trusted documents: `testruns graphql register DIR` registers a folder of .graphql files
and prints the hash of each; a server with TESTRUNS_GRAPHQL_TRUSTED_DOCUMENTS_ONLY=true runs
those and nothing else, and Apollo Client's persisted-query link sends exactly those hashes."""

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import httpx
from graphql import parse, print_ast

from app.main import create_app
from app.settings import Settings
from tests.e2e.test_cli import run_cli
from tests.support import Api, asgi_client, run_node

PROJECTS = """
# The projects the key may see.
query Projects {
    projects { id
      name }
}
"""
DATASETS = """
query ProjectDatasets($id: ID!) {
  project(id: $id) { __typename name datasets(first: 10) { __typename totalCount } }
}
"""


def printed_hash(text: str) -> str:
    return hashlib.sha256(print_ast(parse(text)).encode()).hexdigest()


def documents(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


async def run_by_hash(settings: Settings, api: Api, sha256: str) -> httpx.Response:
    app = create_app(settings.model_copy(update={"graphql_trusted_documents_only": True}))
    async with asgi_client(app) as client:
        return await client.post(
            "/graphql",
            json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256}}},
            headers=api.headers,
        )


async def test_register_prints_each_file_and_its_hash_and_those_run(
    tmp_path: Path, database_url: str, settings: Settings, api: Api
) -> None:
    folder = documents(
        tmp_path / "graphql",
        {"projects.graphql": PROJECTS, "console/datasets.graphql": DATASETS, "notes.txt": "x"},
    )

    output = run_cli("graphql", "register", str(folder), cwd=tmp_path, database_url=database_url)

    assert output.splitlines() == [
        f"console/datasets.graphql  {printed_hash(DATASETS)}",
        f"projects.graphql  {printed_hash(PROJECTS)}",
    ]
    response = await run_by_hash(settings, api, printed_hash(PROJECTS))
    assert response.json() == {
        "data": {"projects": [{"id": api.project_id, "name": "Test project"}]}
    }


async def test_a_folder_with_an_invalid_document_registers_nothing(
    tmp_path: Path, database_url: str, settings: Settings, api: Api
) -> None:
    folder = documents(
        tmp_path / "graphql",
        {"a.graphql": PROJECTS, "b.graphql": "query Broken { projects { nope } }"},
    )

    output = run_cli(
        "graphql", "register", str(folder), cwd=tmp_path, database_url=database_url, check=False
    )

    assert "b.graphql" in output
    assert "nope" in output
    response = await run_by_hash(settings, api, printed_hash(PROJECTS))
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"


def test_apollo_runs_a_registered_document_by_its_hash_at_once(
    tmp_path: Path, database_url: str, live_url_factory: Callable[..., str], api: Api
) -> None:
    folder = documents(tmp_path / "graphql", {"datasets.graphql": DATASETS})
    run_cli("graphql", "register", str(folder), cwd=tmp_path, database_url=database_url)
    url = live_url_factory(graphql_trusted_documents_only=True)

    report = run_node(
        "apollo-trusted-documents.mjs",
        f"{url}/graphql",
        api.key,
        str(folder / "datasets.graphql"),
        json.dumps({"id": api.project_id}),
    )

    assert report["requests"] == [
        {"method": "GET", "status": 200, "withText": False, "hash": printed_hash(DATASETS)}
    ]
    assert report["data"]["project"]["datasets"]["totalCount"] == 0
