"""aiosqlite, with what cannot wait run where it is.

aiosqlite runs each SQLite call in the connection's own thread so that the event loop never
blocks on SQLite. SQLAlchemy's adapter makes four such calls per statement (open a cursor,
execute, fetch, close), and each hand-over to that thread and back costs about 0.2 ms: more
than all the statements of a request take to run. This adapter keeps the thread for what
can wait and runs the rest at once, in one piece, on the event loop's thread:

- Reads never wait (WAL readers take no lock), nor do writes inside a transaction that
  already holds the write lock: they run inline.
- ``BEGIN IMMEDIATE`` takes the write lock, and so does a write outside a transaction (a
  statement that is its own transaction). It is tried inline without waiting; only if
  another process holds the lock does it wait for it in the thread.
- Commits run inline. Automatic WAL checkpoints (disk I/O) are off on these connections;
  every ``CHECKPOINT_EVERY`` write commits a connection checkpoints in its thread instead.
- Bulk inserts (``executemany``) run in the thread, where they leave the loop free.

SQLAlchemy serialises a connection's statements, so the two threads never use it at once.
Transactions, pooling and everything else stay SQLAlchemy's and aiosqlite's own; the engine
takes this module through ``create_async_engine(module=...)``.
"""

import sqlite3
from collections import deque
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import immutabledict
from sqlalchemy.util.concurrency import await_

from app import fast_paths

CHECKPOINT_EVERY = 200
_TAKES_WRITE_LOCK = ("BEGIN IMMEDIATE", "BEGIN EXCLUSIVE")
_WRITES = ("INSERT", "UPDATE", "DELETE")

Outcome = tuple[Any, list[Any], int, int | None]


def _run(conn: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> Outcome:
    """A whole statement, results and all, in whichever thread calls it."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _without_waiting(conn: sqlite3.Connection, operation: str, parameters: Any) -> Outcome:
    """``operation`` with the busy timeout at zero: SQLITE_BUSY at once instead of a wait."""
    (timeout,) = conn.execute("PRAGMA busy_timeout").fetchone()
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        return _run(conn, operation, parameters, many=False)
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout)}")


def _is_busy(error: sqlite3.OperationalError) -> bool:
    return "locked" in str(error) or "busy" in str(error)


class _Cursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_description", "_lastrowid", "_rowcount")
    _adapt_connection: "_Connection"

    def __init__(self, adapt_connection: "_Connection") -> None:
        # No aiosqlite cursor: each statement opens and closes a sqlite3 cursor of its own.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = immutabledict()
        self._rows = deque()
        self._description = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    async def _async_soft_close(self) -> None:
        return None

    def close(self) -> None:
        self._rows.clear()

    async def _statement(self, operation: str, parameters: Any, many: bool) -> None:
        async with self._adapt_connection._execute_mutex:
            aio = self._connection
            conn = aio._conn
            if many:
                outcome = await aio._execute(_run, conn, operation, parameters, True)
            elif operation.startswith(_TAKES_WRITE_LOCK) or (
                not conn.in_transaction and operation.startswith(_WRITES)
            ):
                try:
                    outcome = _without_waiting(conn, operation, parameters)
                except sqlite3.OperationalError as error:
                    if not _is_busy(error):
                        raise
                    outcome = await aio._execute(_run, conn, operation, parameters, False)
                self._adapt_connection._writes += 1
            else:
                outcome = _run(conn, operation, parameters, False)
                fast_paths.used[fast_paths.SQLITE_INLINE] += 1
            self._description, rows, self._rowcount, self._lastrowid = outcome
            self._rows = deque(rows)

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        await self._statement(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> None:
        await self._statement(operation, seq_of_parameters, many=True)


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("_writes",)
    # SQLAlchemy makes a connection's cursors with that connection (``_cursor_cls(self)``),
    # which mypy cannot see: it takes _Cursor's narrower constructor for a mismatch.
    _cursor_cls = _Cursor  # type: ignore[assignment]

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._writes = 0  # write transactions begun since the last checkpoint

    def commit(self) -> None:
        if not self._connection._connection:
            return
        self._connection._conn.commit()
        if self._writes >= CHECKPOINT_EVERY:
            await_(self._checkpoint())

    async def _checkpoint(self) -> None:
        self._writes = 0
        await self._connection._execute(
            _run, self._connection._conn, "PRAGMA wal_checkpoint(PASSIVE)", None, False
        )

    def rollback(self) -> None:
        if self._connection._connection:
            self._connection._conn.rollback()

    async def run_alone(self, operation: str, parameters: Any) -> list[Any]:
        """The rows of one statement outside any transaction, run as a cursor runs it (a
        write waits for another process's lock off the loop), without SQLAlchemy's
        execution around it (``app.db.direct_statements``); a write counts toward the
        checkpoints as a committed transaction does."""
        cursor = _Cursor(self)
        await cursor._statement(operation, parameters, many=False)
        rows = list(cursor._rows)
        if self._writes >= CHECKPOINT_EVERY:
            await self._checkpoint()
        return rows


class Dbapi(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> _Connection:
        # Used from the event loop's thread as well as aiosqlite's, never at the same time.
        connection = self.aiosqlite.connect(*arg, **{**kw, "check_same_thread": False})
        connection._thread.daemon = True
        adapted = _Connection(self, await_(connection))
        adapted._connection._conn.execute("PRAGMA wal_autocheckpoint = 0")
        return adapted


def dbapi() -> Dbapi:
    return Dbapi(aiosqlite, sqlite3)
