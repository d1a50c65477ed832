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
- Commits run inline. Automatic WAL checkpoints (disk I/O, which the committing writer
  would wait for) are off on these connections; every ``CHECKPOINT_EVERY`` writes of the
  engine's connections, a passive checkpoint runs in a worker thread on a connection of its
  own, which no request waits for and which takes no lock a writer needs.
- Bulk inserts (``executemany``) run in the thread, where they leave the loop free.

SQLAlchemy serialises a connection's statements, so the two threads never use it at once.
Transactions, pooling and everything else stay SQLAlchemy's and aiosqlite's own; the engine
takes this module through ``create_async_engine(module=...)``.
"""

import asyncio
import contextlib
import logging
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
LOG_FRAMES = 20 * CHECKPOINT_EVERY  # beyond, a writer completes a checkpoint (see _Checkpoints)
logger = logging.getLogger(__name__)
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
        self._description, rows, self._rowcount, self._lastrowid = await self._outcome(
            operation, parameters, many
        )
        self._rows = deque(rows)

    async def _outcome(self, operation: str, parameters: Any, many: bool) -> Outcome:
        outcome: Outcome
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
                self._adapt_connection.wrote = True
                self._adapt_connection.checkpoints.wrote()
            else:
                outcome = _run(conn, operation, parameters, False)
                fast_paths.used[fast_paths.SQLITE_INLINE] += 1
            return outcome

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        await self._statement(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> None:
        await self._statement(operation, seq_of_parameters, many=True)


class _Checkpoints:
    """The write-ahead log of one database file, checkpointed every ``CHECKPOINT_EVERY``
    writes of an engine's connections.

    A passive checkpoint copies committed pages into the file without the write lock, so
    writers go on meanwhile: it runs in the loop's worker threads on a connection opened for
    it, at most one at a time, and no request waits for it. (Run by the writer whose write
    was the 200th, it made that writer and every writer queued behind it wait for its two
    fsyncs: the bench's p99 under load doubled.) The log starts over only once a checkpoint
    has copied all of it, which a write in the middle of the checkpoint prevents. Under a
    steady stream of writes that is always, so when the log has passed ``LOG_FRAMES``, the
    next writer of this process checkpoints in its own connection after its commit, before
    the next writer of this process begins, as every checkpoint used to be done.
    """

    def __init__(self, arg: tuple[Any, ...], kw: dict[str, Any]) -> None:
        self.arg, self.kw = arg, kw
        self.writes = 0
        self.running = False
        self.due = False  # the next writer checkpoints

    def wrote(self) -> None:
        self.writes += 1
        if self.writes >= CHECKPOINT_EVERY and not self.running and not self.due:
            self.writes, self.running = 0, True
            done = asyncio.get_running_loop().run_in_executor(None, self._checkpoint)
            done.add_done_callback(self._finished)

    def _checkpoint(self) -> int:
        """The frames the log holds."""
        with contextlib.closing(sqlite3.connect(*self.arg, **self.kw)) as conn:
            _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            return int(frames)

    def _finished(self, done: "asyncio.Future[int]") -> None:
        self.running = False
        if done.cancelled():
            return
        if done.exception() is not None:
            # The next one may do better (the file busy, the disk full); the log only grows
            # meanwhile.
            logger.warning("WAL checkpoint failed: %s", done.exception())
        elif done.result() > LOG_FRAMES:
            self.due = True

    async def here(self, connection: "_Connection") -> None:
        """Checkpoint in ``connection``'s thread, right after its commit."""
        self.due, self.writes = False, 0
        aio = connection._connection
        await aio._execute(_run, aio._conn, "PRAGMA wal_checkpoint(PASSIVE)", None, False)


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("checkpoints", "wrote")
    # SQLAlchemy makes a connection's cursors with that connection (``_cursor_cls(self)``),
    # which mypy cannot see: it takes _Cursor's narrower constructor for a mismatch.
    _cursor_cls = _Cursor  # type: ignore[assignment]

    def __init__(self, dbapi: Any, connection: Any, checkpoints: _Checkpoints) -> None:
        super().__init__(dbapi, connection)
        self.checkpoints = checkpoints
        self.wrote = False  # since its last commit: a checkpoint due is this writer's to run

    def commit(self) -> None:
        if self._connection._connection:
            self._connection._conn.commit()
            if self.wrote and self.checkpoints.due:
                await_(self.checkpoints.here(self))
        self.wrote = False

    def rollback(self) -> None:
        if self._connection._connection:
            self._connection._conn.rollback()
        self.wrote = False

    async def run_alone(self, operation: str, parameters: Any) -> list[Any]:
        """The rows of one statement outside any transaction, run as a cursor runs it (a
        write waits for another process's lock off the loop), without SQLAlchemy's
        execution around it (``app.db.direct_statements``)."""
        _, rows, _, _ = await _Cursor(self)._outcome(operation, parameters, many=False)
        if self.wrote and self.checkpoints.due:
            await self.checkpoints.here(self)
        self.wrote = False
        return rows


class Dbapi(AsyncAdapt_aiosqlite_dbapi):
    checkpoints: _Checkpoints | None = None  # of the engine's database, from its first connect

    def connect(self, *arg: Any, **kw: Any) -> _Connection:
        # Used from the event loop's thread as well as aiosqlite's, never at the same time.
        kw = {**kw, "check_same_thread": False}
        if self.checkpoints is None:
            self.checkpoints = _Checkpoints(arg, kw)
        connection = self.aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True
        adapted = _Connection(self, await_(connection), self.checkpoints)
        adapted._connection._conn.execute("PRAGMA wal_autocheckpoint = 0")
        return adapted


def dbapi() -> Dbapi:
    return Dbapi(aiosqlite, sqlite3)
