"""Real `testruns serve` processes on loopback ports, for tests of how the server runs."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

TESTRUNS = str(Path(sys.executable).parent / "testruns")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        assert process.poll() is None, f"the server exited with {process.returncode}"
        try:
            if httpx.get(f"{url}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{url} did not start"
        time.sleep(0.1)


@contextmanager
def serving(
    env: dict[str, str], cwd: Path, *args: str, testruns: str = TESTRUNS
) -> Iterator[tuple[subprocess.Popen, str]]:
    """A started server (the process and its base URL), stopped at the end if still running."""
    port = free_port()
    process = subprocess.Popen(
        [testruns, "serve", "--port", str(port), "--log-level", "warning", *args],
        cwd=cwd,
        env={**os.environ, **env},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        yield process, url
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=60)
