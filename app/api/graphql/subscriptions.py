"""Subscriptions: live updates over graphql-transport-ws (WebSocket) and Server-Sent Events."""

from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing

import orjson
import strawberry
from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.http.streaming import SSETransport
from strawberry.types.unset import UNSET, UnsetType

from app.api.auth import bearer_principal
from app.api.graphql import fields
from app.api.graphql.context import Context, Info
from app.api.graphql.types.test_run import TestRun
from app.domain import live, test_runs
from app.domain.errors import ServiceError


@strawberry.type
class Subscription:
    @fields.subscription(
        description="The run now, then again whenever it changes (a result recorded, a score, "
        "its status), at most a few times a second; it ends after the run is COMPLETED."
    )
    async def test_run(self, info: Info, id: strawberry.ID) -> AsyncGenerator[TestRun, None]:
        # Checked before the first message, so a missing run or a full quota is an error
        # message rather than an update.
        updates = await live.watch_test_run(info.context.db, info.context.principal, id)
        return _graphql(updates, info.context)


async def _graphql(
    updates: AsyncGenerator[test_runs.TestRun, None], context: Context
) -> AsyncGenerator[TestRun, None]:
    async with aclosing(updates):
        async for run in updates:
            # The context lives as long as the connection: what its loaders read for the last
            # update (a summary, say) may be what changed since.
            context.writing()
            yield TestRun.of(run)


async def authenticate_connection(context: Context) -> UnsetType:
    """A WebSocket's key comes in connection_init's payload, as
    ``{"Authorization": "Bearer <api key>"}``; without a valid one the socket is closed with
    4403 (graphql-transport-ws's "Forbidden")."""
    params = context.connection_params if isinstance(context.connection_params, dict) else {}
    try:
        context.caller = await bearer_principal(context.db, params.get("Authorization"))
    except ServiceError as error:
        raise ConnectionRejectionError() from error
    accepted: UnsetType = UNSET  # strawberry types UNSET as Any
    return accepted


class SSE(SSETransport):
    """Server-Sent Events only for a client that asks for them first (a graphql-sse client,
    EventSource, ``curl -H 'Accept: text/event-stream'``). Clients such as urql list
    ``text/event-stream`` after the JSON types on every request; they get JSON."""

    def accepts(self, accept: str) -> bool:
        first = accept.split(",", 1)[0].split(";", 1)[0].strip().lower()
        return first == "text/event-stream"


class TextWebSocket(ASGIWebSocketAdapter):
    """graphql-transport-ws messages are text frames (clients reject binary ones)."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc
