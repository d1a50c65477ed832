"""Which media type a GraphQL answer is written in, from the request's ``Accept`` header.

The GraphQL-over-HTTP spec's ``application/graphql-response+json`` when the client asks for
it at least as much as for ``application/json``; ``application/json`` otherwise, also for
``*/*`` or no ``Accept`` at all (what clients that predate the spec understand).
"""

import re

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
_JSON_CONTENT = re.compile(r"application/json\s*(;.*)?", re.IGNORECASE | re.DOTALL)


def is_json(content_type: str | None) -> bool:
    """A ``Content-Type`` of JSON, with or without parameters (a charset)."""
    return content_type is not None and _JSON_CONTENT.fullmatch(content_type.strip()) is not None


def response_media_type(accept: str | None) -> str:
    wanted = {GRAPHQL_RESPONSE_JSON: 0.0, JSON: 0.0}
    for part in (accept or "").split(","):
        media, *parameters = part.split(";")
        media = media.strip().lower()
        if media not in wanted:
            continue
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        wanted[media] = max(wanted[media], quality)
    new = wanted[GRAPHQL_RESPONSE_JSON]
    return GRAPHQL_RESPONSE_JSON if new > 0 and new >= wanted[JSON] else JSON
