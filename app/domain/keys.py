"""API keys and the principal a key stands for.

A key is shown once, when it is made; the database keeps only its SHA-256 hash (keys are
32 random bytes, so a fast hash is enough) and a short prefix to recognise it by.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from weakref import WeakKeyDictionary

from sqlalchemy import bindparam, select, update

from app.db.engine import Database
from app.db.tables import ApiKey, ApiKeyProject, Project
from app.domain.errors import InvalidInput, Unauthenticated
from app.domain.ids import canonical_id, new_id, utcnow

KEY_PREFIX = "trk_"
PREFIX_LENGTH = 12
# last_used_at is refreshed at most this often, so reads do not each become a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Principal:
    """Who is calling: an admin key sees every project, a scoped key only its own."""

    key_id: str
    is_admin: bool
    project_ids: frozenset[str]

    def can_see(self, project_id: str) -> bool:
        return self.is_admin or project_id in self.project_ids


# The operator at the command line: sees every project.
OPERATOR = Principal(key_id="operator", is_admin=True, project_ids=frozenset())


@dataclass(frozen=True)
class ApiKeyInfo:
    id: str
    prefix: str
    name: str
    is_admin: bool
    project_ids: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_key(
    db: Database, *, admin: bool, project_ids: list[str], name: str = ""
) -> tuple[ApiKeyInfo, str]:
    """Make a key; returns its description and the key itself (never stored)."""
    if admin == bool(project_ids):
        raise InvalidInput("a key is either an admin key or scoped to at least one project")
    ids = [canonical_id(p) for p in project_ids]
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    info = ApiKeyInfo(
        id=new_id(),
        prefix=key[:PREFIX_LENGTH],
        name=name,
        is_admin=admin,
        project_ids=tuple(i for i in ids if i),
        created_at=utcnow(),
        last_used_at=None,
        revoked_at=None,
    )
    async with db.write() as conn:
        found = set(
            (await conn.scalars(select(Project.id).where(Project.id.in_(info.project_ids)))).all()
        )
        missing = [p for p, i in zip(project_ids, ids, strict=True) if i not in found]
        if missing:
            raise InvalidInput(f"unknown project: {', '.join(missing)}")
        await conn.execute(
            ApiKey.__table__.insert().values(
                id=info.id,
                prefix=info.prefix,
                key_hash=hash_key(key),
                name=name,
                is_admin=admin,
                created_at=info.created_at,
            )
        )
        if info.project_ids:
            await conn.execute(
                ApiKeyProject.__table__.insert(),
                [{"api_key_id": info.id, "project_id": p} for p in info.project_ids],
            )
    return info, key


# The key and the projects it may use, in one statement (a request's first, on every request).
_KEY_WITH_PROJECTS = (
    select(
        ApiKey.id,
        ApiKey.key_hash,
        ApiKey.is_admin,
        ApiKey.last_used_at,
        ApiKeyProject.project_id,
    )
    .outerjoin(ApiKeyProject, ApiKeyProject.api_key_id == ApiKey.id)
    .where(ApiKey.key_hash == bindparam("digest"), ApiKey.revoked_at.is_(None))
)


@dataclass(frozen=True)
class _Checked:
    principal: Principal
    until: datetime


# Keys checked lately, by database and hash (the settings' key_cache_seconds): a key is read
# at most once per that time, not on every request. Only valid keys are kept; revoking in
# this process forgets them all.
_checked: WeakKeyDictionary[Database, dict[str, _Checked]] = WeakKeyDictionary()
CHECKED_KEYS = 1_024  # per database, the oldest forgotten first


async def authenticate(db: Database, key: str) -> Principal:
    """The principal for a presented key; Unauthenticated for an unknown or revoked one."""
    digest = hash_key(key)
    seconds = db.settings.key_cache_seconds
    checked = _checked.setdefault(db, {}) if seconds > 0 else None
    if checked is not None:
        found = checked.get(digest)
        if found is not None and db.clock() < found.until:
            return found.principal
    principal = await _read_key(db, digest)
    if checked is not None:
        checked.pop(digest, None)
        if len(checked) >= CHECKED_KEYS:
            del checked[next(iter(checked))]
        checked[digest] = _Checked(principal, db.clock() + timedelta(seconds=seconds))
    return principal


async def _read_key(db: Database, digest: str) -> Principal:
    rows = await db.fetch(_KEY_WITH_PROJECTS, {"digest": digest})
    if not rows or not hmac.compare_digest(rows[0].key_hash, digest):
        raise Unauthenticated("invalid or revoked API key")
    first = rows[0]
    now = utcnow()
    if first.last_used_at is None or now - first.last_used_at > LAST_USED_RESOLUTION:
        async with db.write() as conn:
            await conn.execute(update(ApiKey).where(ApiKey.id == first.id).values(last_used_at=now))
    return Principal(
        key_id=first.id,
        is_admin=first.is_admin,
        project_ids=frozenset(r.project_id for r in rows if r.project_id is not None),
    )


async def is_valid_key(db: Database, key: str) -> bool:
    try:
        await authenticate(db, key)
    except Unauthenticated:
        return False
    return True


async def list_keys(db: Database) -> list[ApiKeyInfo]:
    """Every key, newest first (for the operator; keys are shown by prefix only)."""
    async with db.read() as conn:
        rows = (await conn.execute(select(ApiKey).order_by(ApiKey.created_at.desc()))).all()
        links = (await conn.execute(select(ApiKeyProject))).all()
    projects: dict[str, list[str]] = {}
    for link in links:
        projects.setdefault(link.api_key_id, []).append(link.project_id)
    return [
        ApiKeyInfo(
            id=row.id,
            prefix=row.prefix,
            name=row.name,
            is_admin=row.is_admin,
            project_ids=tuple(sorted(projects.get(row.id, ()))),
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )
        for row in rows
    ]


async def revoke_key(db: Database, prefix_or_id: str) -> ApiKeyInfo:
    """Revoke the one key with this id or prefix; it stops working at once."""
    matches = [
        key for key in await list_keys(db) if key.id == prefix_or_id or key.prefix == prefix_or_id
    ]
    if len(matches) != 1:
        raise InvalidInput(
            f"{len(matches)} keys match {prefix_or_id!r}; give a key's full prefix or id"
        )
    key = matches[0]
    async with db.write() as conn:
        await conn.execute(update(ApiKey).where(ApiKey.id == key.id).values(revoked_at=utcnow()))
    for checked in _checked.values():
        checked.clear()  # at once in this process; other processes within key_cache_seconds
    return key
