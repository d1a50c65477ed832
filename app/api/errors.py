"""Errors as clients see them: RFC 9457 problem+json on REST, GraphQL-shaped on /graphql."""

from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from app.api.graphql.media import GRAPHQL_RESPONSE_JSON, JSON, response_media_type
from app.errors import FieldError, ServiceError

PROBLEM_JSON = "application/problem+json"


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": f"urn:testruns:error:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = [e.as_dict() for e in errors]
    return Response(orjson.dumps(body), status, headers=headers, media_type=PROBLEM_JSON)


def graphql_error(
    status: int,
    code: str,
    message: str,
    media_type: str = JSON,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A GraphQL request that was not executed. Under the GraphQL-over-HTTP media type such
    an answer has no ``data`` entry; ``application/json`` answers keep ``"data": null``."""
    body: dict[str, Any] = {"errors": [{"message": message, "extensions": {"code": code.upper()}}]}
    if media_type != GRAPHQL_RESPONSE_JSON:
        body = {"data": None, **body}
    return Response(orjson.dumps(body), status, headers=headers, media_type=media_type)


def _is_graphql(request: Request) -> bool:
    return request.url.path.startswith("/graphql")


def _media_type(request: Request) -> str:
    return response_media_type(request.headers.get("accept"))


# Every error code of the domain and the database: its HTTP status and problem title. The
# only place a code meets HTTP; GraphQL answers that were not executed use the same status.
STATUSES: dict[str, tuple[int, str]] = {
    "error": (400, "Bad request"),
    "malformed_request": (400, "Malformed request"),
    "persisted_query_hash_mismatch": (400, "Persisted query hash mismatch"),
    "unauthenticated": (401, "Unauthenticated"),
    "forbidden": (403, "Forbidden"),
    "document_not_trusted": (403, "Document not trusted"),
    "not_found": (404, "Not found"),
    "persisted_query_not_found": (404, "Persisted query not found"),
    "conflict": (409, "Conflict"),
    "payload_too_large": (413, "Payload too large"),
    "invalid_input": (422, "Invalid input"),
    "missing_variables": (422, "Missing variables"),
    "idempotency_key_reused": (422, "Idempotency key reused"),
    "rate_limited": (429, "Too many requests"),
    "too_many_subscriptions": (429, "Too many subscriptions"),
    "service_unavailable": (503, "Service unavailable"),
}
# How long a client should wait before retrying a 503.
RETRY_AFTER_SECONDS = 1


def http_status(error: ServiceError) -> tuple[int, str]:
    """The status and title of an error: its code's, else the nearest parent class's."""
    for cls in type(error).__mro__:
        found = STATUSES.get(getattr(cls, "code", ""))
        if found is not None:
            return found
    return STATUSES["error"]


async def on_service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    status, title = http_status(exc)
    headers = None
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    elif status == 503:
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if _is_graphql(request):
        return graphql_error(status, exc.code, exc.message, _media_type(request), headers)
    return problem(status, exc.code, title, exc.message, exc.errors, headers)


def _loc(loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    return tuple(part for part in loc if part not in ("body", "query", "path"))


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    details = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in details):
        return problem(400, "malformed_request", "Malformed request", "the body is not valid JSON")
    content_type = request.headers.get("content-type", "application/json").lower()
    if "json" not in content_type and any(e.get("loc", ())[:1] == ("body",) for e in details):
        return problem(
            415,
            "unsupported_media_type",
            "Unsupported media type",
            "send the body as JSON with 'Content-Type: application/json'",
        )
    errors = [FieldError(_loc(tuple(e.get("loc", ()))), str(e.get("msg", ""))) for e in details]
    first = errors[0] if errors else FieldError((), "invalid request")
    where = ".".join(str(p) for p in first.loc) or "request"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return problem(422, "invalid_input", "Invalid input", f"{where}: {first.msg}{more}", errors)


HTTP_CODES = {
    400: "malformed_request",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


async def on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "http_error")
    if _is_graphql(request):
        return graphql_error(
            exc.status_code, code, str(exc.detail), _media_type(request), exc.headers
        )
    title = code.replace("_", " ").capitalize()
    return problem(exc.status_code, code, title, str(exc.detail), headers=exc.headers)


def internal_error_response(path: str, request_id: str, accept: str | None = None) -> Response:
    message = f"internal error; quote request id {request_id} when reporting it"
    if path.startswith("/graphql"):
        return graphql_error(500, "internal_error", message, response_media_type(accept))
    return problem(500, "internal_error", "Internal error", message)


def install(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, on_service_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_exception)
