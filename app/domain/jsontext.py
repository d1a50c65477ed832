"""JSON documents move through the domain as text: serialised once on write, spliced into
responses as-is, and parsed only where a consumer asks for the value."""

from typing import Any

import orjson


class RawJSON:
    """Text that is already a valid JSON document, parsed only if someone asks for the value."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def value(self) -> Any:
        return orjson.loads(self.text)


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def loads(text: str | bytes) -> Any:
    return orjson.loads(text)


def loads_or_none(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)
