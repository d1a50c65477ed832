"""``--profile``: py-spy samples the server while the small requests and the concurrency load
run, and the report says where its time went (inclusive share of the samples per function)."""

import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PY_SPY = Path(sys.executable).parent / "py-spy"


@contextmanager
def profiled(pid: int | None, path: Path) -> Iterator[None]:
    """Sample ``pid`` (when given) into ``path``, py-spy's raw format: one collapsed stack a
    line, then its sample count."""
    if pid is None:
        yield
        return
    command = ["record", "--pid", str(pid), "--format", "raw", "--nolineno", "--rate", "250"]
    spy = subprocess.Popen(
        [str(PY_SPY), *command, "--output", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        _, errors = spy.communicate(timeout=60)
        if not path.exists():
            raise RuntimeError(f"py-spy wrote no profile: {errors.decode(errors='replace')}")


def summary(path: Path, top: int = 40) -> str:
    """The functions that most samples were in (anywhere on the stack), in % of all samples."""
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        for frame in set(stack.split(";")):
            inclusive[frame] += samples
    lines = [f"Profile of the server: {total:,} samples; inclusive share per function"]
    for frame, samples in inclusive.most_common(top):
        lines.append(f"  {samples / total * 100:5.1f}%  {frame}")
    return "\n".join(lines)
