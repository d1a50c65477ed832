"""The `testruns` command line, run as a user runs it."""

import base64
import hashlib
import os
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import orjson
from sqlalchemy import text

from app.api.graphql.schema import schema
from app.db.engine import Database
from app.main import create_app
from app.settings import Settings
from tests.support import asgi_client

TESTRUNS = str(Path(sys.executable).parent / "testruns")


def run_cli(*args: str, cwd: Path, database_url: str, check: bool = True) -> str:
    env = {**os.environ, "TESTRUNS_DATABASE_URL": database_url}
    env.pop("TESTRUNS_DATA_DIR", None)
    done = subprocess.run(
        [TESTRUNS, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done.stdout if check else done.stdout + done.stderr


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


async def test_project_and_key_commands_make_a_working_key(
    tmp_path: Path, database_url: str
) -> None:
    run_cli("db", "upgrade", cwd=tmp_path, database_url=database_url)
    project_id = last_line(
        run_cli("projects", "create", "From the CLI", cwd=tmp_path, database_url=database_url)
    )
    key = last_line(
        run_cli("keys", "create", "--project", project_id, cwd=tmp_path, database_url=database_url)
    )

    app = create_app(Settings(database_url=database_url, data_dir=tmp_path / "data"))
    async with asgi_client(app) as client:
        response = await client.post(
            f"/api/v2/projects/{project_id}/prompt-datasets",
            json={"name": "cli"},
            headers={"Authorization": f"Bearer {key}"},
        )

    assert response.status_code == 201
    assert key.startswith("trk_")
    assert len(key) >= 40


def test_keys_create_needs_admin_or_a_project(tmp_path: Path, database_url: str) -> None:
    output = run_cli("keys", "create", cwd=tmp_path, database_url=database_url, check=False)

    assert "--admin" in output


async def test_demo_is_idempotent_and_keeps_its_key_private(
    tmp_path: Path, database_url: str
) -> None:
    run_cli("db", "upgrade", cwd=tmp_path, database_url=database_url)
    first = run_cli("demo", cwd=tmp_path, database_url=database_url)
    second = run_cli("demo", "--port", "9000", cwd=tmp_path, database_url=database_url)

    demo_file = tmp_path / "data" / "demo.json"
    saved = orjson.loads(demo_file.read_bytes())
    assert stat.S_IMODE(demo_file.stat().st_mode) == 0o600
    for output in (first, second):
        assert saved["api_key"] in output
        assert saved["project_id"] in output
    assert "http://127.0.0.1:9000/api/v2/projects/" in second

    app = create_app(Settings(database_url=database_url, data_dir=tmp_path / "data"))
    async with asgi_client(app) as client:
        body = (
            await client.post(
                "/graphql",
                json={
                    "query": "query($id: ID!) { project(id: $id) { datasets { edges { node "
                    "{ name testCaseType testCaseCount } } } evaluations { name } flavors { name } } }",
                    "variables": {"id": saved["project_id"]},
                },
                headers={"Authorization": f"Bearer {saved['api_key']}"},
            )
        ).json()
        projects = (
            await client.post(
                "/graphql",
                json={"query": "{ projects { name } }"},
                headers={"Authorization": f"Bearer {saved['api_key']}"},
            )
        ).json()

    project = body["data"]["project"]
    assert [e["node"] for e in project["datasets"]["edges"]] == [
        {"name": "agent-tasks", "testCaseType": "TRACE", "testCaseCount": 5},
        {"name": "support-replies", "testCaseType": "COMPLETION", "testCaseCount": 20},
    ]
    assert len(project["evaluations"]) == 3
    assert len(project["flavors"]) == 1
    assert projects["data"]["projects"] == [{"name": "Demo project"}]


def test_export_schema_writes_the_served_sdl(tmp_path: Path, database_url: str) -> None:
    run_cli("export-schema", str(tmp_path / "out.graphql"), cwd=tmp_path, database_url=database_url)

    assert (tmp_path / "out.graphql").read_text() == schema.as_str() + "\n"


async def test_keys_are_listed_by_prefix_and_revoked(tmp_path: Path, database_url: str) -> None:
    run_cli("db", "upgrade", cwd=tmp_path, database_url=database_url)
    project_id = last_line(
        run_cli("projects", "create", "P", cwd=tmp_path, database_url=database_url)
    )
    key = last_line(
        run_cli(
            "keys",
            "create",
            "--project",
            project_id,
            "--name",
            "ci",
            cwd=tmp_path,
            database_url=database_url,
        )
    )
    settings = Settings(database_url=database_url, data_dir=tmp_path / "data")
    app = create_app(settings)
    headers = {"Authorization": f"Bearer {key}"}

    async with asgi_client(app) as client:
        before = await client.get(f"/api/v2/projects/{project_id}/datasets", headers=headers)
        listed = run_cli("keys", "list", cwd=tmp_path, database_url=database_url)
        revoked = run_cli("keys", "revoke", key[:12], cwd=tmp_path, database_url=database_url)
        # Revoked in another process: the server stops taking it once its check has expired.
        start = app.state.db.clock()
        app.state.db.clock = lambda: start + timedelta(seconds=settings.key_cache_seconds)
        after = await client.get(f"/api/v2/projects/{project_id}/datasets", headers=headers)

    assert before.status_code == 200
    assert key[:12] in listed
    assert key not in listed
    assert "last used 20" in listed
    assert project_id in listed
    assert "Revoked" in revoked
    assert after.status_code == 401
    assert "revoked" in run_cli("keys", "list", cwd=tmp_path, database_url=database_url)


async def test_keys_are_long_random_and_stored_only_as_a_hash(
    tmp_path: Path, database_url: str
) -> None:
    run_cli("db", "upgrade", cwd=tmp_path, database_url=database_url)
    made = [
        last_line(run_cli("keys", "create", "--admin", cwd=tmp_path, database_url=database_url))
        for _ in range(2)
    ]

    db = Database(Settings(database_url=database_url))
    async with db.read() as conn:
        stored = [
            tuple(map(str, row)) for row in await conn.execute(text("SELECT * FROM api_keys"))
        ]
    await db.dispose()

    assert made[0] != made[1]
    for key in made:
        secret = key.removeprefix("trk_")
        assert len(base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))) >= 32
        assert not any(key in value for row in stored for value in row)
        assert any(hashlib.sha256(key.encode()).hexdigest() in row for row in stored)


def test_help_loads_neither_the_database_layer_nor_the_app() -> None:
    """`testruns --help` answers at once: each command imports what it needs when it runs."""
    done = subprocess.run(
        [TESTRUNS, "--help"],
        env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}

    assert "Self-hosted LLM evaluation test runs." in done.stdout
    heavy = {"sqlalchemy", "alembic", "fastapi", "strawberry", "uvicorn", "app.db", "app.api"}
    assert loaded.isdisjoint(heavy), sorted(loaded & heavy)
    assert "typer" in loaded  # the import profile was read
