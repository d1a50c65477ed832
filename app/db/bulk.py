"""Inserting many test cases at once, as fast as the database takes them.

On SQLite the rows go straight to the driver's ``executemany`` (SQLAlchemy's per-row
parameter handling would cost as much as the insert itself); an import's rows go through
PostgreSQL's ``COPY`` (asyncpg's ``copy_records_to_table``) rather than row inserts. Both run
on the connection of the caller's transaction, so they are kept or undone with it.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.tables import TestCase

# The order of the values in a row given to ``insert_cases``.
CASE_ROW = (
    "dataset_id",
    "position",
    "valid_from",
    "id",
    "inputs",
    "output",
    "output_message",
    "history",
    "metadata",
    "media_inputs",
    "created_at",
)
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


class VersionInserter:
    """Inserts the checked rows of an import into one new dataset version.

    A checked row is ``(offset, id, inputs, output, output_message, history, metadata,
    media_inputs)``: the values that differ between rows. The dataset, the version and the
    time are the same for all and are added here; a chunk's positions start at the
    ``first_position`` given with it, plus each row's offset.
    """

    def __init__(
        self, conn: AsyncConnection, driver: Any, dataset_id: str, version: int, at: datetime
    ) -> None:
        self.conn, self.driver = conn, driver
        self.dataset_id, self.version, self.at = dataset_id, version, at
        self.sqlite = conn.dialect.name == "sqlite"

    @classmethod
    async def open(
        cls, conn: AsyncConnection, dataset_id: str, version: int, at: datetime
    ) -> "VersionInserter":
        return cls(conn, await _driver(conn), dataset_id, version, at)

    async def insert(self, first_position: int, rows: list[tuple[Any, ...]]) -> None:
        """On SQLite the work runs in the driver's thread, which gives up the GIL while
        SQLite writes, so the caller can take in the next rows meanwhile."""
        if not rows:
            return
        if self.sqlite:
            await self.driver.executemany(self._sqlite_statement(first_position), rows)
            return
        dataset_id, version, at = self.dataset_id, self.version, self.at
        records = [(dataset_id, first_position + row[0], version, *row[1:], at) for row in rows]
        await self.driver.copy_records_to_table("test_cases", records=records, columns=CASE_ROW)

    def _sqlite_statement(self, first_position: int) -> str:
        """The values shared by every row written into the statement, so that SQLite binds
        only what differs. They are ours and checked here: a canonical uuid and integers."""
        if str(uuid.UUID(self.dataset_id)) != self.dataset_id:
            raise ValueError(f"not a canonical dataset id: {self.dataset_id!r}")
        shared = (
            f"'{self.dataset_id}', {int(first_position)} + ?, {int(self.version)}, "
            f"?, ?, ?, ?, ?, ?, ?, '{_sqlite_timestamp(self.at)}'"
        )
        return f"INSERT INTO test_cases ({_COLUMNS}) VALUES ({shared})"
