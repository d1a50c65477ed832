"""The real server as production runs it: ``testruns serve`` (uvicorn, uvloop, httptools) on
its own SQLite file or a PostgreSQL database, set up through the ``testruns`` command."""

import http.client
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

TESTRUNS = Path(".venv/bin/testruns")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """The server on its SQLite file in ``workdir``, or on ``database_url`` (PostgreSQL)."""

    def __init__(self, workdir: Path, database_url: str | None = None) -> None:
        self.db_path = workdir / "bench.db"
        self.log_path = workdir / "server.log"
        self.database_url = database_url or f"sqlite+aiosqlite:///{self.db_path}"
        self.env = {
            **os.environ,
            "TESTRUNS_DATABASE_URL": self.database_url,
            "TESTRUNS_DATA_DIR": str(workdir / "data"),
            # The live-update benchmark holds many subscriptions with its one key.
            "TESTRUNS_SUBSCRIPTIONS_PER_KEY": "100000",
        }
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    def command(self, *args: str) -> str:
        """Run ``testruns ARGS``; the last line it printed (where ids and keys are shown)."""
        done = subprocess.run(
            [str(TESTRUNS), *args], env=self.env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"testruns {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        lines = done.stdout.strip().splitlines()
        return lines[-1] if lines else ""

    def setup(self) -> tuple[str, str]:
        """Migrate the database, create the project and its key: (project id, key)."""
        self.command("db", "upgrade")
        project_id = self.command("projects", "create", "bench")
        return project_id, self.command("keys", "create", "--project", project_id)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, workers: int = 1) -> None:
        self.port = free_port()
        extra = ["--workers", str(workers)] if workers > 1 else []
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(TESTRUNS),
                    "serve",
                    "--port",
                    str(self.port),
                    "--log-level",
                    "warning",
                    *extra,
                ],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited:\n{self.log_path.read_text()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not answer /healthz:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def memory_kb(self) -> dict[str, int]:
        """VmHWM (the lifetime peak resident size) and VmRSS of the server process, in kB."""
        fields = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmHWM", "VmRSS"):
                fields[name] = int(value.split()[0])
        return fields

    def cpu_seconds(self) -> float:
        """CPU time (user and system) the server process has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def owns_listening_socket(self) -> bool:
        """Whether the process we started is the one holding the listening socket, i.e. the
        app is served in that process and not in a child whose memory we would miss."""
        inodes = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                port = int(fields[1].rsplit(":", 1)[1], 16)
                if port == self.port and fields[3] == "0A":  # 0A: LISTEN
                    inodes.add(fields[9])
        fd_dir = Path(f"/proc/{self.pid}/fd")
        held = set()
        for fd in fd_dir.iterdir():
            try:
                held.add(os.readlink(fd))
            except OSError:
                continue
        return bool(inodes) and all(f"socket:[{inode}]" in held for inode in inodes)
