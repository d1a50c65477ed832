"""Importing a JSONL file with ``testruns import``, as a user would: the rate, and the
importer's peak memory for two file sizes (it streams, so the peak should not grow with the
file)."""

import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bench.cases import examples
from bench.server import TESTRUNS, Server

# The command's last line: "Imported N test cases as version V of 'D' in S s (R cases/s)".
_REPORTED = re.compile(r"Imported (\d+) test cases .* in ([\d.]+) s")


@dataclass(frozen=True)
class ImportRun:
    n: int
    file_bytes: int
    seconds: float  # the import itself, as the command reports it
    wall_seconds: float  # the whole command, start-up included
    peak_rss_kb: int

    @property
    def rate(self) -> float:
        return self.n / self.seconds

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "file_bytes": self.file_bytes,
            "seconds": round(self.seconds, 3),
            "wall_seconds": round(self.wall_seconds, 3),
            "cases_per_second": round(self.rate),
            "peak_rss_kb": self.peak_rss_kb,
        }


def import_file(server: Server, project_id: str, workdir: Path, n: int) -> ImportRun:
    """Write ``n`` cases as JSONL and import them into a new dataset with the CLI."""
    path = workdir / f"import-{n}.jsonl"
    with path.open("wb") as out:
        for case in examples(n, seed=1):
            out.write(orjson.dumps(case) + b"\n")
    command = [str(TESTRUNS), "import", "--project", project_id, "--dataset", f"import-{n}"]
    started = time.perf_counter()
    process = subprocess.Popen(
        [*command, "--create", "--type", "completion", str(path)],
        env=server.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    output = process.stdout.read().decode()
    process.stdout.close()
    _, status, usage = os.wait4(process.pid, 0)  # the child's own peak RSS
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    reported = _REPORTED.search(output)
    if process.returncode != 0 or reported is None or int(reported[1]) != n:
        raise RuntimeError(f"testruns import of {n} cases failed:\n{output}")
    size = path.stat().st_size
    path.unlink()
    return ImportRun(n, size, float(reported[2]), wall, usage.ru_maxrss)
