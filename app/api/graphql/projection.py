"""A fast path for pages of test cases: the selected fields are projected straight out of the
objects, without a resolver call per field.

graphql-core resolves every field of every item through a resolver, with an info object
each time: for a page of 1,000 cases that is the whole cost of a request. Below a
``TestCaseConnection`` every field is a plain attribute (or a method without arguments), so
completing the subtree needs no resolvers: fields are collected by graphql-core itself
(fragments, aliases, ``@skip``/``@include`` all as usual), values are read off the objects
and leaves are serialised by their types, exactly as the general executor would. Anything
this path does not know (a field with arguments, an async resolver, ``@defer``) makes it give
the subtree back to the general executor, which then completes it as it always does.
"""

import inspect
import operator
from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLAbstractType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    is_abstract_type,
    is_leaf_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

PROJECTED_TYPES = frozenset({"TestCaseConnection"})
_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF


class _Unsupported(Exception):
    """Something this path does not handle: the general executor takes over."""


class ProjectingExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def complete_object_value(
        self,
        return_type: GraphQLObjectType,
        field_details_list: Any,
        info: GraphQLResolveInfo,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        if return_type.name in PROJECTED_TYPES:
            try:
                return self._object(return_type, field_details_list, result)
            except _Unsupported:
                pass
        return super().complete_object_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _object(self, object_type: GraphQLObjectType, details: Any, source: Any) -> dict[str, Any]:
        grouped, defer_usages, _ = self.collect_subfields(object_type, details)
        if defer_usages:
            raise _Unsupported
        completed: dict[str, Any] = {}
        for key, field_details in grouped.items():
            node = field_details[0].node
            name = node.name.value
            if name == "__typename":
                completed[key] = object_type.name
                continue
            if node.arguments:
                raise _Unsupported
            field = object_type.fields[name]
            completed[key] = self._value(field.type, field_details, _read(field, source))
        return completed

    def _value(self, type_: GraphQLOutputType, details: Any, value: Any) -> Any:
        if isinstance(type_, GraphQLNonNull):
            completed = self._value(type_.of_type, details, value)
            if completed is None:
                raise _Unsupported  # let the general executor report the null
            return completed
        if value is None:
            return None
        if isinstance(type_, GraphQLList):
            return [self._value(type_.of_type, details, item) for item in value]
        if is_leaf_type(type_):
            serialized = type_.serialize(value)  # type: ignore[union-attr]
            if serialized is None:
                raise _Unsupported
            return serialized
        if is_abstract_type(type_):
            return self._object(self._runtime_type(type_, value), details, value)  # type: ignore[arg-type]
        return self._object(type_, details, value)  # type: ignore[arg-type]

    def _runtime_type(self, type_: GraphQLAbstractType, value: Any) -> GraphQLObjectType:
        definition = getattr(value, "__strawberry_definition__", None)
        runtime = None if definition is None else self.schema.get_type(definition.name)
        if not isinstance(runtime, GraphQLObjectType) or not self.schema.is_sub_type(
            type_, runtime
        ):
            raise _Unsupported
        return runtime


_readers: dict[int, Callable[[Any], Any]] = {}


def _read(field: Any, source: Any) -> Any:
    reader = _readers.get(id(field))  # fields live as long as the schema; keyed by identity
    if reader is None:
        reader = _readers[id(field)] = _reader(field)
    return reader(source)


def _reader(field: Any) -> Callable[[Any], Any]:
    """How to read a field off an object: its attribute, or its method called without
    arguments; anything else is not this path's to resolve."""
    definition = field.extensions.get(_BACKREF)
    if definition is None:
        raise _Unsupported
    resolver = definition.base_resolver
    if resolver is None:
        return operator.attrgetter(definition.python_name)
    function = resolver.wrapped_func
    if (
        definition.arguments
        or inspect.iscoroutinefunction(function)
        or list(inspect.signature(function).parameters) != ["self"]
    ):
        raise _Unsupported
    return function
