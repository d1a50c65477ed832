"""Scratch files: the checked rows of one range of an import, in a SQLite file of their own.

A checking process writes a range's rows into a new file instead of handing them back
through a pipe, so nothing is pickled and unpickled, and the importer takes them in with
one statement: on SQLite it attaches the file in its transaction and copies the rows with
``INSERT … SELECT``, all of it SQLite's own work (``app.db.bulk``); on PostgreSQL it reads
them back for ``COPY``. Standard library only, so that checking processes need nothing
more.
"""

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TABLE = "checked_rows"
# The columns of test_cases whose values differ between the cases of an import.
OWN_VALUES = ("id", "inputs", "output", "output_message", "history", "metadata", "media_inputs")
# A checked row (``app.domain.examples.CheckedRow``): its offset in the range, then those.
COLUMNS = ("row_offset", *OWN_VALUES)


@dataclass(frozen=True)
class ScratchRows:
    """The ``count`` checked rows of a range, in the scratch file at ``path``."""

    path: Path
    count: int

    def __len__(self) -> int:
        return self.count


class ScratchWriter:
    """Appends checked rows to a new scratch file, in one transaction: the file is read
    only once written, and it is thrown away if anything fails, so it needs no journal."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.count = 0

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        """Rows whose offsets count from 0 in their chunk: they follow those written so far."""
        placeholders = ", ".join("?" * (len(COLUMNS) - 1))
        self.conn.executemany(
            f"INSERT INTO {TABLE} VALUES ({self.count} + ?, {placeholders})", rows
        )
        self.count += len(rows)


@contextmanager
def writing(path: Path) -> Iterator[ScratchWriter]:
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        # The offset is the rowid: rows are kept, and read back, in their order.
        conn.execute(
            f"CREATE TABLE {TABLE} ({COLUMNS[0]} INTEGER PRIMARY KEY, {', '.join(COLUMNS[1:])})"
        )
        conn.execute("BEGIN")
        yield ScratchWriter(conn)
        conn.execute("COMMIT")


def read(path: Path, batch: int) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of a scratch file in order, ``batch`` at a time."""
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as conn:
        cursor = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM {TABLE} ORDER BY {COLUMNS[0]}")
        while rows := cursor.fetchmany(batch):
            yield rows
