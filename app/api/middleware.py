"""Outermost ASGI middleware: the request id, the limits on a request body, the access log,
and a last resort for exceptions that escaped every handler."""

import asyncio
import logging
import re
import secrets
import time
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import metrics
from app.api.errors import internal_error_response, problem
from app.api.request_info import RequestInfo, end_request, start_request
from app.settings import Settings

log = logging.getLogger("testruns.errors")
access_log = logging.getLogger("testruns.access")
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.max_body = settings.max_body_bytes
        self.body_timeout = settings.body_timeout_seconds
        self.metrics = settings.metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        info = RequestInfo(given if _ACCEPTED_ID.fullmatch(given) else secrets.token_hex(8))
        token = start_request(info)
        started_at = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", info.request_id.encode()),
                ]
            await send(message)

        received = 0
        body_done = False

        async def limited_receive() -> Message:
            # The body is read with a deadline and a size cap; going over either ends the
            # request with 408 or 413 instead of holding a connection or memory hostage.
            # Once the body is in, later reads (waiting for a disconnect) are left alone.
            nonlocal received, body_done
            if body_done:
                return await receive()
            try:
                async with asyncio.timeout(self.body_timeout):
                    message = await receive()
            except TimeoutError:
                raise HTTPException(408, "the request body arrived too slowly") from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise HTTPException(413, self._too_large())
                body_done = not message.get("more_body", False)
            return message

        try:
            declared = headers.get(b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > self.max_body:
                await problem(413, "payload_too_large", "Payload too large", self._too_large())(
                    scope, receive, send_with_id
                )
            else:
                await self.app(scope, limited_receive, send_with_id)
        except Exception:
            log.exception("unexpected error (request id %s)", info.request_id)
            if response_started:
                raise
            accept = headers.get(b"accept", b"").decode("latin-1")
            await internal_error_response(scope["path"], info.request_id, accept)(
                scope, receive, send_with_id
            )
        finally:
            seconds = time.perf_counter() - started_at
            template = _route_template(scope)
            self._log(scope, info, template or scope["path"], status, seconds)
            if self.metrics:
                # By route template, never the raw path: one series per route, not per id.
                metrics.observe_request(scope["method"], template or "unmatched", status, seconds)
            end_request(token)

    def _too_large(self) -> str:
        return f"the request body is larger than {self.max_body} bytes"

    @staticmethod
    def _log(scope: Scope, info: RequestInfo, route: str, status: int, seconds: float) -> None:
        if not access_log.isEnabledFor(logging.INFO):
            return  # e.g. `testruns serve --log-level warning`: no line, so nothing to build
        fields: dict[str, Any] = {
            "request_id": info.request_id,
            "method": scope["method"],
            "route": route,
            "project": scope.get("path_params", {}).get("project_id"),
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
        }
        if info.operation is not None:
            fields["operation"] = info.operation
        access_log.info(orjson.dumps(fields).decode())


def _route_template(scope: Scope) -> str | None:
    """The path template of the route that answered (``/vendor/{path}`` for a mounted app's
    files), or None when no route matched."""
    route = scope.get("route")
    if route is not None:
        path: str = route.path
        return path
    if "app_root_path" in scope:  # set by a Mount on the way to its app
        return f"{scope['root_path'][len(scope['app_root_path']) :]}/{{path}}"
    return None
