"""GraphQL over HTTP, as the GraphQL-over-HTTP spec has it (graphql-http's audits check it).

- ``POST`` with an ``application/json`` body (another content type is 415); queries also
  over ``GET`` (``?query=&variables=&operationName=&extensions=``), mutations over ``GET``
  are 405. A ``GET`` without an operation from a browser is GraphiQL's page.
- ``Accept: application/graphql-response+json`` is answered in that media type, and a
  request that could not be executed (a document that does not parse or validate, variables
  that do not fit) is a 400 without a ``data`` entry. ``application/json``, ``*/*`` or no
  ``Accept`` are answered as before: 200 with ``errors``.
- Every error body is JSON in GraphQL's shape, with ``extensions.code``.
"""

from types import NoneType
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.http.parse_content_type import parse_content_type
from strawberry.http.typevars import Context, RootValue
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from app.api.errors import HTTP_CODES, graphql_error
from app.api.graphql.media import GRAPHQL_RESPONSE_JSON, JSON, response_media_type


def is_request_error(result: ExecutionResult) -> bool:
    """The operation did not run: its document did not parse or validate, or its variables
    did not fit. (Errors of fields that ran have a path.)"""
    return (
        result.data is None and bool(result.errors) and all(e.path is None for e in result.errors)
    )


class GraphQLOverHTTP(GraphQLRouter[Any, None]):
    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A persisted query over GET has no `query` parameter but is an operation all the same.
        return (
            super().should_render_graphql_ide(request)
            and request.query_params.get("extensions") is None
        )

    async def run(  # type: ignore[override]
        self,
        request: Request,
        context: Context = UNSET,
        root_value: RootValue | None = UNSET,
    ) -> Response:
        if self.is_websocket_request(request):
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
        if request.method == "POST":
            content_type, _ = parse_content_type(request.content_type or "")
            if content_type != JSON:
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

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: RootValue | None,
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
