"""The ``testruns`` command. Configuration comes from ``TESTRUNS_*`` environment variables.

Each command imports what it needs when it runs: ``testruns --help`` and the quick commands
do not pay for SQLAlchemy, Alembic or the app (a test checks what ``--help`` loads).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from app.domain.examples import TestCaseType

if TYPE_CHECKING:
    from app.db.engine import Database
    from app.settings import Settings

T = TypeVar("T")

cli = typer.Typer(help="Self-hosted LLM evaluation test runs.", no_args_is_help=True)
db_cli = typer.Typer(help="Database migrations.", no_args_is_help=True)
projects_cli = typer.Typer(help="Projects.", no_args_is_help=True)
keys_cli = typer.Typer(help="API keys.", no_args_is_help=True)
graphql_cli = typer.Typer(help="GraphQL documents.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(projects_cli, name="projects")
cli.add_typer(keys_cli, name="keys")
cli.add_typer(graphql_cli, name="graphql")


def _settings() -> Settings:
    from app.settings import Settings

    return Settings()


def _run(work: Callable[[Database, Settings], Awaitable[T]]) -> T:
    """Run one piece of domain work against the configured database."""
    import asyncio

    from sqlalchemy.exc import OperationalError

    from app.db.engine import Database
    from app.domain.errors import ServiceError

    settings = _settings()

    async def main() -> T:
        db = Database(settings)
        try:
            return await work(db, settings)
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except ServiceError as error:
        typer.secho(f"error: {error.message}", err=True, fg="red")
        raise typer.Exit(1) from None
    except OperationalError as error:
        if "no such table" not in str(error):
            raise
        typer.secho(
            "error: the database has no tables yet; run `testruns db upgrade`", err=True, fg="red"
        )
        raise typer.Exit(1) from None


@db_cli.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    from app.db import migrate
    from app.db.engine import Database

    settings = _settings()
    Database(settings)  # creates the SQLite file's directory
    migrate.upgrade(settings.database_url, revision)


@db_cli.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="e.g. base, or -1")]) -> None:
    """Revert migrations down to REVISION."""
    from app.db import migrate

    migrate.downgrade(_settings().database_url, revision)


@projects_cli.command("create")
def projects_create(name: str) -> None:
    """Create a project; its id is printed alone on the last line."""
    from app.domain import projects

    project = _run(lambda db, _: projects.create_project(db, name))
    typer.echo(f"Created project {project.name!r}")
    typer.echo(project.id)


@keys_cli.command("create")
def keys_create(
    admin: Annotated[bool, typer.Option("--admin", help="A key for every project.")] = False,
    project: Annotated[
        list[str] | None, typer.Option("--project", help="A project the key may use.")
    ] = None,
    name: Annotated[str, typer.Option(help="A label to recognise the key by.")] = "",
) -> None:
    """Create an API key; it is shown once, alone on the last line."""
    from app.domain import keys

    if admin == bool(project):
        raise typer.BadParameter("give either --admin or at least one --project")
    info, key = _run(
        lambda db, _: keys.create_key(db, admin=admin, project_ids=project or [], name=name)
    )
    scope = "all projects" if info.is_admin else ", ".join(info.project_ids)
    typer.echo(f"Created key {info.prefix}… for {scope}. It is shown only this once:")
    typer.echo(key)


@keys_cli.command("list")
def keys_list() -> None:
    """Every key by its prefix, with its scope and when it was last used."""
    from app.domain import keys

    for key in _run(lambda db, _: keys.list_keys(db)):
        scope = "admin" if key.is_admin else ",".join(key.project_ids)
        used = key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "never"
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        typer.echo(f"{key.prefix}  {state:<18}  last used {used:<25}  {scope}  {key.name}")


@keys_cli.command("revoke")
def keys_revoke(prefix: Annotated[str, typer.Argument(help="The key's prefix or id.")]) -> None:
    """Revoke a key: requests with it are refused from now on."""
    from app.domain import keys

    key = _run(lambda db, _: keys.revoke_key(db, prefix))
    typer.echo(f"Revoked key {key.prefix}")


@graphql_cli.command("register")
def graphql_register(
    folder: Annotated[
        Path,
        typer.Argument(exists=True, file_okay=False, help="Searched for .graphql files."),
    ],
) -> None:
    """Register each .graphql file under FOLDER as a trusted document (all or none); print
    its name and the SHA-256 clients send for it: that of the document as graphql-js prints
    it, which is what Apollo Client's persisted-query link hashes."""
    from graphql import GraphQLError, parse, print_ast, validate

    from app.api.graphql.schema import schema
    from app.domain import persisted_queries

    files = sorted(folder.rglob("*.graphql"))
    if not files:
        typer.secho(f"error: no .graphql files in {folder}", err=True, fg="red")
        raise typer.Exit(1)
    documents = []
    for path in files:
        try:
            document = parse(path.read_text())
        except GraphQLError as error:
            typer.secho(f"error: {path}: {error.message}", err=True, fg="red")
            raise typer.Exit(1) from None
        for problem in validate(schema._schema, document):
            typer.secho(f"error: {path}: {problem.message}", err=True, fg="red")
            raise typer.Exit(1)
        documents.append(print_ast(document))
    hashes = _run(lambda db, _: persisted_queries.register(db, documents))
    for path, sha256 in zip(files, hashes, strict=True):
        typer.echo(f"{path.relative_to(folder)}  {sha256}")


