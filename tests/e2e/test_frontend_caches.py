"""The schema as the frontend clients at their default settings see it: Apollo Client's and
urql's normalised caches show each run its own content, and the Relay compiler accepts
@connection and @refetchable fragments on datasets and runs."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import NODE_SCRIPTS, Api, completion_example, run_node

RELAY_FIXTURE = NODE_SCRIPTS / "relay"
RELAY_COMPILER = NODE_SCRIPTS.parent / "node_modules" / "relay-compiler" / "cli.js"
SCHEMA = NODE_SCRIPTS.parent.parent / "schema.graphql"


@pytest.mark.parametrize("library", ["apollo", "urql"])
async def test_a_normalised_cache_keeps_a_pinned_runs_content_after_the_dataset_changes(
    api: Api, live_url: str, library: str
) -> None:
    """Apollo's InMemoryCache and urql's Graphcache, both at their defaults."""
    dataset = await api.dataset_with_cases("qa", [completion_example(0)])
    run = (await api.create_run("qa", include_outputs=True)).json()

    seen = run_node(
        f"{library}-cache-identity.mjs", live_url, api.key, run["test_run_id"], dataset["id"]
    )

    v1 = {"question": "question 0", "n": 0}
    [before], [latest] = seen["runBefore"], seen["dataset"]["cases"]
    assert before["values"] == v1
    assert before["output"] == "answer 0"
    assert seen["dataset"]["version"] == seen["editedVersion"] == 2
    assert latest["values"] == {"question": "edited in v2"}
    assert latest["output"] == "new answer"
    assert latest["testCaseId"] == before["testCaseId"] == run["test_cases"][0]["id"]
    assert seen["runFromCache"] == [before]
    assert seen["runQueriedAgain"] == [before]
    assert latest["id"] != before["id"]


def relay_compiler(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", str(RELAY_COMPILER), *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_relay_compiler_validates_connection_and_refetchable_fragments() -> None:
    checked = relay_compiler(RELAY_FIXTURE, "--validate")

    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_relay_compiler_rejects_a_schema_without_what_relay_needs(tmp_path: Path) -> None:
    fixture = tmp_path / "relay"
    shutil.copytree(RELAY_FIXTURE, fixture)
    config = json.loads((fixture / "relay.config.json").read_text())
    schema = SCHEMA.read_text()
    for broken, missing in (
        (schema.replace("  hasPreviousPage: Boolean!\n", ""), "hasPreviousPage"),
        (re.sub(r"\n  node\(id: ID!\): Node\n", "\n", schema), "node"),
    ):
        (fixture / "schema.graphql").write_text(broken)
        (fixture / "relay.config.json").write_text(
            json.dumps({**config, "schema": "schema.graphql"})
        )

        checked = relay_compiler(fixture, "--validate")

        assert checked.returncode != 0
        assert missing in checked.stdout + checked.stderr


async def test_relays_refetch_query_finds_a_dataset_by_its_rest_id(api: Api) -> None:
    dataset = await api.dataset_with_cases("qa", [completion_example(i) for i in range(3)])
    generated = (
        RELAY_FIXTURE / "src" / "__generated__" / "DatasetCasesPaginationQuery.graphql.js"
    ).read_text()
    text = json.loads(re.search(r'"text": ("(?:[^"\\]|\\.)*")', generated).group(1))  # type: ignore[union-attr]

    body = await api.graphql(text, {"id": dataset["id"], "count": 2})

    assert "errors" not in body, body
    node = body["data"]["node"]
    assert node["id"] == dataset["id"]
    assert node["name"] == "qa"
    assert [e["node"]["values"]["n"] for e in node["testCases"]["edges"]] == [0, 1]
    assert node["testCases"]["pageInfo"]["hasNextPage"] is True
