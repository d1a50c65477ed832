"""Identifiers are uuid4 strings in canonical form (lower case, dashed)."""

import os
import re
import time
import uuid
from datetime import UTC, datetime


def new_id() -> str:
    return str(uuid.uuid4())


def new_ids(count: int) -> list[str]:
    """``count`` time-ordered ids (uuid version 7, RFC 9562), in increasing order.

    Test cases are made in bulk; ids that increase with time go in at the right edge of an
    index instead of at random places in it, which makes large imports markedly faster.
    """
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
