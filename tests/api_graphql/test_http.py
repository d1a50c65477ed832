"""GraphQL over HTTP: queries over GET, the application/graphql-response+json media type with
its status codes, and JSON error bodies for every request the server cannot run."""

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from strawberry.schema import schema as strawberry_schema

from app.db.engine import Database
from app.main import create_app
from app.settings import Settings
from tests.support import Api, asgi_client, completion_example

NEW = "application/graphql-response+json"
JSON = "application/json"
DATASETS = "query($id: ID!) { project(id: $id) { datasets(first: 5) { totalCount } } }"
CREATE = "mutation($input: CreateTestRunInput!) { createTestRun(input: $input) { testRun { id } } }"


async def get(api: Api, accept: str = JSON, **params: Any) -> httpx.Response:
    return await api.client.get(
        "/graphql", params=params, headers={**api.headers, "Accept": accept}
    )


async def post(api: Api, body: Any, accept: str = JSON) -> httpx.Response:
    return await api.client.post("/graphql", json=body, headers={**api.headers, "Accept": accept})


async def runs_made(api: Api) -> int:
    return (await api.get("/test-runs")).json()["total"]


async def test_a_query_over_get_is_answered_like_a_post(api: Api) -> None:
    await api.dataset_with_cases("qa", [completion_example(1)])
    variables = f'{{"id": "{api.project_id}"}}'

    response = await get(api, query=DATASETS, variables=variables)

    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    assert response.json() == {"data": {"project": {"datasets": {"totalCount": 1}}}}


async def test_a_query_over_get_needs_a_key(api: Api) -> None:
    response = await api.client.get("/graphql", params={"query": "{ projects { id } }"})

    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_mutation_over_get_is_405_and_does_nothing(api: Api) -> None:
    await api.dataset_with_cases("qa", [completion_example(1)])
    variables = f'{{"input": {{"projectId": "{api.project_id}", "datasetName": "qa"}}}}'

    for accept in (JSON, NEW):
        response = await get(api, accept, query=CREATE, variables=variables)

        assert response.status_code == 405
        assert response.headers["allow"] == "POST"
        assert response.headers["content-type"] == accept
        assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert await runs_made(api) == 0


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ projects { id }", None, "GRAPHQL_VALIDATION_FAILED"),  # does not parse
        ("{ noSuchField }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("query($id: ID!) { project(id: $id) { id } }", {"id": None}, "GRAPHQL_VALIDATION_FAILED"),
    ],
    ids=["parse", "validation", "variables"],
)
async def test_an_operation_that_cannot_run_is_400_under_the_new_media_type_and_200_under_json(
    api: Api, query: str, variables: dict[str, Any] | None, code: str
) -> None:
    new = await post(api, {"query": query, "variables": variables}, NEW)
    old = await post(api, {"query": query, "variables": variables}, JSON)

    assert new.status_code == 400
    assert new.headers["content-type"] == NEW
    assert "data" not in new.json()
    assert new.json()["errors"][0]["extensions"]["code"] == code
    assert old.status_code == 200
    assert old.headers["content-type"] == JSON
    assert old.json()["data"] is None
    assert old.json()["errors"][0]["extensions"]["code"] == code


async def test_field_errors_keep_200_and_the_data_under_the_new_media_type(api: Api) -> None:
    response = await post(api, {"query": '{ projects { id } project(id: "nope") { id } }'}, NEW)

    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"projects": [{"id": api.project_id}], "project": None}
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (NEW, NEW),
        (f"{NEW}, {JSON};q=0.9", NEW),  # what Apollo Client sends
        (f"{JSON}, {NEW};q=0.5", JSON),
        (JSON, JSON),
        ("*/*", JSON),
        (None, JSON),
    ],
)
async def test_the_answer_takes_the_media_type_the_client_prefers(
    api: Api, accept: str | None, expected: str
) -> None:
    headers = {**api.headers, **({"Accept": accept} if accept else {})}

    response = await api.client.post("/graphql", json={"query": "{ __typename }"}, headers=headers)

    assert response.status_code == 200
    assert response.headers["content-type"] == expected
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("accept", [JSON, NEW])
async def test_requests_that_are_not_graphql_get_json_errors(api: Api, accept: str) -> None:
    headers = {**api.headers, "Accept": accept}
    cases = [
        (await api.client.post("/graphql", content="{ nope", headers=headers), 415),
        (
            await api.client.post(
                "/graphql", content="{ nope", headers={**headers, "Content-Type": JSON}
            ),
            400,
        ),
        (await post(api, [1, 2], accept), 400),
        (await post(api, "a string", accept), 400),
        (await post(api, {"notquery": "{ __typename }"}, accept), 400),
        (await post(api, {"query": 5}, accept), 400),
        (await post(api, {"query": "{ __typename }", "operationName": 1}, accept), 400),
        (await post(api, {"query": "{ __typename }", "variables": "x"}, accept), 400),
        (await get(api, accept, query="{ __typename }", variables="{nope"), 400),
        (await api.client.put("/graphql", json={"query": "{ __typename }"}, headers=headers), 405),
    ]

    for response, status in cases:
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == accept
        [error] = response.json()["errors"]
        assert error["message"]
        assert error["extensions"]["code"] in (
            "MALFORMED_REQUEST",
            "UNSUPPORTED_MEDIA_TYPE",
            "METHOD_NOT_ALLOWED",
        )


async def test_a_get_without_a_query_is_a_json_error_unless_a_browser_asks(api: Api) -> None:
    response = await api.client.get("/graphql", headers={"Accept": JSON})  # no key needed

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "MALFORMED_REQUEST"


async def test_limits_apply_over_get(api: Api, settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"graphql_max_depth": 3}))
    async with asgi_client(app) as client:
        response = await client.get(
            "/graphql",
            params={"query": "{ projects { datasets { edges { node { id } } } } }"},
            headers={**api.headers, "Accept": NEW},
        )

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"


async def test_a_query_text_sent_over_get_again_is_not_parsed_again(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []
    parse = strawberry_schema.parse

    def counting(source: str, **options: Any) -> Any:
        parsed.append(source)
        return parse(source, **options)

    monkeypatch.setattr(strawberry_schema, "parse", counting)
    # A text no earlier test sent: the parsed-query cache lives as long as the app.
    query = f"query Again{uuid.uuid4().hex} {{ projects {{ id }} }}"

    answers = [await get(api, query=query) for _ in range(3)]

    assert [a.json()["data"]["projects"] for a in answers] == [[{"id": api.project_id}]] * 3
    assert parsed == [query]


async def test_unexpected_errors_over_get_are_masked(api: Api, db: Database) -> None:
    async with db.write() as conn:  # break the database under the running app
        await conn.execute(text("ALTER TABLE flavors RENAME TO flavors_elsewhere"))
    try:
        response = await get(
            api,
            NEW,
            query="query($id: ID!) { project(id: $id) { flavors { name } } }",
            variables=f'{{"id": "{api.project_id}"}}',
        )
    finally:
        async with db.write() as conn:
            await conn.execute(text("ALTER TABLE flavors_elsewhere RENAME TO flavors"))

    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "INTERNAL_ERROR"
    assert "flavors_elsewhere" not in response.text
