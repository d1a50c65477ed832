"""Keyset pages: a page is the rows after a key, never an OFFSET scan."""

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from app.domain.errors import InvalidInput
from app.settings import Settings

T = TypeVar("T")
K = TypeVar("K")


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


@dataclass(frozen=True)
class Window(Generic[K]):
    """Which keyset page to read: the first ``limit`` items after the key ``after``, or with
    ``backward`` the last ``limit`` items before the key ``before`` (the end of the list when
    there is none). Items are read in the list's order, or in reverse when ``backward``,
    ``limit + 1`` of them, to learn whether more lie beyond the page."""

    limit: int
    after: K | None = None
    before: K | None = None
    backward: bool = False

    def page(self, rows: list[Any], total: int) -> Page[Any]:
        """The page of rows read as described above, in the list's order."""
        more = len(rows) > self.limit
        items = rows[: self.limit]
        if self.backward:
            return Page(
                items=items[::-1],
                has_next=self.before is not None,
                total=total,
                has_previous=more or self.after is not None,
            )
        return Page(
            items=items,
            has_next=more or self.before is not None,
            total=total,
            has_previous=self.after is not None,
        )
