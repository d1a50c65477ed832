"""Keyset pages: a page is the rows after a key, never an OFFSET scan."""

from dataclasses import dataclass
from typing import Generic, TypeVar

from app.domain.errors import InvalidInput
from app.settings import Settings

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    has_next: bool
    total: int
    has_previous: bool = False


def page_limit(requested: int | None, settings: Settings, name: str = "first") -> int:
    """The page size to use: the default when none is asked for, an error above the maximum."""
    if requested is None:
        return settings.default_page_size
    if requested < 0 or requested > settings.max_page_size:
        raise InvalidInput.at(
            (name,), f"{name} must be between 0 and {settings.max_page_size}; got {requested}"
        )
    return requested


def split_page(rows: list[T], limit: int, total: int) -> Page[T]:
    """``rows`` were fetched with ``limit + 1`` to learn whether another page follows."""
    return Page(items=rows[:limit], has_next=len(rows) > limit, total=total)
