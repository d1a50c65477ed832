"""schema.graphql at the repository root is the exported SDL of the served schema."""

from pathlib import Path

from app.api.graphql.schema import schema

SDL = Path(__file__).parents[2] / "schema.graphql"


def test_checked_in_sdl_equals_the_served_schema() -> None:
    assert SDL.read_text() == schema.as_str() + "\n", (
        "schema.graphql is out of date: run scripts/export-schema and commit the result"
    )


async def test_served_schema_answers_introspection(api) -> None:  # type: ignore[no-untyped-def]
    body = await api.graphql('{ __type(name: "TestCase") { kind possibleTypes { name } } }')

    assert body["data"]["__type"] == {
        "kind": "UNION",
        "possibleTypes": [{"name": "CompletionTestCase"}, {"name": "TraceTestCase"}],
    }
