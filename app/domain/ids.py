"""Identifiers are uuid strings in canonical form (lower case, dashed). New ones are
time-ordered (version 7, RFC 9562): rows made one after the other go in at the right edge of
their primary key's index, instead of at random places in it, so that a write touches fewer
pages. Any uuid given by a client is kept as given."""

import os
import re
import time
import uuid
from datetime import UTC, datetime


def new_id() -> str:
    return new_ids(1)[0]


def new_ids(count: int) -> list[str]:
    """``count`` new ids, in increasing order: the same millisecond, a counter in the
    version's 12 bits (``rand_a``) and 62 random bits each."""
    now_ms = time.time_ns() // 1_000_000
    raw = bytearray(os.urandom(16 * count))
    ids = []
    for n in range(count):
        start = 16 * n
        raw[start : start + 6] = (now_ms + (n >> 12)).to_bytes(6, "big")
        raw[start + 6] = 0x70 | ((n >> 8) & 0x0F)  # version 7; a counter in rand_a
        raw[start + 7] = n & 0xFF
        raw[start + 8] = (raw[start + 8] & 0x3F) | 0x80  # RFC 9562 variant
        h = raw[start : start + 16].hex()
        ids.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return ids


_CANONICAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def canonical_id(value: str) -> str | None:
    """The canonical form of a uuid given in any accepted spelling, or None if it is not one."""
    if isinstance(value, str) and _CANONICAL.fullmatch(value):
        return value  # as almost every id arrives: no need to parse it
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        return None


def utcnow() -> datetime:
    return datetime.now(UTC)
