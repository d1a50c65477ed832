"""Inserting many test cases at once, as fast as the database takes them.

On SQLite the rows go straight to the driver's ``executemany`` (SQLAlchemy's per-row
parameter handling would cost as much as the insert itself); on PostgreSQL through Core.
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.tables import TestCase

# The order of the values in a row given to ``CaseInserter.insert``.
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
_SQLITE_INSERT = (
    f"INSERT INTO test_cases ({', '.join(CASE_ROW)}) VALUES ({', '.join('?' * len(CASE_ROW))})"
)


def timestamp_param(conn: AsyncConnection, moment: datetime) -> Any:
    """``moment`` as ``CaseInserter.insert`` takes it on this connection's database."""
    if conn.dialect.name == "sqlite":
        # The text form SQLAlchemy's SQLite DateTime type stores and reads back (UTC).
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return moment


class CaseInserter:
    """Inserts test case rows (values in ``CASE_ROW`` order) in a connection's transaction."""

    def __init__(self, conn: AsyncConnection, driver: Any) -> None:
        self.conn = conn
        self.driver = driver

    @classmethod
    async def open(cls, conn: AsyncConnection) -> "CaseInserter":
        driver = None
        if conn.dialect.name == "sqlite":
            driver = (await conn.get_raw_connection()).driver_connection
        return cls(conn, driver)

    async def insert(self, rows: list[tuple[Any, ...]]) -> None:
        """On SQLite the work runs in the driver's thread, which gives up the GIL while
        SQLite writes, so the caller can prepare the next rows meanwhile."""
        if not rows:
            return
        if self.driver is not None:
            await self.driver.executemany(_SQLITE_INSERT, rows)
        else:
            params = [dict(zip(CASE_ROW, row, strict=True)) for row in rows]
            await self.conn.execute(TestCase.__table__.insert(), params)


async def insert_cases(conn: AsyncConnection, rows: list[tuple[Any, ...]]) -> None:
    await (await CaseInserter.open(conn)).insert(rows)
