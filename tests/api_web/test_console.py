"""The console's files: served without a key, talking only to the public GraphQL API with
operations the schema accepts, and never writing data into the page as HTML."""

import re

import httpx
from graphql import parse, validate

from app.api import web
from app.api.graphql.schema import schema

CONSOLE_DIR = web.STATIC_DIR / "console"
DOCUMENT = re.compile(r"const (\w+) = `(.*?)`;", re.DOTALL)


def console_sources() -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(CONSOLE_DIR.glob("*.js"))}


def console_operations() -> dict[str, str]:
    """Every GraphQL document the console sends, fragments filled in."""
    found = {
        name: text
        for source in console_sources().values()
        for name, text in DOCUMENT.findall(source)
        if text.lstrip().startswith(("query", "mutation", "subscription", "fragment"))
    }
    filled = {
        name: re.sub(r"\$\{(\w+)\}", lambda m: found[m.group(1)], text)
        for name, text in found.items()
    }
    return {name: text for name, text in filled.items() if not text.lstrip().startswith("fragment")}


async def test_console_and_its_modules_are_served_without_a_key(client: httpx.AsyncClient) -> None:
    page = await client.get("/")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'src="/static/console/main.js"' in page.text
    for name in console_sources():
        module = await client.get(f"/static/console/{name}")
        assert module.status_code == 200, name
        assert "javascript" in module.headers["content-type"]
    assert (await client.get("/static/console.css")).status_code == 200


def test_every_console_operation_is_valid_against_the_schema() -> None:
    operations = console_operations()

    assert {"Projects", "Datasets", "Cases", "CreateTestRun", "Run", "WatchRun", "Compare"} <= {
        re.search(r"(?:query|mutation|subscription) (\w+)", text).group(1)  # type: ignore[union-attr]
        for text in operations.values()
    }
    for name, text in operations.items():
        errors = validate(schema._schema, parse(text))
        assert not errors, f"{name}: {errors}"


def test_the_console_only_calls_post_graphql() -> None:
    sources = console_sources()
    callers = {name for name, text in sources.items() if "fetch(" in text}

    assert callers == {"api.js"}
    assert re.findall(r'fetch\("([^"]+)"', sources["api.js"]) == ["/graphql"]
    assert 'method: "POST"' in sources["api.js"]


def test_the_console_never_inserts_html() -> None:
    for name, text in console_sources().items():
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
            assert sink not in text, f"{name} uses {sink}"
