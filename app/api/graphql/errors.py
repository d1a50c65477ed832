"""GraphQL errors: every error carries ``extensions.code``; unexpected ones are masked."""

import logging
from collections.abc import Iterator
from typing import Any

from graphql import FieldNode, GraphQLError, OperationDefinitionNode
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionContext
from strawberry.types.execution import StreamExecutionResult

from app.api.request_info import current_request, current_request_id
from app.domain.errors import DomainError

log = logging.getLogger("testruns.errors")


def is_unexpected(error: GraphQLError) -> bool:
    """Errors from parsing, validation, limits and the domain are the client's to read."""
    original = error.original_error
    return original is not None and not isinstance(original, (DomainError, GraphQLError))


# Strawberry's limit extensions report through graphql-core's validation and parser errors;
# their messages tell which limit it was.
_LIMITS = (
    ("exceeds maximum operation depth", "QUERY_TOO_DEEP"),
    ("aliases found. Allowed", "TOO_MANY_ALIASES"),
    ("Document contains more than", "QUERY_TOO_LARGE"),
    ("introspection has been disabled", "INTROSPECTION_DISABLED"),
)


def _code(error: GraphQLError) -> str:
    original = error.original_error
    if isinstance(original, DomainError):
        return original.code.upper()
    if error.path is None:
        for fragment, code in _LIMITS:
            if fragment in error.message:
                return code
        return "GRAPHQL_VALIDATION_FAILED"
    return "INVALID_INPUT"


def operation_label(context: ExecutionContext) -> str:
    """e.g. "mutation createTestRun": the operation's type and name (or its root fields)."""
    document = context.graphql_document
    for definition in document.definitions if document else ():
        if isinstance(definition, OperationDefinitionNode):
            name = (
                definition.name.value
                if definition.name
                else ",".join(
                    s.name.value
                    for s in definition.selection_set.selections
                    if isinstance(s, FieldNode)
                )
            )
            return f"{definition.operation.value} {name}"
    return "unparsed"


def log_unexpected(errors: list[GraphQLError]) -> None:
    for error in errors:
        if is_unexpected(error):
            log.error(
                "unexpected error in GraphQL resolver %s (request id %s)",
                ".".join(str(p) for p in error.path or ()),
                current_request_id(),
                exc_info=error.original_error,
            )


class ErrorCodes(MaskErrors):
    """MaskErrors that hides only unexpected exceptions (leaving the request id to quote) and
    gives every error a stable ``extensions.code``."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request_id = current_request_id()
        return GraphQLError(
            message=f"internal error; quote request id {request_id} when reporting it",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL_ERROR", "requestId": request_id},
        )

    def on_operation(self) -> Iterator[None]:
        yield from super().on_operation()
        request = current_request()
        if request is not None:
            request.operation = operation_label(self.execution_context)
        _add_codes(getattr(self.execution_context.result, "errors", None))

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        # Each message of a subscription is sent before the operation ends: mask and code
        # its errors before it goes out (while this hook is suspended).
        masking = super().on_stream_result(result)
        next(masking)
        _add_codes(getattr(result, "errors", None))
        yield
        next(masking, None)


def _add_codes(errors: list[GraphQLError] | None) -> None:
    for error in errors or ():
        extensions: dict[str, Any] = dict(error.extensions or {})
        extensions.setdefault("code", _code(error))
        original = error.original_error
        if isinstance(original, DomainError) and original.errors:
            extensions["fields"] = [e.as_dict() for e in original.errors]
        error.extensions = extensions
