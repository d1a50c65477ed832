"""One statement run on the driver itself, outside SQLAlchemy's execution (a fast path;
see docs/DESIGN.md, "Fast paths and their fences").

SQLAlchemy's execution of one small statement (a Connection and its events, an execution
context, a cursor result, the transaction's objects) costs about 0.2 ms of CPU on
PostgreSQL, on top of asyncpg's own ``fetch`` (about 0.1 ms with the round trip), and about
0.1 ms on SQLite, more than SQLite takes to run it. ``Database.fetch`` and
``Database.insert_together`` run their one statement here instead:

- SQLAlchemy still compiles it, once per statement object, and its types still convert
  each parameter and each column (their own bind and result processors).
- The connection is a pooled one, lent by SQLAlchemy's pool as ever; the statement runs
  outside any transaction, as on the autocommit connections it would otherwise use: on
  asyncpg's connection, or through the SQLite adapter of ``sqlite_driver.py``
  (``run_alone``: inline or in the driver's thread as a cursor runs it, a write counted
  toward the checkpoints).
- Rows are named tuples with the statement's column keys.
- What the database refuses is raised as SQLAlchemy raises it (translated by the dialect's
  adapter, then wrapped); a connection that breaks is thrown away and the pool renewed, as
  SQLAlchemy does on a disconnect.

A statement whose SQL depends on its values in other ways than whole numbers written as
literals (an expanding ``IN``) is left to SQLAlchemy. Each statement run here counts
``fast_paths.DIRECT_STATEMENT``.
"""

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, NoReturn, cast

from sqlalchemy import exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.util import greenlet_spawn

from app import fast_paths

Processor = Callable[[Any], Any] | None
KEPT = 512  # compiled statements kept


@dataclass(frozen=True)
class _Compiled:
    statement: Executable  # kept, so that its id is not reused while this is cached
    compiled: SQLCompiler
    sql: str
    names: tuple[str, ...]
    binds: tuple[Processor, ...]
    results: tuple[tuple[int, Callable[[Any], Any]], ...]  # the columns to convert
    row: Any  # a namedtuple class
    # Parameters written into the SQL as literals (``literal_execute``: a page's LIMIT and
    # OFFSET, so that PostgreSQL keeps one plan per page); only whole numbers are.
    literals: tuple[str, ...]

    def sql_for(self, values: Mapping[str, Any]) -> str | None:
        sql = self.sql
        for name in self.literals:
            value = values.get(name)
            if type(value) is not int:
                return None  # SQLAlchemy renders it
            sql = sql.replace(f"__[POSTCOMPILE_{name}]", str(value))
        return sql


class DirectStatements:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect: Dialect = engine.dialect
        self.sqlite = self.dialect.name == "sqlite"  # through sqlite_driver's adapter
        self._compiled: dict[int, _Compiled | None] = {}

    async def run(
        self, compiled: _Compiled, sql: str, values: Mapping[str, Any] | None
    ) -> Sequence[tuple[Any, ...]]:
        """The rows of a statement ``compiled`` took, whose ``sql_for`` these values is
        ``sql``."""
        given = compiled.compiled.construct_params(dict(values or {}))
        args = [
            given[name] if process is None else process(given[name])
            for name, process in zip(compiled.names, compiled.binds, strict=True)
        ]
        try:
            pooled = await greenlet_spawn(self.engine.sync_engine.raw_connection)
        except self.dialect.loaded_dbapi.Error as error:  # could not connect
            disconnect = self.dialect.is_disconnect(error, None, None)
            raise self._wrapped(error, disconnect) from error
        try:
            if self.sqlite:
                records = await pooled.dbapi_connection.run_alone(sql, args)  # type: ignore[union-attr]
            else:
                records = await cast(Any, pooled.driver_connection).fetch(sql, *args)
        except Exception as error:
            await self._failed(pooled, error)
        pooled.close()  # back to the pool: no transaction was begun, so nothing to reset
        fast_paths.used[fast_paths.DIRECT_STATEMENT] += 1
        make = partial(tuple.__new__, compiled.row)  # a row, made in C from a sequence
        if not compiled.results:
            return list(map(make, records))
        rows = []
        for record in records:
            converted = list(record)
            for index, process in compiled.results:
                if converted[index] is not None:
                    converted[index] = process(converted[index])
            rows.append(make(converted))
        return rows

    async def _failed(self, pooled: Any, error: Exception) -> NoReturn:
        """Raise ``error`` as SQLAlchemy would have: adapted to its DBAPI classes by the
        dialect, then wrapped; a broken connection is discarded and the pool renewed."""
        adapted: Exception = error
        try:
            # The dialect's own translation to its DBAPI's classes (a private method of
            # SQLAlchemy's asyncpg and aiosqlite adapters; tests/db/test_direct_statements.py
            # checks what comes of it).
            pooled.dbapi_connection._handle_exception(error)
        except Exception as translated:
            adapted = translated
        disconnect = (
            self.dialect.is_disconnect(cast(Any, adapted), pooled.dbapi_connection, None)
            or isinstance(error, (ConnectionError, OSError))
            or _connection_lost(error)
        )
        if disconnect:
            await greenlet_spawn(pooled.invalidate, error)
            await self.engine.dispose(close=False)
        else:
            pooled.close()
        raise self._wrapped(adapted, disconnect) from error

    def _wrapped(self, error: Exception, disconnect: bool) -> exc.StatementError:
        return exc.DBAPIError.instance(
            None,
            None,
            error,
            self.dialect.loaded_dbapi.Error,
            connection_invalidated=disconnect,
            dialect=self.dialect,
        )

    def compiled(self, statement: Executable) -> _Compiled | None:
        """The statement made ready to run here, or None if it is left to SQLAlchemy. Made
        once per statement object: the app's statements are built once (module constants,
        cached builders), so this holds a few dozen; a caller that builds one per call only
        fills it up, and a full cache starts over."""
        if len(self._compiled) >= KEPT:
            self._compiled.clear()
        key = id(statement)
        if key in self._compiled:
            found = self._compiled[key]
            return found if found is None or found.statement is statement else self._make(statement)
        return self._make(statement)

    def _make(self, statement: Executable) -> _Compiled | None:
        compiled = cast(ClauseElement, statement).compile(dialect=self.dialect)
        assert isinstance(compiled, SQLCompiler)
        made: _Compiled | None = None
        # Its columns, when it is a SELECT or has a RETURNING (text() has none to say).
        exported = getattr(statement, "exported_columns", None)
        literals = tuple(p.key for p in compiled.literal_execute_params)
        expanding = compiled.post_compile_params - compiled.literal_execute_params
        if exported is not None and not expanding:
            names = tuple(n for n in compiled.positiontup or () if n not in literals)
            columns = list(exported)
            made = _Compiled(
                statement=statement,
                compiled=compiled,
                sql=compiled.string,
                names=names,
                binds=tuple(
                    compiled.binds[name]
                    .type.dialect_impl(self.dialect)
                    .bind_processor(self.dialect)
                    for name in names
                ),
                results=tuple(
                    (index, process)
                    for index, c in enumerate(columns)
                    if (
                        process := c.type.dialect_impl(self.dialect).result_processor(
                            self.dialect, None
                        )
                    )
                    is not None
                ),
                row=namedtuple("Row", [c.key for c in columns], rename=True),
                literals=literals,
            )
        self._compiled[id(statement)] = made
        return made


def _connection_lost(error: BaseException) -> bool:
    from asyncpg import ConnectionDoesNotExistError

    return isinstance(error, ConnectionDoesNotExistError)
