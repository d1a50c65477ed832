"""`testruns import`, `export` and `export-results`: files to datasets and back, and a run's
results to a file."""

import multiprocessing
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from app.db.engine import Database
from app.domain import datasets, result_export, test_cases, test_runs
from app.domain.datasets import NewDataset
from app.domain.errors import InvalidInput, NotFound, ServiceError
from app.domain.examples import TestCaseType
from app.domain.keys import OPERATOR
from app.files import UnsupportedFile, read_records, result_lines, write_jsonl

err = Console(stderr=True)


@contextmanager
def checking_processes() -> Iterator[Executor | None]:
    """Processes that check the next chunks of a file while this one inserts (leaving a
    core to the inserting). Forked before any database connection or thread exists, so
    they inherit nothing they could trip on; where there is no fork, this process checks."""
    if "fork" not in multiprocessing.get_all_start_methods():
        yield None
        return
    workers = max(1, min(2, (os.cpu_count() or 1) - 1))
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_exit_with,
        initargs=(os.getpid(),),
    )
    pool.submit(int).result()  # fork now, while this process has a single thread
    try:
        yield pool
    finally:
        pool.shutdown(cancel_futures=True)


def _exit_with(parent: int) -> None:
    """In a checking process: leave when the importer is gone. Killed outright, the
    importer cannot tell it to, and it would wait on its queue forever."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _location(loc: list[str | int] | tuple[str | int, ...]) -> str:
    """'line 12: inputs' from ('line', 12, 'inputs')."""
    if len(loc) >= 2 and loc[0] == "line":
        rest = ".".join(str(part) for part in loc[2:])
        return f"line {loc[1]}" + (f": {rest}" if rest else "")
    return ".".join(str(part) for part in loc)


async def run_import(
    db: Database,
    file: Path,
    project_id: str,
    name: str,
    create: bool,
    kind: TestCaseType | None,
    executor: Executor | None = None,
) -> int:
    """Import ``file`` into the named dataset; the exit status."""
    try:
        dataset = await datasets.get_dataset_by_name(db, OPERATOR, project_id, name)
        if kind is not None and dataset.test_case_type is not kind:
            err.print(
                f"[red]{name!r} is a {dataset.test_case_type.value} dataset, not {kind.value}"
            )
            return 1
    except NotFound:
        if not create:
            err.print(f"[red]No dataset named {name!r} in project {project_id}; add --create")
            return 1
        dataset = await datasets.create_dataset(
            db, OPERATOR, project_id, NewDataset(name, kind or TestCaseType.COMPLETION)
        )
        typer.echo(f"Created {dataset.test_case_type.value} dataset {name!r}")
    except ServiceError as error:
        err.print(f"[red]{error.message}")
        return 1

    typer.echo(
        f"Importing {file.name} into {name!r} (version {dataset.version} → {dataset.version + 1})"
    )
    started = time.perf_counter()
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TextColumn("{task.fields[rows]} rows"),
        TimeRemainingColumn(),
        console=err,
    )
    task = progress.add_task("importing", total=file.stat().st_size, rows=0)
    try:
        records, decode = read_records(
            file, dataset.test_case_type, lambda n: progress.advance(task, n)
        )
        with progress:
            result = await test_cases.import_cases(
                db,
                OPERATOR,
                project_id,
                dataset.id,
                records,
                decode=decode,
                on_progress=lambda rows: progress.update(task, rows=rows),
                executor=executor,
            )
    except UnsupportedFile as error:
        err.print(f"[red]{error}")
        return 1
    except InvalidInput as error:
        err.print(f"[red]{file.name}: nothing imported; the dataset is unchanged. Problems:")
        for problem in error.errors or []:
            err.print(f"  {_location(problem.loc)}: {problem.msg}")
        if not error.errors:
            err.print(f"  {error.message}")
        return 1
    seconds = time.perf_counter() - started
    typer.echo(
        f"Imported {result.rows} test cases as version {result.version.number} of {name!r} "
        f"in {seconds:.2f} s ({result.rows / seconds:,.0f} cases/s)"
    )
    return 0


async def run_export(
    db: Database, file: Path, project_id: str, name: str, version: int | None
) -> int:
    try:
        dataset = await datasets.get_dataset_by_name(db, OPERATOR, project_id, name)
        count = 0
        temporary = file.with_name(file.name + ".partial")
        with temporary.open("wb") as out:
            async for example in test_cases.export_examples(
                db, OPERATOR, project_id, dataset.id, version
            ):
                write_jsonl(out, example)
                count += 1
        temporary.replace(file)
    except ServiceError as error:
        err.print(f"[red]{error.message}")
        return 1
    typer.echo(
        f"Exported {count} test cases of {name!r} (version {version or dataset.version}) to {file}"
    )
    return 0


async def run_export_results(db: Database, file: Path, run_id: str) -> int:
    fmt = file.suffix.lower().lstrip(".")
    if fmt not in ("csv", "jsonl"):
        err.print(f"[red]{file.name}: use a .csv or .jsonl file")
        return 1
    try:
        run = await test_runs.get_test_run(db, OPERATOR, run_id)
        columns = await result_export.score_columns(db, run)
        temporary = file.with_name(file.name + ".partial")
        with temporary.open("wb") as out:
            async for line in result_lines(result_export.export_dicts(db, run), columns, fmt):
                out.write(line)
        temporary.replace(file)
    except ServiceError as error:
        err.print(f"[red]{error.message}")
        return 1
    typer.echo(f"Exported the results of test run {run.name!r} to {file}")
    return 0
