"""Slow clients are cut off by the server instead of holding a connection forever."""

import asyncio
import socket

import orjson


async def test_a_client_that_sends_its_body_too_slowly_gets_408(live_url_factory) -> None:  # type: ignore[no-untyped-def]
    url = live_url_factory(body_timeout_seconds=0.5)
    host, port = url.removeprefix("http://").split(":")

    def slow_request() -> bytes:
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(
                b"POST /api/v2/projects/x/prompt-datasets HTTP/1.1\r\nHost: t\r\n"
                b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"na'
            )
            return sock.recv(65536)

    answer = await asyncio.to_thread(slow_request)

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408")
    assert orjson.loads(body)["code"] == "request_timeout"
