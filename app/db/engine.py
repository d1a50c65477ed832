"""The engine and the ways to reach the database: ``read()`` and ``write()`` transactions, and
``statement()`` for reads that need no transaction."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Executable, Row, event, exc
from sqlalchemy.engine import Connection, Engine, ExceptionContext, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.util import greenlet_spawn

from app.db import sqlite_driver
from app.db.direct_statements import DirectStatements
from app.db.errors import Unavailable
from app.db.notifications import Notifier, create_notifier, take_pending
from app.settings import Settings

_WRITE = "testruns_write"
_NO_TRANSACTION = "testruns_no_transaction"
# What a database that is down, restarting, locked or too slow raises: the request may
# succeed if retried, so it is answered with 503 rather than as a failure of ours.
_UNAVAILABLE = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError, OSError)


# SQLite reports a missing table as an OperationalError too; only these mean "try later".
_SQLITE_UNAVAILABLE = ("database is locked", "unable to open", "disk i/o")


def _is_unavailable(error: BaseException) -> bool:
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, exc.OperationalError) and type(error.orig).__module__ == "sqlite3":
        return any(reason in str(error.orig).lower() for reason in _SQLITE_UNAVAILABLE)
    return isinstance(error, _UNAVAILABLE)


@asynccontextmanager
async def _translate_unavailable() -> AsyncIterator[None]:
    try:
        yield
    except Exception as error:
        if _is_unavailable(error):
            raise Unavailable("the database is not answering; try again shortly") from error
        raise


GROUP_MAX = 64  # inserts in one statement at most


def numbered(values: Mapping[str, Any], index: int) -> dict[str, Any]:
    """``values`` as the ``index``-th of a statement that takes several of them."""
    return {f"{name}_{index}": value for name, value in values.items()}


_Waiting = tuple[Mapping[str, Any], "asyncio.Future[Sequence[Row[Any]]]"]


@dataclass
class _Group:
    """Inserts of one kind given while its previous statement ran."""

    waiting: list[_Waiting] = field(default_factory=list)
    flushing: "asyncio.Task[None] | None" = None


async def _gathered(group: _Group) -> None:
    """Returns once a round of the event loop brought ``group`` no more inserts, or enough
    for one statement. In a round the loop reads what its sockets received, then runs the
    requests it read up to their own insert: under load, the requests already on their way
    join this statement instead of waiting for the next one. Alone, an insert waits for one
    round (a few microseconds)."""
    seen = -1
    while seen != len(group.waiting) < GROUP_MAX:
        seen = len(group.waiting)
        await asyncio.sleep(0)  # the loop reads its sockets
        await asyncio.sleep(0)  # what it read runs


def _settle(
    waiting: "asyncio.Future[Sequence[Row[Any]]]",
    rows: Sequence[Row[Any]] = (),
    error: BaseException | None = None,
) -> None:
    if waiting.done():  # its request was cancelled
        return
    if error is None:
        waiting.set_result(rows)
    else:
        waiting.set_exception(error)


def _system_clock() -> datetime:
    return datetime.now(UTC)


class Database:
    """Owns the engine. Domain code opens every transaction through ``read`` or ``write``."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime] | None = None) -> None:
        self.settings = settings
        # What time it is, for expiries and timestamps; tests pass a clock they can move.
        self.clock: Callable[[], datetime] = clock or _system_clock
        self.url = make_url(settings.database_url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.engine: AsyncEngine = create_engine(settings)
        # The same pool, its connections lent without a transaction (see ``statement``).
        self._untransacted = (
            self.engine.execution_options(**{_NO_TRANSACTION: True})
            if self.is_sqlite
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._writer = (
            self.engine.execution_options(**{_WRITE: True}) if self.is_sqlite else self.engine
        )
        # SQLite takes one writer at a time. Queueing writers of this process here, instead
        # of in SQLite's sleeping busy handler, keeps their latency low and fair; writers in
        # other processes are still serialised by SQLite's own lock and busy_timeout.
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        # One-statement reads and writes on the driver itself (a fast path; on SQLite through
        # the fast driver's adapter). Off with traces: their spans per statement come from
        # SQLAlchemy's events.
        direct = (
            settings.fast_statements
            and not settings.otel_exporter_otlp_endpoint
            and (settings.fast_sqlite_driver or not self.is_sqlite)
        )
        self._direct = DirectStatements(self.engine) if direct else None
        self._groups: dict[Callable[[int], Executable], _Group] = {}  # see insert_together
        # Tells subscribers what committed transactions changed (see notifications.py).
        self.notifier: Notifier = create_notifier(settings)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction: one consistent snapshot for every statement in it."""
        async with _translate_unavailable(), _transaction(self.engine) as conn:
            yield conn

    @asynccontextmanager
    async def statement(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads that need not agree with each other: no transaction is
        begun around them (each statement sees one consistent state of its own). On
        PostgreSQL that saves the BEGIN and COMMIT round trips, on SQLite their calls."""
        async with _translate_unavailable(), _transaction(self._untransacted) as conn:
            yield conn

    async def fetch(
        self, statement: Executable, values: Mapping[str, Any] | None = None
    ) -> Sequence[Row[Any]]:
        """The rows of one read statement, run as ``statement()`` runs it, and all of it in
        one hand-over to SQLAlchemy's synchronous core."""
        async with _translate_unavailable():
            return await self._one(statement, values)

    def _fetch(self, statement: Executable, values: Mapping[str, Any] | None) -> Sequence[Row[Any]]:
        with self._untransacted.sync_engine.connect() as conn, conn.begin():
            return conn.execute(statement, values).all()

    async def insert_together(
        self, build: Callable[[int], Executable], values: Mapping[str, Any], key: str = "id"
    ) -> Sequence[Row[Any]]:
        """The rows ``build(1)`` returns for ``values``: an insert that needs nothing read
        first and notifies no one, its statement its own transaction (no BEGIN or COMMIT
        around it). Inserts given by requests running at the same time go in together, in
        one statement (``build(n)``, their values ``numbered``), so that one commit serves
        them all (a group commit); each takes the returned rows whose ``key`` is its own.
        If that statement fails, each is run alone, so that each gets its own answer."""
        group = self._groups.setdefault(build, _Group())
        waiting = asyncio.get_running_loop().create_future()
        group.waiting.append((values, waiting))
        if not group.flushing:  # one task per kind writes its groups, one after the other
            group.flushing = asyncio.create_task(self._insert_groups(build, group, key))
        rows: Sequence[Row[Any]] = await waiting
        return rows

    async def _insert_groups(
        self, build: Callable[[int], Executable], group: "_Group", key: str
    ) -> None:
        taken: list[_Waiting] = []
        try:
            # What is given meanwhile waits for the next statement: on SQLite the write
            # lock's, on PostgreSQL one statement of a kind at a time per process.
            while group.waiting:
                await _gathered(group)
                taken, group.waiting = group.waiting[:GROUP_MAX], group.waiting[GROUP_MAX:]
                await self._insert_group(build, taken, key)
        except Exception as error:  # each insert settles its own; this is a bug of ours
            for _, waiting in [*taken, *group.waiting]:
                _settle(waiting, error=error)
            group.waiting = []
        except BaseException:  # cancelled, as the server stops: none may wait on
            for _, waiting in [*taken, *group.waiting]:
                waiting.cancel()
            group.waiting = []
            raise
        finally:
            group.flushing = None

    async def _insert_group(
        self, build: Callable[[int], Executable], taken: list["_Waiting"], key: str
    ) -> None:
        merged = {}
        for index, (values, _) in enumerate(taken):
            merged.update(numbered(values, index))
        try:
            async with self._write_lock or nullcontext(), _translate_unavailable():
                rows = await self._one(build(len(taken)), merged)
        except Exception as error:
            if len(taken) == 1 or isinstance(error, Unavailable):
                for _, waiting in taken:
                    _settle(waiting, error=error)
                return
            for values, waiting in taken:  # which of them was refused, and why
                try:
                    async with self._write_lock or nullcontext(), _translate_unavailable():
                        _settle(waiting, await self._one(build(1), numbered(values, 0)))
                except Exception as alone:
                    _settle(waiting, error=alone)
            return
        written: dict[Any, list[Row[Any]]] = {}
        for row in rows:
            written.setdefault(getattr(row, key), []).append(row)
        for values, waiting in taken:
            _settle(waiting, written.get(values[key], []))

    async def _one(
        self, statement: Executable, values: Mapping[str, Any] | None
    ) -> Sequence[Row[Any]]:
        direct = self._direct
        compiled = None if direct is None else direct.compiled(statement)
        sql = None if compiled is None else compiled.sql_for(values or {})
        if direct is not None and compiled is not None and sql is not None:
            # Named tuples, read as rows are (by key, by position).
            return cast(Sequence[Row[Any]], await direct.run(compiled, sql, values))
        return await greenlet_spawn(self._fetch, statement, values)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction, committed when the block exits without an exception; what it
        named with ``notifications.notify`` is told to subscribers after the commit."""
        async with self._write_lock or nullcontext(), _translate_unavailable():
            async with _transaction(self._writer) as conn:
                yield conn
                topics = take_pending(conn)
                if topics:
                    await self.notifier.before_commit(conn, topics)
            if topics:
                self.notifier.after_commit(topics)

    async def ping(self) -> None:
        """Raises Unavailable unless the database answers a trivial query."""
        async with self.read() as conn:
            await conn.exec_driver_sql("SELECT 1")

    async def dispose(self) -> None:
        await self.notifier.close()
        await self.engine.dispose()


@asynccontextmanager
async def _transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection of ``engine`` in a transaction, committed when the block exits cleanly
    and rolled back otherwise. Opening it (connect, begin) and ending it (commit or rollback,
    close) are one hand-over each to SQLAlchemy's synchronous core, where ``AsyncEngine``'s
    own context managers make one per call: those cost more than a small request's
    statements."""
    sync = await greenlet_spawn(_begin, engine.sync_engine)
    try:
        yield AsyncConnection(engine, sync)
    except BaseException:
        # Run to the end even when the request is being cancelled (a client gone, perhaps
        # cancelled again at every wait): a connection interrupted on its way back to the
        # pool is thrown away instead of pooled.
        await asyncio.shield(greenlet_spawn(_end, sync, False))
        raise
    await greenlet_spawn(_end, sync, True)


def _begin(engine: Engine) -> Connection:
    conn = engine.connect()
    try:
        conn.begin()
    except BaseException:
        conn.close()
        raise
    return conn


def _end(conn: Connection, commit: bool) -> None:
    try:
        if commit:
            conn.commit()
        else:
            conn.rollback()
    finally:
        conn.close()


def create_engine(settings: Settings) -> AsyncEngine:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(settings)
    return _postgres_engine(settings)


def _postgres_engine(settings: Settings) -> AsyncEngine:
    engine = create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_pre_ping=settings.db_pool_pre_ping,
        connect_args={
            "server_settings": {"statement_timeout": str(settings.db_statement_timeout_ms)},
        },
    )

    from asyncpg import ConnectionDoesNotExistError

    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        # A connection cut in the middle of a statement (the database restarted, a proxy
        # dropped it) reaches SQLAlchemy as asyncpg's plain error, which it does not take for
        # a disconnect: it is one, so the pool is renewed and the request answered with 503.
        error: BaseException | None = context.original_exception
        while error is not None:
            if isinstance(error, (ConnectionDoesNotExistError, ConnectionError)):
                context.is_disconnect = True
                return
            error = error.__cause__

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # JSONB travels as its text both ways (see JSONText): asyncpg's own codec, in C and in
        # binary form as COPY needs (imports write their rows with it, db/bulk.py), instead of
        # the dialect's, which would parse every document into Python objects.
        dbapi_connection.run_async(lambda conn: conn.reset_type_codec("jsonb", schema="pg_catalog"))

    return engine


def _sqlite_engine(settings: Settings) -> AsyncEngine:
    url = make_url(settings.database_url)
    if url.database and url.database != ":memory:":
        # Best effort: if the directory cannot be made, connecting fails and is reported.
        with contextlib.suppress(OSError):
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    # Off: SQLAlchemy's stock aiosqlite adapter, every call handed to the driver's thread.
    driver = {"module": sqlite_driver.dbapi()} if settings.fast_sqlite_driver else {}
    engine = create_async_engine(
        url,
        **driver,
        pool_size=settings.db_pool_size,
        max_overflow=0,
        # Every transaction is ended explicitly (``read``/``write``), so the rollback a
        # returned connection would otherwise get is a needless trip to the driver's thread.
        pool_reset_on_return=None,
    )
    busy_ms = max(settings.db_statement_timeout_ms, 1)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver so that `_on_begin` decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            f"busy_timeout={busy_ms}",
            "foreign_keys=ON",
            "synchronous=NORMAL",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A write transaction takes the write lock up front: a deferred BEGIN that reads and
        # then writes can fail with "database is locked" when another writer got in between.
        options = conn.get_execution_options()
        if options.get(_NO_TRANSACTION, False):
            return  # each statement is its own transaction; the closing COMMIT does nothing
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(_WRITE, False) else "BEGIN")

    return engine