@cli.command()
def demo(
    host: Annotated[str, typer.Option(help="Host the examples should call.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port the examples should call.")] = 8000,
) -> None:
    """Create (once) the demo project, key and datasets, and print how to use them."""
    from app import demo as demo_data

    result = _run(demo_data.ensure_demo)
    typer.echo(demo_data.instructions(result, f"http://{host}:{port}"))


@cli.command("import")
def import_file(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help=".jsonl, .json or .csv")
    ],
    project: Annotated[str, typer.Option("--project", help="The project's id.")],
    dataset: Annotated[str, typer.Option("--dataset", help="The dataset's name.")],
    create: Annotated[
        bool, typer.Option("--create", help="Create the dataset if missing.")
    ] = False,
    kind: Annotated[
        TestCaseType | None, typer.Option("--type", help="The type of a dataset to create.")
    ] = None,
) -> None:
    """Import a file's test cases into a dataset as one new version: every row, or none."""
    from app import importer

    # Read before the checking processes fork: they inherit the settings loaded instead of
    # each loading them again. They start checking before the database layer loads.
    max_bytes = _settings().max_test_case_bytes
    with importer.checking(file, kind, max_bytes) as (executor, checks):
        status = _run(
            lambda db, _: importer.run_import(
                db, file, project, dataset, create, kind, executor, checks
            )
        )
    importer.leave(status)


@cli.command("export")
def export_file(
    file: Annotated[Path, typer.Argument(dir_okay=False, help="Where to write (.jsonl).")],
    project: Annotated[str, typer.Option("--project", help="The project's id.")],
    dataset: Annotated[str, typer.Option("--dataset", help="The dataset's name.")],
    version: Annotated[int | None, typer.Option(help="A past version (default: latest).")] = None,
) -> None:
    """Export a dataset version as JSONL, in the form `testruns import` reads."""
    from app import importer

    raise typer.Exit(_run(lambda db, _: importer.run_export(db, file, project, dataset, version)))


@cli.command("export-results")
def export_results(
    file: Annotated[Path, typer.Argument(dir_okay=False, help="Where to write (.csv or .jsonl).")],
    run: Annotated[str, typer.Option("--run", help="The test run's id.")],
) -> None:
    """Write a run's results: one row per case with inputs, expected and recorded output,
    and every score."""
    from app import importer

    raise typer.Exit(_run(lambda db, _: importer.run_export_results(db, file, run)))


@cli.command()
def backup(
    file: Annotated[Path, typer.Argument(dir_okay=False, help="Where to write the copy (new).")],
) -> None:
    """Copy the SQLite database, consistently, while the server runs (PostgreSQL: pg_dump)."""
    from app.db import backup as sqlite_backup

    try:
        sqlite_backup.backup(_settings().database_url, file)
    except sqlite_backup.BackupError as error:
        typer.secho(f"error: {error}", err=True, fg="red")
        raise typer.Exit(1) from None
    typer.echo(f"Backed up the database to {file}")


