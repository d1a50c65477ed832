"""Helpers for tests: a client bound to one project and key, and sample test cases."""

import asyncio
import json
import os
import subprocess
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg
import httpx

from app.db.tables import Base

if TYPE_CHECKING:
    from fastapi import FastAPI

T = TypeVar("T")


def run_sync(work: Callable[[], Awaitable[T]]) -> T:
    """Run async work to completion from sync code, even while a test's loop exists."""
    result: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(work()))  # type: ignore[arg-type]
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


def reset_postgres(url: str, *, drop_schema: bool = False) -> None:
    """Empty every table (or drop everything) in the PostgreSQL test database."""
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)

    async def work() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            if drop_schema:
                await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            else:
                await conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        finally:
            await conn.close()

    run_sync(work)


class Api:
    """An HTTP client for one project, authenticated with that project's key."""

    def __init__(self, client: httpx.AsyncClient, key: str, project_id: str) -> None:
        self.client = client
        self.key = key
        self.project_id = project_id
        self.headers = {"Authorization": f"Bearer {key}"}

    def url(self, path: str) -> str:
        return f"/api/v2/projects/{self.project_id}{path}"

    async def post(
        self, path: str, json: Any = None, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        return await self.client.post(
            self.url(path), json=json, headers={**self.headers, **(headers or {})}, **kwargs
        )

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(self.url(path), headers=self.headers, **kwargs)

    async def graphql_response(
        self, query: str, variables: dict[str, Any] | None = None
    ) -> httpx.Response:
        return await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=self.headers
        )

    async def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The body of a GraphQL answer (``data`` and perhaps ``errors``)."""
        response = await self.graphql_response(query, variables)
        assert response.status_code == 200, response.text
        return response.json()

    async def create_dataset(self, name: str, kind: str = "completion") -> dict[str, Any]:
        path = "/prompt-datasets" if kind == "completion" else "/agent-datasets"
        response = await self.post(path, {"name": name})
        assert response.status_code == 201, response.text
        return response.json()

    async def add_cases(self, dataset_id: str, examples: list[dict[str, Any]]) -> dict[str, Any]:
        response = await self.post(f"/datasets/id/{dataset_id}/test-cases", {"examples": examples})
        assert response.status_code == 201, response.text
        return response.json()

    async def dataset_with_cases(
        self, name: str, examples: list[dict[str, Any]], kind: str = "completion"
    ) -> dict[str, Any]:
        dataset = await self.create_dataset(name, kind)
        await self.add_cases(dataset["id"], examples)
        return dataset

    async def create_run(self, dataset_name: str, **body: Any) -> httpx.Response:
        return await self.post("/test-runs", {"dataset_name": dataset_name, **body})


@asynccontextmanager
async def asgi_client(app: "FastAPI") -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``app`` over ASGI; the app's database is closed at the end."""
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client:
            yield client
    finally:
        await app.state.db.dispose()


@asynccontextmanager
async def served_by(app: "FastAPI", api: Api) -> AsyncIterator[Api]:
    """``api``'s project and key, over ASGI to another app (made with other settings); the
    app's database is closed at the end."""
    async with asgi_client(app) as client:
        yield Api(client, api.key, api.project_id)


def message(role: str, text: str) -> dict[str, Any]:
    return {"role": role, "content": [{"type": "text", "text": text}]}


def completion_example(i: int) -> dict[str, Any]:
    """A completion case as the Freeplay SDK sends it, every key present."""
    return {
        "inputs": {"question": f"question {i}", "n": i},
        "output": f"answer {i}",
        "output_message": message("assistant", f"answer {i}"),
        "history": [message("user", f"earlier {i}"), message("assistant", f"reply {i}")],
        "metadata": {"index": i, "tag": "even" if i % 2 == 0 else "odd"},
        "media_inputs": None,
    }


def trace_example(i: int) -> dict[str, Any]:
    return {
        "input": {"task": f"task {i}", "steps": [i, i + 1]},
        "output": {"result": f"done {i}"},
        "custom_metadata": {"index": i},
    }


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status and our stable error code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"]
    assert body["detail"]
    return body


class TcpProxy:
    """A loopback TCP proxy that can be switched off, to play a database that goes away.

    While off it refuses new connections and cuts open ones, as a stopped server does.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.enabled = True
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.StreamWriter] = set()

    async def start(self) -> "TcpProxy":
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        self.disable()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def disable(self) -> None:
        self.enabled = False
        for writer in list(self._pipes):
            writer.transport.abort()
        self._pipes.clear()

    def enable(self) -> None:
        self.enabled = True

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.enabled:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._pipes.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except OSError:
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


def create_postgres_database(url: str, name: str) -> str:
    """A new, empty database on the server of ``url``; returns its URL."""
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")

    async def work() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    run_sync(work)
    return url.rsplit("/", 1)[0] + "/" + name


def drop_postgres_database(url: str, name: str) -> None:
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")

    async def work() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    run_sync(work)


RECORD = """mutation($input: RecordTestCaseResultInput!) { recordTestCaseResult(input: $input) {
  result { id repetition output evalResults scores { source name value evaluationId }
           testCase { ... on CompletionTestCase { id: testCaseId } ... on TraceTestCase { id: testCaseId } } }
  testRun { status progress { done total } } } }"""


async def create_evaluation(
    api: Api, name: str, kind: str, source: str = "auto", **more: Any
) -> dict[str, Any]:
    response = await api.post(
        "/evaluations", {"name": name, "kind": kind, "source": source, **more}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def record(api: Api, run_id: str, case_id: str, **fields: Any) -> dict[str, Any]:
    """Record a result over GraphQL; the whole answer (data and errors)."""
    return await api.graphql(
        RECORD, {"input": {"testRunId": run_id, "testCaseId": case_id, **fields}}
    )


NODE_SCRIPTS = Path(__file__).resolve().parent.parent / "web" / "tests"


def run_node(
    script: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> Any:
    """Run ``web/tests/<script>`` with Node.js (the clients pinned in web/package-lock.json)
    and return the JSON its last line of output prints. Fails the test on a non-zero exit."""
    completed = subprocess.run(
        ["node", str(NODE_SCRIPTS / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert completed.returncode == 0, (
        f"{script} exited {completed.returncode}\n{completed.stdout[-4000:]}\n{completed.stderr[-4000:]}"
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])
