"""The JSON scalar. Values read from the database arrive as ``RawJSON`` text and are written
into the response as they are, only when the query selects them."""

from typing import Any

import orjson
import strawberry
from strawberry.scalars import JSON
from strawberry.types.scalar import ScalarDefinition

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

SCALARS: dict[object, ScalarDefinition] = {JSON: JSON_SCALAR}


# strawberry's JSON is a NewType of object: wrapping a value in JSON() (free at run time) marks
# it as what a JSON field returns.


def raw(text: str | None) -> JSON | None:
    """Stored JSON text as the JSON scalar's value, written into the response as it is."""
    return None if text is None else JSON(RawJSON(text))


def json_or_null(value: object | None) -> JSON | None:
    return None if value is None else JSON(value)


__all__ = ["JSON", "SCALARS", "json_or_null", "raw"]
