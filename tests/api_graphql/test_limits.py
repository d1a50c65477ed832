"""GraphQL limits: each answers with a clear code, never a 500."""

from collections.abc import AsyncIterator

import pytest
from graphql import get_introspection_query

from app.main import create_app
from app.settings import Settings
from tests.support import Api, asgi_client, served_by


@pytest.fixture
async def limited(api: Api, settings: Settings) -> AsyncIterator[Api]:
    app = create_app(
        settings.model_copy(
            update={
                "graphql_max_depth": 4,
                "graphql_max_aliases": 2,
                "graphql_max_tokens": 60,
                "graphql_introspection": False,
            }
        )
    )
    async with served_by(app, api) as served:
        yield served


async def error_code(api: Api, query: str) -> str:
    response = await api.graphql_response(query)
    assert response.status_code == 200
    return response.json()["errors"][0]["extensions"]["code"]


async def test_a_query_too_deep_is_refused(limited: Api) -> None:
    query = "{ projects { datasets { edges { node { testCases { totalCount } } } } } }"

    assert await error_code(limited, query) == "QUERY_TOO_DEEP"


async def test_too_many_aliases_are_refused(limited: Api) -> None:
    query = "{ a: projects { id } b: projects { id } c: projects { id } }"

    assert await error_code(limited, query) == "TOO_MANY_ALIASES"


async def test_a_document_with_too_many_tokens_is_refused(limited: Api) -> None:
    query = "{ projects { " + "id " * 80 + "} }"

    assert await error_code(limited, query) == "QUERY_TOO_LARGE"


async def test_introspection_can_be_turned_off_and_suggestions_go_with_it(
    limited: Api, api: Api
) -> None:
    assert (
        await error_code(limited, "{ __schema { queryType { name } } }") == "INTROSPECTION_DISABLED"
    )
    hidden = (await limited.graphql("{ projcts { id } }"))["errors"][0]["message"]
    shown = (await api.graphql("{ projcts { id } }"))["errors"][0]["message"]
    assert "Did you mean" not in hidden
    assert "Did you mean" in shown


async def test_the_default_limits_let_graphiqls_introspection_through(api: Api) -> None:
    body = await api.graphql(get_introspection_query(descriptions=True))

    assert "errors" not in body
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_batched_operations_are_off_unless_configured(api: Api, settings: Settings) -> None:
    batch = [{"query": "{ projects { id } }"}, {"query": "{ projects { name } }"}]

    off = await api.client.post("/graphql", json=batch, headers=api.headers)

    assert off.status_code == 400
    app = create_app(settings.model_copy(update={"graphql_max_batch": 2}))
    async with asgi_client(app) as client:
        on = await client.post("/graphql", json=batch, headers=api.headers)
        over = await client.post("/graphql", json=batch * 2, headers=api.headers)
    assert on.status_code == 200
    assert [r["data"]["projects"] for r in on.json()] == [
        [{"id": api.project_id}],
        [{"name": "Test project"}],
    ]
    assert over.status_code == 400


async def test_a_query_sent_again_is_checked_against_the_limits_and_variables_again(
    limited: Api, api: Api
) -> None:
    deep = "{ projects { datasets { edges { node { testCases { totalCount } } } } } }"
    by_id = "query($id: ID!) { project(id: $id) { id } }"

    for _ in range(2):  # accepted where the limits allow it, refused where they do not
        assert "errors" not in await api.graphql(deep)
        assert await error_code(limited, deep) == "QUERY_TOO_DEEP"
    for _ in range(2):  # a known text is still run with the variables sent this time
        found = await limited.graphql(by_id, {"id": limited.project_id})
        assert found["data"]["project"] == {"id": limited.project_id}
        wrong = await limited.graphql_response(by_id, {"id": None})
        assert wrong.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
