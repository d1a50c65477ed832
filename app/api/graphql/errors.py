"""GraphQL errors: every error carries ``extensions.code``; unexpected ones are masked."""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    OperationDefinitionNode,
)
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionContext
from strawberry.types.execution import StreamExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.utils.str_converters import to_camel_case

from app.api.request_info import current_request, current_request_id
from app.domain.errors import FieldError, ServiceError

Loc = tuple[str | int, ...]

log = logging.getLogger("testruns.errors")


def is_unexpected(error: GraphQLError) -> bool:
    """Errors from parsing, validation, limits and the domain are the client's to read."""
    original = error.original_error
    return original is not None and not isinstance(original, (ServiceError, GraphQLError))


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
    if isinstance(original, ServiceError):
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


@contextmanager
def relocated(rename: Callable[[Loc], Loc]) -> Iterator[None]:
    """Rewrites where a domain error says the bad field is, for a mutation whose input does
    not mirror the domain's names (e.g. ``examples`` arrive as ``completionCases``)."""
    try:
        yield
    except ServiceError as error:
        error.errors = [FieldError(rename(e.loc), e.msg) for e in error.errors]
        raise


# Domain names that a GraphQL input type spells otherwise.
_INPUT_NAMES = {
    ("CompletionTestCaseInput", "inputs"): "values",
    ("CompletionTestCasePatch", "inputs"): "values",
}


def input_loc(input_type: GraphQLInputType, loc: Loc) -> list[str | int]:
    """A domain error's location (REST's snake_case names) in the names of a mutation's
    GraphQL input: the input's fields are followed down as long as the location names them;
    what lies below (keys inside a JSON value, say) is kept as it is."""
    located: list[str | int] = []
    type_: Any = input_type
    for index, segment in enumerate(loc):
        while isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
        if isinstance(segment, int) and isinstance(type_, GraphQLList):
            located.append(segment)
            type_ = type_.of_type
            continue
        if isinstance(segment, str) and isinstance(type_, GraphQLInputObjectType):
            name = _INPUT_NAMES.get((type_.name, segment), to_camel_case(segment))
            if name in type_.fields:
                located.append(name)
                type_ = type_.fields[name].type
                continue
        located.extend(loc[index:])
        break
    return located


def _mutation_input(schema: GraphQLSchema, error: GraphQLError) -> GraphQLInputType | None:
    """The type of the ``input`` argument of the mutation an error was raised by."""
    if schema.mutation_type is None or not error.nodes or not error.path or len(error.path) != 1:
        return None
    node = error.nodes[0]
    if not isinstance(node, FieldNode):
        return None
    field = schema.mutation_type.fields.get(node.name.value)
    argument = None if field is None else field.args.get("input")
    return None if argument is None else argument.type


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

    def _process_result(self, result: object) -> None:
        # MaskErrors' own check (an isinstance of a runtime protocol) costs more than a
        # small operation's resolver; most results have no errors to look at.
        if getattr(result, "errors", None):
            super()._process_result(result)

    def on_operation(self) -> Iterator[None]:
        yield from super().on_operation()
        request = current_request()
        if request is not None:
            request.operation = operation_label(self.execution_context)
        self._add_codes(getattr(self.execution_context.result, "errors", None))

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        # Each message of a subscription is sent before the operation ends: mask and code
        # its errors before it goes out (while this hook is suspended).
        masking = super().on_stream_result(result)
        next(masking)
        self._add_codes(getattr(result, "errors", None))
        yield
        next(masking, None)

    def _add_codes(self, errors: list[GraphQLError] | None) -> None:
        for error in errors or ():
            extensions: dict[str, Any] = dict(error.extensions or {})
            extensions.setdefault("code", _code(error))
            original = error.original_error
            if isinstance(original, ServiceError) and original.errors:
                extensions["fields"] = self._fields(error, original)
            error.extensions = extensions

    def _fields(self, error: GraphQLError, original: ServiceError) -> list[dict[str, Any]]:
        context = self.execution_context
        input_type = (
            _mutation_input(context.schema._schema, error)
            if context.operation_type is OperationType.MUTATION
            else None
        )
        if input_type is None:
            return [e.as_dict() for e in original.errors]
        return [{"loc": input_loc(input_type, e.loc), "msg": e.msg} for e in original.errors]
