"""Outermost ASGI middleware: gives each request an id and turns any exception that escaped
every handler into an ``internal_error`` answer that names the id (the log has the stack)."""

import logging
import re
import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import internal_error_response
from app.api.request_id import request_id_var

log = logging.getLogger("testruns.errors")
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        request_id = given if _ACCEPTED_ID.fullmatch(given) else secrets.token_hex(8)
        token = request_id_var.set(request_id)
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unexpected error (request id %s)", request_id)
            if started:
                raise
            response = internal_error_response(scope["path"], request_id)
            await response(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
