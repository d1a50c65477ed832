"""Live updates at scale: many WebSocket subscribers (graphql-transport-ws) to one run on one
freshly started server process, what they add to its memory, and how long one update of the
run takes to reach every one of them."""

import asyncio
import statistics
import time
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
import uvloop
from websockets.asyncio.client import ClientConnection, connect

from bench.client import Client
from bench.server import Server

WATCH = "subscription Watch($id: ID!) { testRun(id: $id) { status progress { done total } } }"
OPENING = 50  # connections opened at a time


@dataclass
class Subscribers:
    n: int
    rss_before_kb: int
    rss_after_kb: int
    latencies_ms: list[float]  # from sending a recording to each subscriber having its update
    rounds: int
    missed: int  # subscribers that did not get an update within the wait
    cpu_ms: list[float]  # the server's CPU time for each update, until all had it

    @property
    def added_mb(self) -> float:
        return (self.rss_after_kb - self.rss_before_kb) / 1024

    def percentile(self, p: float) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    @property
    def p50_ms(self) -> float | None:
        return self.percentile(50)

    @property
    def p99_ms(self) -> float | None:
        return self.percentile(99)

    def as_dict(self) -> dict[str, Any]:
        return {
            "subscribers": self.n,
            "rss_before_kb": self.rss_before_kb,
            "rss_after_kb": self.rss_after_kb,
            "added_mb": round(self.added_mb, 1),
            "rounds": self.rounds,
            "missed": self.missed,
            "server_cpu_ms_per_update": self.cpu_ms,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "mean_ms": statistics.fmean(self.latencies_ms) if self.latencies_ms else None,
        }


async def _subscribe(url: str, key: str, run_id: str) -> ClientConnection:
    """An open subscription that has received the run as it is."""
    socket = await connect(url, subprotocols=["graphql-transport-ws"], max_queue=None)  # type: ignore[list-item]
    await socket.send(
        orjson.dumps(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}
        ).decode()
    )
    ack = orjson.loads(await socket.recv())
    if ack["type"] != "connection_ack":
        raise RuntimeError(f"the server did not acknowledge the connection: {ack}")
    await socket.send(
        orjson.dumps(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": WATCH, "variables": {"id": run_id}},
            }
        ).decode()
    )
    first = orjson.loads(await socket.recv())
    if first["type"] != "next" or "errors" in first["payload"]:
        raise RuntimeError(f"the subscription failed: {first}")
    return socket


async def _next_update(socket: ClientConnection) -> float:
    """When the next update arrived (perf_counter)."""
    while True:
        message = orjson.loads(await socket.recv())
        if message["type"] == "next":
            return time.perf_counter()
        if message["type"] == "ping":
            await socket.send('{"type":"pong"}')


async def _run(
    server: Server,
    client: Client,
    key: str,
    project_id: str,
    run: dict[str, Any],
    n: int,
    rounds: int,
) -> Subscribers:
    url = f"ws://127.0.0.1:{server.port}/graphql"
    run_id = run["test_run_id"]
    cases = [c["id"] for c in run["test_cases"]]
    # Warm up: one subscriber comes and goes, so what is measured is what more of them add.
    warm = await _subscribe(url, key, run_id)
    await warm.close()
    await asyncio.sleep(0.5)
    before = server.memory_kb()["VmRSS"]
    sockets: list[ClientConnection] = []
    for start in range(0, n, OPENING):
        sockets += await asyncio.gather(
            *(_subscribe(url, key, run_id) for _ in range(start, min(n, start + OPENING)))
        )
    await asyncio.sleep(0.5)
    after = server.memory_kb()["VmRSS"]
    latencies: list[float] = []
    missed = 0
    cpu_ms: list[float] = []
    loop = asyncio.get_running_loop()
    try:
        for round_number in range(rounds):
            waiting = [asyncio.create_task(_next_update(s)) for s in sockets]
            await asyncio.sleep(0)  # every subscriber is reading before the update is sent
            cpu = server.cpu_seconds()
            sent = time.perf_counter()
            status, body = await loop.run_in_executor(
                None,
                lambda r=round_number: client.send(
                    "POST",
                    f"/api/v2/projects/{project_id}/sessions/{uuid.uuid4()}/completions",
                    orjson.dumps(
                        {
                            "messages": [{"role": "assistant", "content": f"answer {r}"}],
                            "test_run_info": {"test_run_id": run_id, "test_case_id": cases[r]},
                        }
                    ),
                ),
            )
            if status != 201:
                raise RuntimeError(f"recording answered {status}: {body[:200]!r}")
            done, pending = await asyncio.wait(waiting, timeout=30)
            cpu_ms.append(round((server.cpu_seconds() - cpu) * 1000, 1))
            latencies += [(task.result() - sent) * 1000 for task in done]
            missed += len(pending)
            for task in pending:
                task.cancel()
            await asyncio.sleep(1.0)  # past the server's coalescing interval
    finally:
        await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)
    return Subscribers(n, before, after, latencies, rounds, missed, cpu_ms)


def subscribers(server: Server, key: str, project_id: str, n: int, rounds: int) -> Subscribers:
    """``n`` subscribers to a new run on the started ``server``; ``rounds`` updates of it."""
    client = Client(server.port, key)
    try:
        status, body = client.send(
            "POST",
            f"/api/v2/projects/{project_id}/test-runs",
            orjson.dumps({"dataset_name": "cases-10"}),
        )
        if status != 201:
            raise RuntimeError(f"creating the run answered {status}: {body[:200]!r}")
        run = orjson.loads(body)
        if len(run["test_cases"]) <= rounds:
            raise RuntimeError("the run needs more cases than rounds, so it never completes")
        return uvloop.run(_run(server, client, key, project_id, run, n, rounds))
    finally:
        client.close()