@cli.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[int, typer.Option(help="Processes serving the app.")] = 1,
    log_level: Annotated[str, typer.Option()] = "info",
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Run server-executed test runs in each process too "
            "(default: TESTRUNS_EMBEDDED_WORKER, on).",
        ),
    ] = True,
) -> None:
    """Serve the REST and GraphQL APIs with uvicorn. On SIGTERM (or Ctrl-C) it stops accepting
    connections and lets requests in flight finish, for up to TESTRUNS_SHUTDOWN_TIMEOUT_SECONDS."""
    import os

    import uvicorn

    if not worker:
        os.environ["TESTRUNS_EMBEDDED_WORKER"] = "false"

    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        log_config=log_config(log_level.upper()),
        access_log=False,  # the app writes its own, one JSON line per request
        timeout_keep_alive=5,
        # uvicorn passes it to asyncio.wait_for, which takes a float; its signature says int.
        timeout_graceful_shutdown=_settings().shutdown_timeout_seconds,  # type: ignore[arg-type]
        loop="uvloop",
        http="httptools",
        # Live updates are small JSON messages: compressing them costs far more (CPU, and a
        # deflate state per connection) than it saves.
        ws_per_message_deflate=False,
    )


@cli.command("worker")
def worker_command(
    capacity: Annotated[
        int | None, typer.Option(help="Tasks in flight at once (default TESTRUNS_WORKER_CAPACITY).")
    ] = None,
) -> None:
    """Work on server-executed test runs until stopped (SIGTERM or Ctrl-C): any number of
    workers, on any machines, share the work through the database."""
    import asyncio
    import signal

    from app.runner.worker import Worker

    logging.getLogger("testruns").setLevel(logging.INFO)

    async def work(db: Database, _: Settings) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        worker = Worker(db, capacity=capacity)
        typer.echo(f"Worker {worker.owner} started", err=True)
        await worker.run(stop)
        typer.echo(
            f"Worker {worker.owner} stopped: {worker.stats.completed} completed, "
            f"{worker.stats.errored} errored",
            err=True,
        )

    _run(work)


@cli.command("run")
def run_command(
    project: Annotated[str, typer.Option("--project", help="The project's id.")],
    dataset: Annotated[str, typer.Option("--dataset", help="The dataset's name.")],
    prompt_version: Annotated[
        str, typer.Option("--prompt-version", help="The prompt template version's id.")
    ],
    baseline: Annotated[
        str | None, typer.Option("--baseline", help="A run to compare with.")
    ] = None,
    fail_on_regression: Annotated[
        bool,
        typer.Option(
            "--fail-on-regression", help="Exit 1 when an evaluation regressed significantly."
        ),
    ] = False,
    junit: Annotated[
        Path | None, typer.Option("--junit", dir_okay=False, help="Write a JUnit XML report.")
    ] = None,
    repetitions: Annotated[int, typer.Option(help="Times each case is run.")] = 1,
    concurrency: Annotated[int, typer.Option(help="Cases in flight at once.")] = 4,
    name: Annotated[str | None, typer.Option(help="The run's name.")] = None,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Work on the run in this process too, or only wait for other workers.",
        ),
    ] = True,
) -> None:
    """Run a dataset through a prompt version on the server side, wait, and compare with a
    baseline: the CI gate. The run's id is printed alone on the last line."""
    from app.runner.gate import GateRequest, run_gate

    request = GateRequest(
        project_id=project,
        dataset=dataset,
        prompt_version_id=prompt_version,
        repetitions=repetitions,
        concurrency=concurrency,
        name=name,
        baseline=baseline,
        fail_on_regression=fail_on_regression,
        junit_path=junit,
        worker=worker,
    )
    raise typer.Exit(_run(lambda db, _: run_gate(db, request)))


def log_config(level: str) -> dict[str, Any]:
    """Access log lines as they are (JSON); everything else with its level and logger."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(message)s"},
            "default": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        },
        "handlers": {
            "access": {"class": "logging.StreamHandler", "formatter": "plain"},
            "default": {"class": "logging.StreamHandler", "formatter": "default"},
        },
        "loggers": {
            "testruns.access": {"handlers": ["access"], "level": level, "propagate": False},
            "testruns": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
        },
    }


@cli.command("export-schema")
def export_schema(
    path: Annotated[Path, typer.Argument(help="Where to write the SDL.")] = Path("schema.graphql"),
) -> None:
    """Write the GraphQL schema's SDL (the checked-in schema.graphql)."""
    from app.api.graphql.schema import schema

    path.write_text(schema.as_str() + "\n")
    typer.echo(f"Wrote {path}")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    cli()
