"""Connections over lists the domain pages by offset (prompt templates, criteria, models)."""

from collections.abc import Callable
from typing import TypeVar

from app.api.graphql.pagination import Connection, Edge, PageInfo, decode_int_cursor, encode_cursor
from app.domain.errors import InvalidInput
from app.domain.pagination import Page

D = TypeVar("D")
T = TypeVar("T")


def offset_after(after: str | None, kind: str) -> int:
    """The offset a page starts at: just after the item the cursor names."""
    index = decode_int_cursor(after, kind)
    if index is not None and not 0 <= index < 2**31:
        raise InvalidInput.at(("after",), "after is not a cursor of this connection")
    return 0 if index is None else index + 1


def offset_connection(
    page: Page[D], offset: int, kind: str, node: Callable[[D], T]
) -> Connection[T]:
    edges = [
        Edge(cursor=encode_cursor(kind, str(offset + n)), node=node(item))
        for n, item in enumerate(page.items)
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=offset > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=page.total,
    )
