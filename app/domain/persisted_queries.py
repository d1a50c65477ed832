"""Persisted GraphQL documents, known by the SHA-256 of their text and kept in the database,
so that every replica knows what any of them was told.

Automatic persisted queries (Apollo's protocol): a client sends a document's hash alone; when
it is not known (``PersistedQueryNotFound``) the client sends the hash with the text, which is
remembered once it has run. At most ``limit`` of these are kept; the least recently used are
forgotten first (a forgotten one is simply sent again).

Trusted documents: registered in advance by the operator, never forgotten. A server that
accepts trusted documents only runs nothing else, whether named by hash or sent as text.
"""

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.engine import Database
from app.db.tables import PersistedQuery
from app.domain.errors import DocumentNotTrusted, PersistedQueryHashMismatch, PersistedQueryNotFound

# Longer documents run but are not remembered: a client sends them whole each time.
MAX_REMEMBERED_CHARS = 100_000
# last_used_at is refreshed at most this often, so reads do not each become a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def sha256_of(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


@dataclass(frozen=True)
class Resolved:
    """The document a request runs, and whether to remember it once it has run."""

    document: str
    sha256: str | None = None
    remember: bool = False


async def resolve(
    db: Database,
    *,
    query: str | None,
    sha256: str | None,
    trusted_only: bool,
) -> Resolved | None:
    """What to run for a request with this text and/or hash (None when it has neither)."""
    sha256 = sha256.lower() if sha256 else None
    if query is not None and sha256 is not None and sha256_of(query) != sha256:
        raise PersistedQueryHashMismatch(
            "the SHA-256 of the query is not extensions.persistedQuery.sha256Hash"
        )
    if trusted_only:
        if query is None and sha256 is None:
            return None
        digest = sha256 or sha256_of(query or "")
        document = await _find(db, digest, trusted_only=True)
        if document is None:
            raise DocumentNotTrusted(
                "this server runs only documents registered in advance "
                "(`testruns graphql register`); this one is not"
            )
        return Resolved(document, digest)
    if sha256 is None:
        return None if query is None else Resolved(query)
    if query is not None:
        return Resolved(query, sha256, remember=True)
    document = await _find(db, sha256, trusted_only=False)
    if document is None:
        # The protocol's own message, which clients match (with extensions.code).
        raise PersistedQueryNotFound("PersistedQueryNotFound")
    return Resolved(document, sha256)


async def _find(db: Database, sha256: str, *, trusted_only: bool) -> str | None:
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(
                    PersistedQuery.document, PersistedQuery.trusted, PersistedQuery.last_used_at
                ).where(PersistedQuery.sha256 == sha256)
            )
        ).one_or_none()
    if row is None or (trusted_only and not row.trusted):
        return None
    now = db.clock()
    if now - row.last_used_at > LAST_USED_RESOLUTION:
        async with db.write() as conn:
            await conn.execute(
                update(PersistedQuery)
                .where(PersistedQuery.sha256 == sha256)
                .values(last_used_at=now)
            )
    document: str = row.document
    return document


def _insert(conn: AsyncConnection) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(PersistedQuery)


async def remember(db: Database, sha256: str, document: str, *, limit: int) -> None:
    """Keep a document that has run under its hash, forgetting the least recently used
    automatic documents beyond ``limit``."""
    if len(document) > MAX_REMEMBERED_CHARS or sha256_of(document) != sha256:
        return
    now = db.clock()
    async with db.write() as conn:
        inserted = await conn.execute(
            _insert(conn)
            .values(
                sha256=sha256, document=document, trusted=False, created_at=now, last_used_at=now
            )
            .on_conflict_do_nothing()
        )
        if inserted.rowcount != 1:
            return
        beyond = (
            select(PersistedQuery.sha256)
            .where(PersistedQuery.trusted.is_(False))
            .order_by(PersistedQuery.last_used_at.desc(), PersistedQuery.sha256)
            .offset(limit)
        )
        await conn.execute(delete(PersistedQuery).where(PersistedQuery.sha256.in_(beyond)))


async def register(db: Database, documents: list[str]) -> list[str]:
    """Register documents as trusted (all or none); their hashes, in the same order."""
    now = db.clock()
    hashes = [sha256_of(document) for document in documents]
    async with db.write() as conn:
        for sha256, document in zip(hashes, documents, strict=True):
            statement = _insert(conn).values(
                sha256=sha256, document=document, trusted=True, created_at=now, last_used_at=now
            )
            await conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[PersistedQuery.sha256], set_={"trusted": True}
                )
            )
    return hashes
