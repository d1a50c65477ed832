"""Persisted queries (Apollo's protocol, extensions.persistedQuery.sha256Hash) over GET and
POST, the bound on what is remembered, and the trusted-documents mode."""

import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.db.engine import Database
from app.domain import persisted_queries
from app.main import create_app
from app.settings import Settings
from tests.support import Api, served_by

NEW = "application/graphql-response+json"
JSON = "application/json"
PROJECTS = "query Projects { projects { id } }"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(text: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(text)}}


async def by_hash(api: Api, text: str, accept: str = NEW, method: str = "POST") -> httpx.Response:
    headers = {**api.headers, "Accept": accept}
    if method == "GET":
        params = {"extensions": json.dumps(persisted(text))}
        return await api.client.get("/graphql", params=params, headers=headers)
    return await api.client.post("/graphql", json={"extensions": persisted(text)}, headers=headers)


async def with_text(
    api: Api, text: str, extensions: dict[str, Any] | None = None
) -> httpx.Response:
    return await api.client.post(
        "/graphql",
        json={"query": text, "extensions": extensions or persisted(text)},
        headers={**api.headers, "Accept": NEW},
    )


def code(response: httpx.Response) -> str:
    return response.json()["errors"][0]["extensions"]["code"]


@pytest.fixture
async def app_api(api: Api, settings: Settings) -> AsyncIterator[Callable[..., Awaitable[Api]]]:
    """The same project and key on apps whose settings differ in the given ways."""
    async with AsyncExitStack() as stack:

        async def make(**overrides: object) -> Api:
            app = create_app(settings.model_copy(update=overrides))
            return await stack.enter_async_context(served_by(app, api))

        yield make


async def test_an_unknown_hash_is_persisted_query_not_found(api: Api) -> None:
    new = await by_hash(api, PROJECTS, NEW)
    old = await by_hash(api, PROJECTS, JSON, method="GET")

    for response in (new, old):
        assert response.status_code == 404
        [error] = response.json()["errors"]
        assert error == {
            "message": "PersistedQueryNotFound",
            "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
        }
    assert "data" not in new.json()
    assert old.json()["data"] is None


async def test_after_hash_and_text_the_hash_alone_runs_over_get_and_post(api: Api) -> None:
    first = await with_text(api, PROJECTS)

    assert first.status_code == 200
    assert first.json() == {"data": {"projects": [{"id": api.project_id}]}}
    for method in ("GET", "POST"):
        response = await by_hash(api, PROJECTS, method=method)
        assert response.status_code == 200, response.text
        assert response.json() == first.json()


async def test_a_hash_that_does_not_match_the_text_is_refused_and_nothing_is_kept(
    api: Api,
) -> None:
    response = await with_text(api, PROJECTS, persisted("{ __typename }"))

    assert response.status_code == 400
    assert code(response) == "PERSISTED_QUERY_HASH_MISMATCH"
    assert code(await by_hash(api, "{ __typename }")) == "PERSISTED_QUERY_NOT_FOUND"
    assert code(await by_hash(api, PROJECTS)) == "PERSISTED_QUERY_NOT_FOUND"


async def test_a_document_that_does_not_validate_is_not_kept(api: Api) -> None:
    invalid = "{ noSuchField }"

    response = await with_text(api, invalid)

    assert response.status_code == 400
    assert code(response) == "GRAPHQL_VALIDATION_FAILED"
    assert code(await by_hash(api, invalid)) == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize(
    "extension",
    [
        {"sha256Hash": "abc"},
        {"version": 2, "sha256Hash": "a" * 64},
        {"version": 1, "sha256Hash": 5},
        "a string",
    ],
)
async def test_a_malformed_persisted_query_extension_is_400(api: Api, extension: Any) -> None:
    response = await api.client.post(
        "/graphql",
        json={"query": PROJECTS, "extensions": {"persistedQuery": extension}},
        headers={**api.headers, "Accept": NEW},
    )

    assert response.status_code == 400
    assert code(response) == "MALFORMED_REQUEST"


