"""The GraphQL schema. ``schema.graphql`` at the repository root is its exported SDL."""

from typing import Any

import orjson
import strawberry
from fastapi import Request
from fastapi.responses import HTMLResponse
from graphql import GraphQLError
from strawberry.fastapi import GraphQLRouter
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from app.api.graphql.context import get_context
from app.api.graphql.errors import ErrorCodes, log_unexpected
from app.api.graphql.mutations import Mutation
from app.api.graphql.queries import Query
from app.api.graphql.scalars import SCALARS
from app.api.web import graphiql_page


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Errors a client caused are answered, not logged; only the unexpected have a stack.
        log_unexpected(errors)


schema = Schema(
    query=Query,
    mutation=Mutation,
    config=StrawberryConfig(scalar_map=SCALARS),
    extensions=[ErrorCodes],
)


class Router(GraphQLRouter[Any, None]):
    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return await graphiql_page(request)


def graphql_router() -> Router:
    return Router(
        schema,
        path="/graphql",
        context_getter=get_context,
        allow_queries_via_get=False,
        include_in_schema=False,  # the REST docs (/docs, /redoc) list REST routes only
    )
