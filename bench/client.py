"""A keep-alive HTTP client: bytes in, bytes out; JSON is parsed only where asked."""

import http.client
import time
from typing import Any

import orjson

# The server closes a connection idle for 5 s (uvicorn's keep-alive timeout); like a pooling
# client, reconnect instead of sending on a connection that may be closed under us.
IDLE_SECONDS = 4.0


class ApiError(RuntimeError):
    pass


class Client:
    """One keep-alive connection to the server, authenticated with an API key."""

    def __init__(self, port: int, key: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        self.used = time.monotonic()

    def send(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """The status and the whole body."""
        if time.monotonic() - self.used > IDLE_SECONDS:
            self.conn.close()  # the next request opens a new connection
        self.conn.request(method, path, body=body, headers=self.headers)
        response = self.conn.getresponse()
        data = response.read()
        self.used = time.monotonic()
        return response.status, data

    def call(self, method: str, path: str, body: bytes | None, expect: int) -> bytes:
        status, data = self.send(method, path, body)
        if status != expect:
            raise ApiError(f"{method} {path} answered {status}: {data[:500]!r}")
        return data

    def json(self, method: str, path: str, payload: Any = None, expect: int = 200) -> Any:
        body = None if payload is None else orjson.dumps(payload)
        return orjson.loads(self.call(method, path, body, expect))

    def graphql(self, query: str, variables: dict[str, Any]) -> Any:
        """The ``data`` of a GraphQL answer; ApiError if it has errors."""
        answer = orjson.loads(self.call("POST", "/graphql", graphql_body(query, variables), 200))
        if answer.get("errors"):
            raise ApiError(f"GraphQL errors: {answer['errors']}")
        return answer["data"]

    def close(self) -> None:
        self.conn.close()


def graphql_body(query: str, variables: dict[str, Any]) -> bytes:
    return orjson.dumps({"query": query, "variables": variables})
