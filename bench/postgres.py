"""PostgreSQL for the benchmark: a throwaway server (as scripts/lib/postgres.sh starts one for
the tests: initdb into a temporary directory, durability off, a free port, removed at the end)
and the read floor measured on it.

The floor is the least work any server must do to answer a REST test run of N cases on
PostgreSQL: asyncpg fetches the same rows with the same query the server uses
(app/domain/datasets.py, read_cases), JSONB as its text (asyncpg's own codec), and orjson
serialises one body with the keys of the REST answer, splicing the stored JSON texts in
unparsed (bench/floor.py does the same on SQLite).
"""

import asyncio
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import asyncpg
import orjson

from bench.cases import DatasetInfo
from bench.floor import Floor, _case
from bench.server import Server, free_port

QUERY = (
    "SELECT id, position, inputs, output, output_message, history, metadata, media_inputs "
    "FROM test_cases WHERE dataset_id = $1 AND valid_from <= $2 "
    "AND (valid_to IS NULL OR valid_to > $2) ORDER BY position"
)


def _bindir() -> Path:
    initdb = shutil.which("initdb")
    if initdb:
        return Path(os.path.realpath(initdb)).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if not found:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found")
    return Path(found[-1])


class PostgresServer:
    """A PostgreSQL server in a temporary directory, for one benchmark run."""

    def __init__(self) -> None:
        self.bin = _bindir()
        self.dir = Path(tempfile.mkdtemp(prefix="testruns-bench-pg-"))
        self.port = free_port()
        self.as_user: list[str] = []
        if os.getuid() == 0:  # PostgreSQL refuses to run as root
            user = "postgres"
            try:
                pwd.getpwnam(user)
            except KeyError:
                user = "nobody"
            shutil.chown(self.dir, user)
            self.as_user = ["runuser", "-u", user, "--"]
        self.started = False

    def _run(self, *command: str) -> None:
        done = subprocess.run([*self.as_user, *command], capture_output=True, text=True)
        if done.returncode != 0:
            log = self.dir / "server.log"
            extra = log.read_text() if log.exists() else ""
            raise RuntimeError(f"{command[0]} failed:\n{done.stdout}{done.stderr}{extra}")

    def start(self) -> None:
        data = str(self.dir / "data")
        self._run(
            str(self.bin / "initdb"), "-D", data, "-U", "testruns", "--auth=trust", "-E", "UTF8",
            "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        # Durability settings are off, as for the tests: this server lives for one run.
        options = (
            f"-k {self.dir} -p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", data, "-l", str(self.dir / "server.log"), "-w",
            "-t", "60", "start", "-o", options,
        )  # fmt: skip
        self.started = True

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database (a copy of ``template`` when given); its SQLAlchemy URL."""
        args = ["-T", template] if template else []
        self._run(
            str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "testruns",
            *args, name,
        )  # fmt: skip
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self._run(
            str(self.bin / "dropdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "testruns",
            "--if-exists", name,
        )  # fmt: skip

    def url(self, name: str) -> str:
        return f"postgresql+asyncpg://testruns@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.started:
            subprocess.run(
                [*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"),
                 "-m", "immediate", "-w", "stop"],
                capture_output=True, check=False,
            )  # fmt: skip
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)


def dsn(url: str) -> str:
    """asyncpg's form of a SQLAlchemy URL."""
    return url.replace("postgresql+asyncpg://", "postgresql://")


class PostgresFloor(Floor):
    """The read floor on PostgreSQL."""

    def __init__(self, url: str) -> None:  # not super().__init__: that opens a SQLite file
        self.loop = asyncio.new_event_loop()
        self.conn = self.loop.run_until_complete(self._connect(url))

    @staticmethod
    async def _connect(url: str) -> asyncpg.Connection:
        return await asyncpg.connect(dsn(url))  # JSONB as its text: asyncpg's own codec

    def respond(self, dataset: DatasetInfo) -> bytes:
        version = dataset.version
        rows = self.loop.run_until_complete(self.conn.fetch(QUERY, dataset.id, version))
        return orjson.dumps(
            {
                "test_run_id": str(uuid.uuid4()),
                "test_run_name": f"{dataset.name} 2025-01-01 00:00:00",
                "test_run_description": "",
                "test_cases": [_case(str(row[0]), *row[1:]) for row in rows],
                "trace_test_cases": None,
            }
        )

    def close(self) -> None:
        self.loop.run_until_complete(self.conn.close())
        self.loop.close()


class PostgresImportFloor:
    """The import floor's process on PostgreSQL: each time a fresh database, copied from a
    template migrated as the server's is and holding one empty dataset, dropped after."""

    def __init__(self, server: PostgresServer, workdir: Path) -> None:
        self.server, self.count, self.name = server, 0, ""
        url = server.create_database("floor_template")
        template = Server(workdir, database_url=url)
        project_id, _ = template.setup()
        one = workdir / "one.jsonl"
        one.write_text('{"inputs": {}}\n')
        template.command(
            "import", "--project", project_id, "--dataset", "floor", "--create", str(one)
        )
        self.dataset_id = asyncio.run(self._empty(url))

    @staticmethod
    async def _empty(url: str) -> str:
        conn = await asyncpg.connect(dsn(url))
        dataset_id = str(await conn.fetchval("SELECT id FROM datasets WHERE name = 'floor'"))
        await conn.execute("DELETE FROM test_cases")
        await conn.close()
        return dataset_id

    def command(self, path: Path) -> list[str]:
        self.count += 1
        self.name = f"floor_{self.count}"
        url = self.server.create_database(self.name, template="floor_template")
        return ["postgres", str(path), dsn(url), self.dataset_id]

    def done(self) -> None:
        self.server.drop_database(self.name)
