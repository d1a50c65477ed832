"""``testruns backup FILE``: a consistent copy of a live SQLite database.

SQLite's online backup API copies every page in one step, inside one read transaction, so the
copy is the database as of one moment: each transaction is in it whole or not at all, while
the server goes on reading and writing (in WAL mode writers do not wait for the copy). The
copy is written beside FILE, checked with ``PRAGMA integrity_check`` and only then renamed
to FILE. PostgreSQL has its own tool for this, ``pg_dump``.
"""

import os
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    """A backup that cannot be made; the message says why and what to do instead."""


def backup(database_url: str, target: Path) -> None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(
            "`testruns backup` copies SQLite databases; back up PostgreSQL with pg_dump, "
            "e.g. pg_dump --format=custom --file=testruns.dump DATABASE_URL"
        )
    if not url.database or url.database == ":memory:":
        raise BackupError("the database is in memory; there is no file to back up")
    source = Path(url.database)
    if not source.is_file():
        raise BackupError(f"there is no database at {source}")
    if target.exists():
        raise BackupError(f"{target} exists already; give the name of a new file")
    partial = target.with_name(f"{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        _copy(source, partial)
        shutil.copymode(source, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _copy(source: Path, target: Path) -> None:
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)  # pages=-1: one step, one snapshot
            # A plain file needs no -wal beside it: restoring is copying this one file.
            dst.execute("PRAGMA journal_mode=DELETE")
            (check,) = dst.execute("PRAGMA integrity_check").fetchone()
        finally:
            dst.close()
    finally:
        src.close()
    if check != "ok":
        raise BackupError(f"the copy failed its integrity check: {check}")
