"""Inserting many test cases at once, as fast as the database takes them.

On SQLite the rows go straight to the driver's ``executemany`` (SQLAlchemy's per-row
parameter handling would cost as much as the insert itself), and an import's scratch files
(``app.db.scratch``) are attached and copied in with ``INSERT … SELECT``; an import's rows go
through PostgreSQL's ``COPY`` (asyncpg's ``copy_records_to_table``) rather than row inserts.
All of it runs on the connection of the caller's transaction, so it is kept or undone with
it.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db import scratch
from app.db.scratch import ScratchRows
from app.db.tables import TestCase

# The order of the values in a row given to ``insert_cases``: what each case has of its own
# between what a version's new cases share.
CASE_ROW = ("dataset_id", "position", "valid_from", *scratch.OWN_VALUES, "created_at")
_COLUMNS = ", ".join(CASE_ROW)
_SQLITE_INSERT = f"INSERT INTO test_cases ({_COLUMNS}) VALUES ({', '.join('?' * len(CASE_ROW))})"


def timestamp_param(conn: AsyncConnection, moment: datetime) -> Any:
    """``moment`` as ``insert_cases`` takes it on this connection's database."""
    if conn.dialect.name == "sqlite":
        return _sqlite_timestamp(moment)
    return moment


def _sqlite_timestamp(moment: datetime) -> str:
    # The text form SQLAlchemy's SQLite DateTime type stores and reads back (UTC).
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


async def _driver(conn: AsyncConnection) -> Any:
    """The DBAPI driver's own connection (sqlite3 in aiosqlite, or asyncpg) under ``conn``."""
    return (await conn.get_raw_connection()).driver_connection


async def insert_cases(conn: AsyncConnection, rows: list[tuple[Any, ...]]) -> None:
    """Insert full rows (values in ``CASE_ROW`` order) in the connection's transaction."""
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        await (await _driver(conn)).executemany(_SQLITE_INSERT, rows)
    else:
        params = [dict(zip(CASE_ROW, row, strict=True)) for row in rows]
        await conn.execute(TestCase.__table__.insert(), params)


COPY_BATCH = 5_000  # rows of a scratch file read back at a time for PostgreSQL's COPY
_ATTACHED = "testruns_attached"  # the scratch files attached to a pooled SQLite connection


class VersionInserter:
    """Inserts the checked rows of an import into one new dataset version.

    A checked row is ``(offset, id, inputs, output, output_message, history, metadata,
    media_inputs)``: the values that differ between rows. The dataset, the version and the
    time are the same for all and are added here; a chunk's positions start at the
    ``first_position`` given with it, plus each row's offset. A chunk is a list of rows or a
    scratch file of them.
    """

    def __init__(
        self,
        conn: AsyncConnection,
        raw: Any,
        dataset_id: str,
        version: int,
        at: datetime,
    ) -> None:
        self.conn, self.driver, self.pooled = conn, raw.driver_connection, raw.info
        self.dataset_id, self.version, self.at = dataset_id, version, at
        self.sqlite = conn.dialect.name == "sqlite"
        if str(uuid.UUID(dataset_id)) != dataset_id:  # written into SQLite's statements
            raise ValueError(f"not a canonical dataset id: {dataset_id!r}")

    @classmethod
    async def open(
        cls, conn: AsyncConnection, dataset_id: str, version: int, at: datetime
    ) -> "VersionInserter":
        return cls(conn, await conn.get_raw_connection(), dataset_id, version, at)

    async def insert(self, first_position: int, rows: list[tuple[Any, ...]] | ScratchRows) -> None:
        """On SQLite the work runs in the driver's thread, which gives up the GIL while
        SQLite writes, so the caller can take in the next rows meanwhile."""
        if not rows:
            return
        if isinstance(rows, ScratchRows):
            await self._insert_scratch(first_position, rows)
            return
        if self.sqlite:
            shared = self._shared(first_position, "?")
            values = f"{shared}, ?, ?, ?, ?, ?, ?, ?, '{_sqlite_timestamp(self.at)}'"
            await self.driver.executemany(
                f"INSERT INTO test_cases ({_COLUMNS}) VALUES ({values})", rows
            )
            return
        dataset_id, version, at = self.dataset_id, self.version, self.at
        records = [(dataset_id, first_position + row[0], version, *row[1:], at) for row in rows]
        await self.driver.copy_records_to_table("test_cases", records=records, columns=CASE_ROW)

    async def _insert_scratch(self, first_position: int, rows: ScratchRows) -> None:
        if not self.sqlite:
            for batch in scratch.read(rows.path, COPY_BATCH):
                await self.insert(first_position, batch)
            return
        attached = self.pooled.setdefault(_ATTACHED, [])
        if not attached:  # the first on this connection: detached when it is pooled again
            pool = self.conn.engine.sync_engine.pool
            if not event.contains(pool, "checkin", _detach_scratch):
                event.listen(pool, "checkin", _detach_scratch)
        schema = f"scratch_{len(attached)}"
        await self.driver.execute(f"ATTACH DATABASE ? AS {schema}", (str(rows.path),))
        attached.append(schema)
        shared = self._shared(first_position, scratch.COLUMNS[0])
        copied = f"{shared}, {', '.join(scratch.COLUMNS[1:])}, '{_sqlite_timestamp(self.at)}'"
        await self.driver.execute(
            f"INSERT INTO test_cases ({_COLUMNS}) SELECT {copied} FROM {schema}.{scratch.TABLE}"
        )

    def _shared(self, first_position: int, offset: str) -> str:
        """The dataset, position and version of a row, as SQL: the values every row shares
        are written into the statement (they are ours: a canonical uuid, checked when this
        was made, and integers), so that SQLite binds only what differs."""
        return f"'{self.dataset_id}', {int(first_position)} + {offset}, {int(self.version)}"


def _detach_scratch(dbapi_connection: Any, record: Any) -> None:
    """A SQLite connection goes back to the pool without the scratch files an import
    attached in its transaction (SQLite refuses to detach one inside a transaction, so it is
    done here, after it has ended)."""
    attached = record.info.pop(_ATTACHED, ())
    if dbapi_connection is None or not attached:
        return
    cursor = dbapi_connection.cursor()
    try:
        for schema in attached:
            cursor.execute(f"DETACH DATABASE {schema}")
    finally:
        cursor.close()
