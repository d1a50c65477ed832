"""The busiest routes, called without FastAPI's request handling (a fast path; see
docs/DESIGN.md, "Fast paths and their fences").

Creating and listing test runs over REST, and an operation POSTed to /graphql, are what SDKs
and frontends send all day; their answers are small, and most of a request's time went to
FastAPI's generic work around the endpoint: matching the path against every route, solving
dependencies, reading and validating the body, serialising the answer. Here, for those
routes only, this middleware does that work itself in a few lines and calls the very same
endpoint functions, so what is answered is decided in one place.

It serves only the plain case and passes anything else to the app unchanged, with the body
it read handed on as it came: a body the endpoint's model refuses, a query parameter or
header it does not read itself, another content type. The app then answers as it always
does, its errors included. What the endpoints raise is rendered by the app's own exception
handlers. Each request it serves counts ``fast_paths.DIRECT_ROUTE``.
"""

import re
from collections.abc import Awaitable, Callable

from cross_web import HTTPException as GraphQLHTTPException
from fastapi import APIRouter
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.background import BackgroundTasks
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import fast_paths
from app.api import errors
from app.api.auth import bearer_principal, database, settings
from app.api.graphql.context import get_context
from app.api.graphql.media import is_json
from app.api.graphql.schema import Router
from app.api.rest import test_runs
from app.api.rest.models import MAX_INT, CreateTestRunRequest
from app.domain.test_runs import TestRunStatus
from app.errors import ServiceError

_RUNS_PATH = re.compile(r"/api/v2/projects/([^/]+)/test-runs")
_POSITIVE_INT = re.compile(r"[1-9][0-9]{0,18}")

Handler = Callable[[Request, dict[str, str]], Awaitable[Response | None]]


class _Unserved(Exception):
    """What the request asks is not the plain case: the app answers it."""


class DirectRoutes:
    """ASGI middleware in front of the app's router (inside the request-id, body-limit and
    access-log middleware, so those see every request the same way)."""

    def __init__(self, app: ASGIApp, graphql: Router) -> None:
        self.app = app
        self.graphql_router = graphql
        # The routes as the app has them: what the access log and metrics name a request by.
        self.create_route = _route(test_runs.router, "POST", "/test-runs")
        self.list_route = _route(test_runs.router, "GET", "/test-runs")
        self.graphql_route = _route(graphql, "POST", "/graphql")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = _route_path(scope), scope["method"]
        handler: Handler | None = None
        path_params: dict[str, str] = {}
        if path == "/graphql" and method == "POST":
            handler, route = self._graphql, self.graphql_route
        elif (found := _RUNS_PATH.fullmatch(path)) is not None and method in ("GET", "POST"):
            path_params = {"project_id": found[1]}
            if method == "POST":
                handler, route = self._create_run, self.create_route
            else:
                handler, route = self._list_runs, self.list_route
        if handler is None:
            await self.app(scope, receive, send)
            return
        # As the router would set them: the middleware outside names the request by its
        # route's template (logs, metrics), whatever happens next.
        scope["route"], scope["path_params"] = route, path_params
        # What the handler reads of the body is kept, to be given again to the app if the
        # request turns out not to be the plain case.
        received: list[Message] = []

        async def receive_kept() -> Message:
            message = await receive()
            received.append(message)
            return message

        request = Request(scope, receive_kept)
        try:
            response = await handler(request, path_params) if _acceptable(request) else None
        except ClientDisconnect:
            return
        except _Unserved:
            response = None
        except ServiceError as error:
            response = await errors.on_service_error(request, error)
        except HTTPException as error:
            response = await errors.on_http_exception(request, error)
        if response is None:
            await self.app(scope, _replaying(received, receive), send)
            return
        fast_paths.used[fast_paths.DIRECT_ROUTE] += 1
        await response(scope, receive, send)

    async def _create_run(self, request: Request, path_params: dict[str, str]) -> Response | None:
        if request.scope["query_string"] or "idempotency-key" in request.headers:
            return None
        try:
            body = CreateTestRunRequest.model_validate_json(await request.body())
        except ValidationError:
            return None  # the app answers, with its own account of what is wrong
        db = await database(request)
        caller = await bearer_principal(db, request.headers.get("authorization"))
        return await test_runs.create_test_run(
            path_params["project_id"], body, None, db=db, caller=caller
        )

    async def _list_runs(self, request: Request, path_params: dict[str, str]) -> Response | None:
        query = request.query_params
        if len(query.multi_items()) != len(query) or not query.keys() <= _LIST_PARAMS:
            return None
        page, page_size = _positive_int(query.get("page", "1")), query.get("page_size")
        status = query.get("status")
        if status is not None and status not in _STATUSES:
            return None
        db = await database(request)
        caller = await bearer_principal(db, request.headers.get("authorization"))
        return await test_runs.list_test_runs(
            path_params["project_id"],
            page,
            None if page_size is None else _positive_int(page_size),
            query.get("dataset_id"),
            None if status is None else TestRunStatus(status),
            db=db,
            config=await settings(request),
            caller=caller,
        )

    async def _graphql(self, request: Request, path_params: dict[str, str]) -> Response | None:
        # What Strawberry's FastAPI router does around its `run` for a POST (its context
        # getter and `handle_http_post`), without FastAPI solving its dependencies.
        context = await get_context(request)
        sub_response = Response()
        del sub_response.headers["content-length"]
        sub_response.status_code = None  # type: ignore[assignment]  # as FastAPI makes it
        context.request, context.response = request, sub_response
        context.background_tasks = tasks = BackgroundTasks()
        router = self.graphql_router
        router.temporal_response = sub_response
        try:
            response = await router.run(request=request, context=context, root_value=None)
        except GraphQLHTTPException as error:
            response = PlainTextResponse(error.reason, status_code=error.status_code)
        if response.background is None:
            response.background = tasks
        return response


_LIST_PARAMS = frozenset({"page", "page_size", "dataset_id", "status"})
_STATUSES = frozenset(s.value for s in TestRunStatus)


def _positive_int(text: str) -> int:
    if _POSITIVE_INT.fullmatch(text) is None or int(text) > MAX_INT:
        raise _Unserved
    return int(text)


def _acceptable(request: Request) -> bool:
    """A body, when there is one, is declared JSON (FastAPI reads others differently)."""
    if request.method != "POST":
        return True
    return is_json(request.headers.get("content-type"))


def _route(router: APIRouter, method: str, path: str) -> APIRoute:
    return next(
        r
        for r in router.routes
        if isinstance(r, APIRoute)
        and r.path == router.prefix + path
        and method in (r.methods or ())
    )


def _route_path(scope: Scope) -> str:
    """The path as routes see it: without the prefix the app is served under (as Starlette
    matches)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _replaying(received: list[Message], receive: Receive) -> Receive:
    """``receive`` giving what was already received first, again."""
    kept = iter(received)

    async def replay() -> Message:
        return next(kept, None) or await receive()

    return replay