async def test_a_mutation_by_hash_over_get_is_405_and_does_nothing(api: Api) -> None:
    mutation = (
        "mutation($input: CreateDatasetInput!) { createDataset(input: $input) { dataset { id } } }"
    )
    variables = {
        "input": {"projectId": api.project_id, "name": "from-get", "testCaseType": "COMPLETION"}
    }
    made = await api.client.post(
        "/graphql",
        json={"query": mutation, "variables": variables, "extensions": persisted(mutation)},
        headers=api.headers,
    )
    assert made.json()["data"]["createDataset"]["dataset"]["id"]

    response = await api.client.get(
        "/graphql",
        params={
            "extensions": json.dumps(persisted(mutation)),
            "variables": json.dumps({"input": {**variables["input"], "name": "again"}}),
        },
        headers={**api.headers, "Accept": NEW},
    )

    assert response.status_code == 405
    assert code(response) == "METHOD_NOT_ALLOWED"
    assert (await api.get("/datasets")).json()["total"] == 1


@pytest.fixture
async def small_store(api: Api, settings: Settings) -> AsyncIterator[tuple[Api, FastAPI]]:
    """The same project and key on an app that keeps at most two persisted queries."""
    app = create_app(settings.model_copy(update={"graphql_persisted_queries_max": 2}))
    async with served_by(app, api) as served:
        yield served, app


async def test_the_least_recently_used_beyond_the_bound_are_forgotten(
    small_store: tuple[Api, FastAPI],
) -> None:
    api, _ = small_store
    texts = [f"query Q{i} {{ projects {{ id }} }}" for i in range(3)]

    for text in texts:
        assert (await with_text(api, text)).status_code == 200

    assert code(await by_hash(api, texts[0])) == "PERSISTED_QUERY_NOT_FOUND"
    for text in texts[1:]:
        assert (await by_hash(api, text)).status_code == 200


async def test_use_keeps_a_document_and_registered_ones_are_never_forgotten(
    small_store: tuple[Api, FastAPI], db: Database
) -> None:
    api, app = small_store
    start = app.state.db.clock()

    def at(later: timedelta) -> None:
        app.state.db.clock = lambda: start + later

    a, b, c, d = (f"query {name} {{ projects {{ id }} }}" for name in "ABCD")
    await persisted_queries.register(db, [d])  # as `testruns graphql register` does
    at(timedelta(0))
    await with_text(api, a)
    at(timedelta(seconds=1))
    await with_text(api, b)
    at(timedelta(minutes=2))
    assert (await by_hash(api, a)).status_code == 200  # a is now the most recently used
    at(timedelta(minutes=3))
    await with_text(api, c)

    answers = [await by_hash(api, text) for text in (a, b, c, d)]
    assert [r.status_code for r in answers] == [200, 404, 200, 200]


async def test_trusted_documents_only_runs_registered_documents(
    app_api: Callable[..., Awaitable[Api]], db: Database
) -> None:
    normal = await app_api()
    trusted = await app_api(graphql_trusted_documents_only=True)
    registered = "query Registered { projects { id } }"
    automatic = "query Automatic { projects { id } }"
    await persisted_queries.register(db, [registered])
    assert (await with_text(normal, automatic)).status_code == 200

    assert (await by_hash(trusted, registered, method="GET")).status_code == 200
    assert (await with_text(trusted, registered)).status_code == 200
    as_text = await trusted.client.post(
        "/graphql", json={"query": registered}, headers=trusted.headers
    )
    assert as_text.json() == {"data": {"projects": [{"id": trusted.project_id}]}}

    refused = [
        await by_hash(trusted, automatic),
        await by_hash(trusted, "query Unknown { projects { id } }"),
        await with_text(trusted, "query New { projects { id } }"),
        await trusted.client.post(
            "/graphql", json={"query": "{ projects { id } }"}, headers=trusted.headers
        ),
    ]
    for response in refused:
        assert response.status_code == 403
        assert code(response) == "DOCUMENT_NOT_TRUSTED"
        assert "testruns graphql register" in response.json()["errors"][0]["message"]
    # what was refused was not kept either
    assert code(await by_hash(normal, "query New { projects { id } }")) == (
        "PERSISTED_QUERY_NOT_FOUND"
    )
