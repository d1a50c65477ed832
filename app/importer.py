"""`testruns import`, `export` and `export-results`: files to datasets and back, and a run's
results to a file.

Importing a JSONL file starts before anything heavy is imported: the checking processes are
forked and given the whole file at once, in ranges, so they parse and check while this
process loads the database layer, and later while it inserts. Each range's rows go into a
scratch file of their own (``app.db.scratch``), so nothing waits for memory to be freed and
nothing is pickled. This module imports little for that reason; the rest is imported where
it is used.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import shutil
import tempfile
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from app.db.scratch import ScratchRows
from app.domain.errors import FieldError
from app.domain.examples import TestCaseType
from app.files import check_jsonl, jsonl_ranges

if TYPE_CHECKING:
    from rich.console import Console

    from app.db.engine import Database

# The ranges a JSONL file is checked in, at most, each into a scratch file: SQLite attaches at
# most ten files to the transaction that copies them in (``app.db.bulk``).
RANGES = 8
MIN_RANGE = 1 << 20  # bytes: a small file is cut in fewer ranges


@cache
def _stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True)


@contextmanager
def checking(
    file: Path, kind: TestCaseType | None, max_bytes: int
) -> Iterator[tuple[Executor | None, JsonlChecks | None]]:
    """The checking processes, and the checks of ``file`` already started when it is JSONL
    (other formats are checked as they are imported); its scratch files are removed at
    the end, once the processes are gone."""
    with (
        tempfile.TemporaryDirectory(prefix="testruns-import-") as scratch,
        checking_processes(Path(scratch)) as executor,
    ):
        checks = None
        if file.suffix.lower() == ".jsonl":
            checks = JsonlChecks(
                file, kind or TestCaseType.COMPLETION, executor, max_bytes, Path(scratch)
            )
        yield executor, checks


@contextmanager
def checking_processes(scratch: Path | None = None) -> Iterator[Executor | None]:
    """Processes that check the file while this one inserts (two: the inserting is mostly
    SQLite's or PostgreSQL's own work, and checking is the larger share of the CPU an
    import needs). Forked before any database connection or thread exists, so they inherit
    nothing they could trip on; where there is no fork, this process checks. Should this
    process be killed outright, they remove the ``scratch`` directory as they leave."""
    if "fork" not in multiprocessing.get_all_start_methods():
        yield None
        return
    workers = max(1, min(2, os.cpu_count() or 1))
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_exit_with,
        initargs=(os.getpid(), scratch),
    )
    pool.submit(int).result()  # fork now, while this process has a single thread
    try:
        yield pool
    finally:
        pool.shutdown(cancel_futures=True)


def _exit_with(parent: int, scratch: Path | None) -> None:
    """In a checking process: leave when the importer is gone, with its scratch files.
    Killed outright, the importer cannot tell it to, and it would wait on its queue
    forever."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _location(loc: list[str | int] | tuple[str | int, ...]) -> str:
    """'line 12: inputs' from ('line', 12, 'inputs')."""
    if len(loc) >= 2 and loc[0] == "line":
        rest = ".".join(str(part) for part in loc[2:])
        return f"line {loc[1]}" + (f": {rest}" if rest else "")
    return ".".join(str(part) for part in loc)


def leave(status: int) -> NoReturn:
    """End the import's process at once. Its work is committed, its checking processes have
    exited and the database is closed; the interpreter's teardown would only spend a good
    part of a second freeing memory the system takes back anyway."""
    import logging
    import sys

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


