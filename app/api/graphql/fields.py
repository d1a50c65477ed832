"""Strawberry's field, mutation and subscription decorators, for resolvers with a description.

``strawberry.field(description=...)`` is typed as returning ``Any`` (strawberry issue #1929),
which would leave every resolver it decorates untyped. Given the resolver itself, strawberry's
decorators are typed; these pass it, so ``@field(description=...)`` is checked like
``@strawberry.field``.
"""

from collections.abc import Callable

import strawberry
from strawberry.types.field import StrawberryField

Resolver = Callable[..., object]


def field(*, description: str) -> Callable[[Resolver], StrawberryField]:
    def decorate(resolver: Resolver) -> StrawberryField:
        return strawberry.field(resolver, description=description)

    return decorate


def mutation(*, description: str) -> Callable[[Resolver], StrawberryField]:
    def decorate(resolver: Resolver) -> StrawberryField:
        return strawberry.mutation(resolver, description=description)

    return decorate


def subscription(*, description: str) -> Callable[[Resolver], StrawberryField]:
    def decorate(resolver: Resolver) -> StrawberryField:
        return strawberry.subscription(resolver, description=description)

    return decorate
