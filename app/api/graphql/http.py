"""GraphQL over HTTP, as the GraphQL-over-HTTP spec has it (graphql-http's audits check it).

- ``POST`` with an ``application/json`` body (another content type is 415); queries also
  over ``GET`` (``?query=&variables=&operationName=&extensions=``), mutations over ``GET``
  are 405. A ``GET`` without an operation from a browser is GraphiQL's page.
- ``Accept: application/graphql-response+json`` is answered in that media type, and a
  request that could not be executed (a document that does not parse or validate, variables
  that do not fit) is a 400 without a ``data`` entry. ``application/json``, ``*/*`` or no
  ``Accept`` are answered as before: 200 with ``errors``.
- Every error body is JSON in GraphQL's shape, with ``extensions.code``.
- Persisted queries (``extensions.persistedQuery.sha256Hash``, Apollo's protocol) over GET
  and POST, and trusted documents only when the settings say so: the rules are in
  ``app.domain.persisted_queries``; here they are read from the request and applied.
"""

import contextlib
import re
from types import NoneType
from typing import Any, overload

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.websockets import WebSocket
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from app.api.errors import HTTP_CODES, graphql_error
from app.api.graphql.context import Context as RequestContext
from app.api.graphql.media import GRAPHQL_RESPONSE_JSON, JSON, is_json, response_media_type
from app.db.errors import Unavailable
from app.domain import persisted_queries

_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def is_request_error(result: ExecutionResult) -> bool:
    """The operation did not run: its document did not parse or validate, or its variables
    did not fit. (Errors of fields that ran have a path.)"""
    return (
        result.data is None
        and bool(result.errors)
        and all(e.path is None for e in result.errors or ())
    )


def persisted_query_hash(extensions: dict[str, Any] | None) -> str | None:
    """The hash of ``extensions.persistedQuery``, or None when the request has none."""
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return None
    sha256 = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
    if (
        not isinstance(sha256, str)
        or not _SHA256.fullmatch(sha256)
        or persisted.get("version", 1) != 1
    ):
        raise HTTPException(
            400,
            'extensions.persistedQuery must be {"version": 1, "sha256Hash": "<SHA-256 in hex>"}',
        )
    return sha256


class GraphQLOverHTTP(GraphQLRouter[Any, None]):
    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A persisted query over GET has no `query` parameter but is an operation all the same.
        return (
            super().should_render_graphql_ide(request)
            and request.query_params.get("extensions") is None
        )

    @overload
    async def run(
        self, request: Request, context: RequestContext = UNSET, root_value: None = UNSET
    ) -> Response: ...

    @overload
    async def run(
        self, request: WebSocket, context: RequestContext = UNSET, root_value: None = UNSET
    ) -> WebSocket: ...

    async def run(
        self,
        request: Request | WebSocket,
        context: RequestContext = UNSET,
        root_value: None = UNSET,
    ) -> Response | WebSocket:
        if isinstance(request, WebSocket):
            return await super().run(request, context, root_value)
        media_type = response_media_type(request.headers.get("accept"))
        request.state.request_errors = []
        try:
            response = await super().run(request, context, root_value)
        except HTTPException as error:
            headers = {"Allow": "POST"} if error.status_code == 405 else None
            code = HTTP_CODES.get(error.status_code, "http_error")
            return graphql_error(error.status_code, code, error.reason, media_type, headers)
        if isinstance(response, StreamingResponse) or response.headers.get("content-type") != JSON:
            return response  # GraphiQL's page, a stream
        if media_type == GRAPHQL_RESPONSE_JSON:
            response.headers["content-type"] = GRAPHQL_RESPONSE_JSON
            if request.state.request_errors == [True]:  # one operation (not a batch), not run
                response.status_code = 400
        return response

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request.method == "POST" and not is_json(request.content_type):
            raise HTTPException(
                415, "send the operation as JSON with 'Content-Type: application/json'"
            )
        try:
            parsed = await super().parse_http_body(request)
        except AttributeError:  # JSON, but not an object (or a list of them)
            raise HTTPException(400, "the request body must be a JSON object") from None
        for data in parsed if isinstance(parsed, list) else [parsed]:
            if not isinstance(data.operation_name, (str, NoneType)):
                raise HTTPException(
                    400, "The GraphQL operation's `operationName` must be a string or null."
                )
        return parsed

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: RequestContext,
        root_value: None,
        sub_response: Response,
    ) -> Any:
        operations = request_data if isinstance(request_data, list) else [request_data]
        settings = context.settings
        resolved = []
        for operation in operations:
            found = await persisted_queries.resolve(
                context.db,
                query=operation.query,
                sha256=persisted_query_hash(operation.extensions),
                trusted_only=settings.graphql_trusted_documents_only,
            )
            if found is not None:
                operation.query = found.document
            resolved.append(found)
        result = await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )
        results = result if isinstance(result, list) else [result]
        for found, outcome in zip(resolved, results, strict=False):
            if (
                found is not None
                and found.remember
                and found.sha256
                and isinstance(outcome, ExecutionResult)
                and not is_request_error(outcome)
            ):
                # Remembering is a courtesy: the operation has run, whatever happens here.
                with contextlib.suppress(Unavailable):
                    await persisted_queries.remember(
                        context.db,
                        found.sha256,
                        found.document,
                        limit=settings.graphql_persisted_queries_max,
                    )
        return result

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: RequestContext,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        try:
            return await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except HTTPException as error:
            if request_adapter.method == "GET" and isinstance(
                error.__cause__, InvalidOperationTypeError
            ):
                raise HTTPException(
                    405, "only queries may be sent with GET; send mutations with POST"
                ) from error
            raise

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        processed = await super().process_result(request, result)
        not_run = is_request_error(result)
        request.state.request_errors.append(not_run)
        if not_run and response_media_type(request.headers.get("accept")) == GRAPHQL_RESPONSE_JSON:
            processed.pop("data", None)
        return processed
