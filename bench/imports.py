"""Importing a JSONL file with ``testruns import``, as a user would: the rate, for the
benchmark's realistic cases (about 1 KB of JSON each) and for small ones (about 100 bytes),
and the importer's peak memory for two file sizes (it streams, so the peak should not grow
with the file). Each import is compared with its floor (bench/import_floor.py), a process
that only parses the same file and writes the same rows, timed the same way just before it."""

import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import orjson

from bench.cases import examples
from bench.server import TESTRUNS, Server

# The command's last line: "Imported N test cases as version V of 'D' in S s (R cases/s)".
_REPORTED = re.compile(r"Imported (\d+) test cases .* in ([\d.]+) s")


@dataclass(frozen=True)
class ImportRun:
    n: int
    small: bool  # small cases instead of the realistic ones
    file_bytes: int
    seconds: float  # the import itself, as the command reports it
    wall_seconds: float  # the whole command, start-up included
    peak_rss_kb: int
    floor_seconds: float | None = None  # the floor's whole process (import_floor.py)

    @property
    def rate(self) -> float:
        return self.n / self.seconds

    @property
    def floor_ratio(self) -> float | None:
        """The whole command's time over its floor's."""
        return None if self.floor_seconds is None else self.wall_seconds / self.floor_seconds

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "small_cases": self.small,
            "file_bytes": self.file_bytes,
            "seconds": round(self.seconds, 3),
            "wall_seconds": round(self.wall_seconds, 3),
            "cases_per_second": round(self.rate),
            "peak_rss_kb": self.peak_rss_kb,
            "floor_seconds": None if self.floor_seconds is None else round(self.floor_seconds, 3),
            "vs_floor": None if self.floor_ratio is None else round(self.floor_ratio, 3),
        }


def small_examples(count: int) -> Iterator[dict[str, Any]]:
    """Cases of about 100 bytes: a question, its answer and a number."""
    for i in range(count):
        yield {
            "inputs": {"question": f"What is {i} + {i}?"},
            "output": str(2 * i),
            "metadata": {"n": i},
        }


class ImportFloor(Protocol):
    def command(self, path: Path) -> list[str]:
        """The arguments of ``python -m bench.import_floor`` for ``path``."""

    def done(self) -> None:
        """Remove what the floor wrote."""


class SqliteImportFloor:
    """The floor's process on SQLite: a fresh file beside the server's, removed after."""

    def __init__(self, server: Server, workdir: Path) -> None:
        self.server, self.db_path = server, workdir / "import-floor.db"

    def command(self, path: Path) -> list[str]:
        return ["sqlite", str(path), str(self.db_path), str(self.server.db_path)]

    def done(self) -> None:
        for file in self.db_path.parent.glob(self.db_path.name + "*"):
            file.unlink()


def floor_seconds(floor: ImportFloor, path: Path, n: int) -> float:
    """The whole floor process's time (start-up included), as the import's is measured."""
    command = [sys.executable, "-m", "bench.import_floor", *floor.command(path)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    floor.done()
    if done.returncode != 0 or done.stdout.strip() != str(n):
        raise RuntimeError(f"the import floor failed:\n{done.stdout}{done.stderr}")
    return seconds


def import_file(
    server: Server,
    project_id: str,
    workdir: Path,
    n: int,
    small: bool = False,
    floor: ImportFloor | None = None,
    repeats: int = 1,
) -> ImportRun:
    """Write ``n`` cases as JSONL and import them into a new dataset with the CLI, after its
    floor (when given) on the same file; ``repeats`` times in turn, giving the medians (and
    the largest peak): one import of a few seconds moves with whatever else the machine
    does meanwhile."""
    name = f"import-{n}-{'small' if small else 'realistic'}"
    path = workdir / f"{name}.jsonl"
    with path.open("wb") as out:
        for case in small_examples(n) if small else examples(n, seed=1):
            out.write(orjson.dumps(case) + b"\n")
    runs = []
    for repeat in range(repeats):
        floored = None if floor is None else floor_seconds(floor, path, n)
        runs.append((*_import(server, project_id, path, f"{name}-{repeat}", n), floored))
    size = path.stat().st_size
    path.unlink()
    floors = [f for *_, f in runs if f is not None]
    return ImportRun(
        n,
        small,
        size,
        statistics.median(r[0] for r in runs),
        statistics.median(r[1] for r in runs),
        max(r[2] for r in runs),
        statistics.median(floors) if floors else None,
    )


def _import(
    server: Server, project_id: str, path: Path, name: str, n: int
) -> tuple[float, float, int]:
    """One ``testruns import`` of ``path`` into a new dataset: the seconds it reports, its
    whole process's seconds and its peak RSS in kB."""
    command = [str(TESTRUNS), "import", "--project", project_id, "--dataset", name]
    started = time.perf_counter()
    process = subprocess.Popen(
        [*command, "--create", "--type", "completion", str(path)],
        env=server.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    peak = PeakRss(process.pid)
    output = process.stdout.read().decode()
    process.stdout.close()
    process.wait()
    wall = time.perf_counter() - started
    peak.stop()
    reported = _REPORTED.search(output)
    if process.returncode != 0 or reported is None or int(reported[1]) != n:
        raise RuntimeError(f"testruns import of {n} cases failed:\n{output}")
    return float(reported[2]), wall, peak.kb


class PeakRss:
    """A process's own peak RSS (VmHWM), read every few milliseconds while it runs. Not the
    rusage of wait4: exec keeps the high-water mark of the memory it replaces, and a child
    forked from this (large) process would report this process's peak instead of its own."""

    def __init__(self, pid: int) -> None:
        self.pid, self.kb, self._done = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        status = Path(f"/proc/{self.pid}/status")
        while not self._done.wait(0.005):
            try:
                text = status.read_text()
            except OSError:
                return
            found = re.search(r"^VmHWM:\s+(\d+) kB", text, re.M)
            if found is None:  # the process has exited (a zombie has no memory lines)
                return
            self.kb = max(self.kb, int(found[1]))

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