class JsonlChecks:
    """The ranges of a JSONL file, each checked into a scratch file in the checking
    processes, all at once (or, with none, here, one at a time as they are asked for).

    Checking starts when this is made, with the kind of test case the import expects (the
    ``--type`` given, else completion); ``restart`` starts over when the dataset turns out to
    be of another kind.
    """

    def __init__(
        self,
        path: Path,
        kind: TestCaseType,
        executor: Executor | None,
        max_bytes: int,
        scratch: Path,
    ) -> None:
        self.path, self.executor, self.max_bytes, self.scratch = path, executor, max_bytes, scratch
        self.restarts = 0
        self.restart(kind)

    def restart(self, kind: TestCaseType) -> None:
        for _, pending in getattr(self, "pending", ()):
            pending.cancel()
        self.kind, self.restarts = kind, self.restarts + 1
        size = max(MIN_RANGE, -(-self.path.stat().st_size // RANGES))
        self.ranges = deque(enumerate(jsonl_ranges(self.path, size)))
        self.pending: deque[tuple[int, Future[tuple[Checked, int]]]] = deque()
        while self.executor is not None and self.ranges:
            index, (start, stop) = self.ranges.popleft()
            job = self.executor.submit(check_jsonl, *self._arguments(index, start, stop))
            self.pending.append((stop - start, job))

    def _arguments(self, index: int, start: int, stop: int) -> tuple[Any, ...]:
        scratch = self.scratch / f"{self.restarts}-{index}.sqlite"
        return self.path, start, stop, self.kind, self.max_bytes, scratch

    async def chunks(self, progress: Callable[[int], None]) -> AsyncIterator[Checked]:
        """Checked ranges in file order, their problems' line numbers counted from the
        file's start; ``progress`` is told of the bytes each covers."""
        first_line = 0
        while self.pending or self.ranges:
            if self.pending:
                size, job = self.pending.popleft()
                (rows, problems), lines = await asyncio.wrap_future(job)
            else:  # no checking processes: check the next range here
                index, (start, stop) = self.ranges.popleft()
                size = stop - start
                (rows, problems), lines = check_jsonl(*self._arguments(index, start, stop))
            if first_line:
                problems = [_shifted(problem, first_line) for problem in problems]
            first_line += lines
            progress(size)
            yield rows, problems


Checked = tuple[ScratchRows, list[FieldError]]  # a range's rows, or the problems found


def _shifted(problem: FieldError, lines: int) -> FieldError:
    loc = problem.loc
    if len(loc) >= 2 and loc[0] == "line" and isinstance(loc[1], int):
        return FieldError(("line", loc[1] + lines, *loc[2:]), problem.msg)
    return problem


async def run_import(
    db: Database,
    file: Path,
    project_id: str,
    name: str,
    create: bool,
    kind: TestCaseType | None,
    executor: Executor | None = None,
    checks: JsonlChecks | None = None,
) -> int:
    """Import ``file`` into the named dataset; the exit status."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    from app.domain import datasets, test_cases
    from app.domain.datasets import NewDataset
    from app.domain.errors import InvalidInput, NotFound, ServiceError
    from app.domain.keys import OPERATOR
    from app.files import UnsupportedFile, read_records

    try:
        dataset = await datasets.get_dataset_by_name(db, OPERATOR, project_id, name)
        if kind is not None and dataset.test_case_type is not kind:
            _stderr().print(
                f"[red]{name!r} is a {dataset.test_case_type.value} dataset, not {kind.value}"
            )
            return 1
    except NotFound:
        if not create:
            _stderr().print(f"[red]No dataset named {name!r} in project {project_id}; add --create")
            return 1
        dataset = await datasets.create_dataset(
            db, OPERATOR, project_id, NewDataset(name, kind or TestCaseType.COMPLETION)
        )
        typer.echo(f"Created {dataset.test_case_type.value} dataset {name!r}")
    except ServiceError as error:
        _stderr().print(f"[red]{error.message}")
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
        console=_stderr(),
    )
    task = progress.add_task("importing", total=file.stat().st_size, rows=0)
    on_rows = lambda rows: progress.update(task, rows=rows)  # noqa: E731
    try:
        if checks is not None:
            if checks.kind is not dataset.test_case_type:
                checks.restart(dataset.test_case_type)
            with progress:
                result = await test_cases.import_checked(
                    db,
                    OPERATOR,
                    project_id,
                    dataset.id,
                    checks.kind,
                    checks.chunks(lambda n: progress.advance(task, n)),
                    on_progress=on_rows,
                )
        else:
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
                    on_progress=on_rows,
                    executor=executor,
                )
    except UnsupportedFile as error:
        _stderr().print(f"[red]{error}")
        return 1
    except InvalidInput as error:
        _stderr().print(f"[red]{file.name}: nothing imported; the dataset is unchanged. Problems:")
        for problem in error.errors or []:
            _stderr().print(f"  {_location(problem.loc)}: {problem.msg}")
        if not error.errors:
            _stderr().print(f"  {error.message}")
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
    from app.domain import datasets, test_cases
    from app.domain.errors import ServiceError
    from app.domain.keys import OPERATOR
    from app.files import write_jsonl

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
        _stderr().print(f"[red]{error.message}")
        return 1
    typer.echo(
        f"Exported {count} test cases of {name!r} (version {version or dataset.version}) to {file}"
    )
    return 0


async def run_export_results(db: Database, file: Path, run_id: str) -> int:
    from app.domain import result_export, test_runs
    from app.domain.errors import ServiceError
    from app.domain.keys import OPERATOR
    from app.files import result_lines

    fmt = file.suffix.lower().lstrip(".")
    if fmt not in ("csv", "jsonl"):
        _stderr().print(f"[red]{file.name}: use a .csv or .jsonl file")
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
        _stderr().print(f"[red]{error.message}")
        return 1
    typer.echo(f"Exported the results of test run {run.name!r} to {file}")
    return 0
