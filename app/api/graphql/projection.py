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

from app import fast_paths

PROJECTED_TYPES = frozenset({"TestCaseConnection"})
_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF


class _Unsupported(Exception):
    """Something this path does not handle: the general executor takes over."""


Plan = Callable[[Any], Any]  # a source value in, its completed (serialised) value out


class ProjectingExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def complete_object_value(
        self,
        return_type: GraphQLObjectType,
        field_details_list: Any,
        info: GraphQLResolveInfo[Any],
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        if return_type.name in PROJECTED_TYPES:
            try:
                completed = self._object_plan(return_type, field_details_list)(result)
            except _Unsupported:
                pass
            else:
                fast_paths.used[fast_paths.GRAPHQL_PROJECTION] += 1
                return completed
        return super().complete_object_value(
            return_type, field_details_list, info, path, result, position_context
        )

    # A plan is worked out once per selection and then applied to every item, so the
    # per-item work is reading attributes and serialising leaves, nothing else.

    def _object_plan(self, object_type: GraphQLObjectType, details: Any) -> Plan:
        grouped, defer_usages, _ = self.collect_subfields(object_type, details)
        if defer_usages:
            raise _Unsupported
        fields: list[tuple[str, Plan, Plan]] = []
        for key, field_details in grouped.items():
            node = field_details[0].node
            name = node.name.value
            if name == "__typename":
                fields.append((key, _constant(object_type.name), _same))
                continue
            if node.arguments:
                raise _Unsupported
            field = object_type.fields[name]
            fields.append((key, _reader(field), self._value_plan(field.type, field_details)))

        def project(source: Any) -> dict[str, Any]:
            return {key: complete(read(source)) for key, read, complete in fields}

        return project

    def _value_plan(self, type_: GraphQLOutputType, details: Any) -> Plan:
        if isinstance(type_, GraphQLNonNull):
            inner = self._value_plan(type_.of_type, details)

            def non_null(value: Any) -> Any:
                completed = inner(value)
                if completed is None:
                    raise _Unsupported  # let the general executor report the null
                return completed

            return non_null
        if isinstance(type_, GraphQLList):
            item = self._value_plan(type_.of_type, details)
            return lambda value: None if value is None else [item(v) for v in value]
        if is_leaf_type(type_):
            serialize = type_.serialize

            def leaf(value: Any) -> Any:
                if value is None:
                    return None
                serialized = serialize(value)
                if serialized is None:
                    raise _Unsupported
                return serialized

            return leaf
        if is_abstract_type(type_):
            return self._abstract_plan(type_, details)
        if not isinstance(type_, GraphQLObjectType):
            raise _Unsupported
        project = self._object_plan(type_, details)
        return lambda value: None if value is None else project(value)

    def _abstract_plan(self, type_: GraphQLAbstractType, details: Any) -> Plan:
        by_class: dict[type, Plan] = {}  # the runtime type follows from the Python class

        def abstract(value: Any) -> Any:
            if value is None:
                return None
            project = by_class.get(value.__class__)
            if project is None:
                runtime = self._runtime_type(type_, value)
                project = by_class[value.__class__] = self._object_plan(runtime, details)
            return project(value)

        return abstract

    def _runtime_type(self, type_: GraphQLAbstractType, value: Any) -> GraphQLObjectType:
        definition = getattr(value, "__strawberry_definition__", None)
        runtime = None if definition is None else self.schema.get_type(definition.name)
        if not isinstance(runtime, GraphQLObjectType) or not self.schema.is_sub_type(
            type_, runtime
        ):
            raise _Unsupported
        return runtime


def _same(value: Any) -> Any:
    return value


def _constant(value: str) -> Plan:
    return lambda _: value


def _reader(field: Any) -> Plan:
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
    getter: Callable[[Any], Any] = function
    return getter
