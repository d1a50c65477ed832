"""Relay-style connections with opaque keyset cursors."""

import base64
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry

from app.domain.errors import InvalidInput
from app.domain.pagination import Page, Window, page_limit
from app.settings import Settings

T = TypeVar("T")
D = TypeVar("D")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(name="Edge")
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(name="Connection")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int


def encode_cursor(kind: str, key: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, kind: str, name: str = "after") -> str | None:
    """The key inside a cursor of ``kind`` (given as argument ``name``); InvalidInput for
    anything else."""
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        text = ""
    prefix, _, key = text.partition(":")
    if prefix != kind or not key:
        raise not_a_cursor(name)
    return key


def not_a_cursor(name: str) -> InvalidInput:
    return InvalidInput.at((name,), f"{name} is not a cursor of this connection")


def decode_int_cursor(cursor: str | None, kind: str, name: str = "after") -> int | None:
    key = decode_cursor(cursor, kind, name)
    if key is None:
        return None
    try:
        return int(key)
    except ValueError:
        raise not_a_cursor(name) from None


K = TypeVar("K")


def window(
    settings: Settings, first: int | None, after: K | None, last: int | None, before: K | None
) -> Window[K]:
    """The keyset window Relay's connection arguments ask for (cursors already decoded into
    keys): ``first`` items after ``after``, or the ``last`` items before ``before``, a page
    backwards (also when only ``before`` is given)."""
    if first is not None and last is not None:
        raise InvalidInput.at(("last",), "give first or last, not both")
    if last is not None or (before is not None and first is None):
        return Window(page_limit(last, settings, "last"), after, before, backward=True)
    return Window(page_limit(first, settings), after, before)


class _LazyEdge:
    """An edge whose cursor is only encoded if the query asks for it."""

    __slots__ = ("_cursor", "_item", "node")

    def __init__(self, item: Any, cursor: Callable[[Any], str], node: Any) -> None:
        self._item = item
        self._cursor = cursor
        self.node = node

    @property
    def cursor(self) -> str:
        return self._cursor(self._item)


def connection(page: Page[D], cursor: Callable[[D], str], node: Callable[[D], T]) -> Connection[T]:
    """The connection of one page of domain items."""
    edges: list[Any] = [_LazyEdge(item, cursor, node(item)) for item in page.items]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=cursor(page.items[0]) if page.items else None,
            end_cursor=cursor(page.items[-1]) if page.items else None,
        ),
        total_count=page.total,
    )
