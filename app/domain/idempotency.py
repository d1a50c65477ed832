"""Idempotency keys (the IETF httpapi Idempotency-Key draft), for creating test runs.

The key is claimed in the same transaction that does the work, so the first request with a
key commits the key and what it made together, or neither. A repeat with the same request
gets what the first made; a concurrent repeat waits for the first (on PostgreSQL for its
row, on SQLite for the write lock) and then gets the same. The same key with a different
request is refused. Keys belong to the API key that sent them and expire after a while.
"""

import hashlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.tables import IdempotencyKey
from app.domain.errors import IdempotencyKeyReused, InvalidInput
from app.domain.jsontext import dumps
from app.domain.keys import Principal

MAX_KEY = 255


def normalize_key(key: str) -> str:
    """The key as sent, without the quotes of the draft's structured-field form."""
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not key.strip() or len(key) > MAX_KEY or not key.isprintable():
        raise InvalidInput.at(
            ("Idempotency-Key",), f"an idempotency key is 1 to {MAX_KEY} printable characters"
        )
    return key


def fingerprint(request: Any) -> str:
    return hashlib.sha256(dumps(request).encode()).hexdigest()


async def claim(
    conn: AsyncConnection,
    principal: Principal,
    key: str,
    request: Any,
    ttl_seconds: int,
    now: datetime,
) -> str | None:
    """Claim ``key`` for ``request`` in this write transaction. None when the key is new
    (do the work, then ``remember`` it); otherwise the id of what the first request made."""
    digest = fingerprint(request)
    mine = (IdempotencyKey.api_key_id == principal.key_id, IdempotencyKey.key == key)
    await conn.execute(delete(IdempotencyKey).where(*mine, IdempotencyKey.expires_at <= now))
    insert = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(IdempotencyKey)
    inserted = await conn.execute(
        insert.values(
            api_key_id=principal.key_id,
            key=key,
            fingerprint=digest,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_seconds),
        ).on_conflict_do_nothing()
    )
    if inserted.rowcount == 1:
        return None
    earlier = (
        await conn.execute(
            select(IdempotencyKey.fingerprint, IdempotencyKey.resource_id).where(*mine)
        )
    ).one()
    if earlier.fingerprint != digest:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used with a different request; use a new key"
        )
    resource_id: str | None = earlier.resource_id
    return resource_id


async def remember(conn: AsyncConnection, principal: Principal, key: str, resource_id: str) -> None:
    await conn.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.api_key_id == principal.key_id, IdempotencyKey.key == key)
        .values(resource_id=resource_id)
    )
