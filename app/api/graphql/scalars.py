"""The JSON scalar. Values read from the database arrive as ``RawJSON`` text and are written
into the response as they are, only when the query selects them."""

from typing import Any

import orjson
import strawberry
from strawberry.scalars import JSON

from app.domain.jsontext import RawJSON


def _serialize(value: Any) -> Any:
    # Stored JSON goes into the response as it is: orjson (the response encoder) splices a
    # Fragment in without the document ever being parsed.
    return orjson.Fragment(value.text) if isinstance(value, RawJSON) else value


JSON_SCALAR = strawberry.scalar(
    name="JSON",
    description="Any JSON value: object, array, string, number, boolean or null.",
    serialize=_serialize,
    parse_value=lambda value: value,
)

SCALARS = {JSON: JSON_SCALAR}


def raw(text: str | None) -> RawJSON | None:
    return None if text is None else RawJSON(text)


__all__ = ["JSON", "SCALARS", "raw"]
