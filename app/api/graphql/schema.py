"""The GraphQL schema. ``schema.graphql`` at the repository root is its exported SDL.

Limits come from the settings; extensions are passed as classes or factories, so every
operation gets its own instances (an extension instance holds per-operation state).
"""

from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from functools import partial
from typing import Any

import orjson
import strawberry
from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from graphql import DocumentNode, GraphQLError
from graphql.validation import ValidationRule
from strawberry.extensions import DisableIntrospection, SchemaExtension
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import IgnoreContext
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.config import BatchingConfig, StrawberryConfig
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionContext
from strawberry.types.unset import UnsetType

from app import fast_paths
from app.api.graphql.context import Context, get_context
from app.api.graphql.errors import ErrorCodes, log_unexpected
from app.api.graphql.http import GraphQLOverHTTP
from app.api.graphql.mutations import Mutation
from app.api.graphql.projection import ProjectingExecutionContext
from app.api.graphql.queries import Query
from app.api.graphql.scalars import SCALARS
from app.api.graphql.subscriptions import (
    SSE,
    Subscription,
    TextWebSocket,
    authenticate_connection,
)
from app.settings import Settings

IdePage = Callable[[Request], Awaitable[HTMLResponse]]


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Errors a client caused are answered, not logged; only the unexpected have a stack.
        log_unexpected(errors)


class KnownQueries(SchemaExtension):
    """Parses and validates a query text once: clients send the same few queries again and
    again, and whether a text is valid depends only on the text and the schema's rules.
    Only texts that passed are kept; anything else goes through every check each time."""

    def __init__(self, known: dict[str, DocumentNode]) -> None:
        self.known = known
        self.document: DocumentNode | None = None

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        self.document = self.known.get(context.query or "")
        if self.document is not None:
            context.graphql_document = self.document
            fast_paths.used[fast_paths.QUERY_CACHE] += 1
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if self.document is not None:
            context.pre_execution_errors = []  # strawberry then skips validation
        yield
        parsed = context.graphql_document
        if (
            self.document is None
            and context.pre_execution_errors == []
            and context.query
            and parsed is not None
        ):
            if len(self.known) >= KNOWN_QUERIES:
                del self.known[next(iter(self.known))]  # the oldest
            self.known[context.query] = parsed


KNOWN_QUERIES = 512  # query texts kept parsed and validated, per process


class Limits(SchemaExtension):
    """The settings' limits on a document: at most so many tokens (parsing stops there), so
    deep and so many aliases (validation rules). What Strawberry's MaxTokensLimiter,
    QueryDepthLimiter and MaxAliasesLimiter do, in one hook, with the rules made once per
    schema rather than per operation (most operations are not even parsed, see
    KnownQueries)."""

    def __init__(self, max_tokens: int, rules: tuple[type[ValidationRule], ...]) -> None:
        self.max_tokens = max_tokens
        self.rules = rules

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.max_tokens
        context.validation_rules = (*context.validation_rules, *self.rules)
        yield


def _introspection_field(context: IgnoreContext) -> bool:
    # GraphiQL's own introspection query is deep; it is not what the depth limit is for.
    return context.field_name.startswith("__")


def build_schema(settings: Settings | None = None, *, projection: bool | None = None) -> Schema:
    """The schema with the settings' limits and fast paths; ``projection`` overrides
    ``fast_graphql_projection`` (the fast path for pages of test cases)."""
    settings = settings or Settings()
    if projection is None:
        projection = settings.fast_graphql_projection
    extensions: list[Any] = [partial(KnownQueries, {})] if settings.fast_query_cache else []
    extensions += [
        ErrorCodes,
        partial(
            Limits,
            settings.graphql_max_tokens,
            (
                depth_rule(settings.graphql_max_depth, _introspection_field),
                aliases_rule(settings.graphql_max_aliases),
            ),
        ),
    ]
    if not settings.graphql_introspection:
        extensions.append(DisableIntrospection)
    batching = (
        BatchingConfig(max_operations=settings.graphql_max_batch)
        if settings.graphql_max_batch
        else None
    )
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(
            scalar_map=SCALARS,
            disable_field_suggestions=not settings.graphql_introspection,
            batching_config=batching,
        ),
        extensions=extensions,
        execution_context_class=ProjectingExecutionContext if projection else None,
    )


# The schema with default settings: what `testruns export-schema` writes (limits do not
# change the SDL).
schema = build_schema(Settings())


class Router(GraphQLOverHTTP):
    websocket_adapter_class = TextWebSocket
    stream_transport_classes_by_protocol = {GRAPHQL_SSE_PROTOCOL: SSE}

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def on_ws_connect(self, context: Context) -> UnsetType:
        return await authenticate_connection(context)

    # The page of ``GET /graphql`` in a browser; the app sets it (app.api.web's GraphiQL).
    ide_page: IdePage | None = None
    # Where Strawberry's FastAPI router keeps a request's sub-response (set per request by
    # its POST handler, and by app.api.direct_routes).
    temporal_response: Response

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        if self.ide_page is None:
            raise HTTPException(404, "no GraphQL IDE is served here")
        return await self.ide_page(request)


def graphql_router(settings: Settings, ide_page: IdePage | None = None) -> Router:
    """The /graphql endpoint; ``ide_page`` answers a browser's ``GET /graphql``."""
    router = Router(
        build_schema(settings),
        path="/graphql",
        context_getter=get_context,
        allow_queries_via_get=True,  # mutations over GET are refused (405)
        include_in_schema=False,  # GraphQL documents itself (schema.graphql, introspection)
        # Subscriptions: graphql-transport-ws on a WebSocket, and Server-Sent Events
        # (graphql-sse's distinct connections mode) on a request that accepts them.
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_SSE_PROTOCOL),
        connection_init_wait_timeout=timedelta(seconds=settings.subscription_init_timeout_seconds),
    )
    router.ide_page = ide_page
    return router
