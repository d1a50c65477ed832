"""The import's floor, run as its own process as ``testruns import`` is:

    python -m bench.import_floor sqlite FILE.jsonl FRESH.db SCHEMA.db
    python -m bench.import_floor postgres FILE.jsonl DSN DATASET_ID

Parse every line of the JSONL with orjson, make the rows ``testruns import`` writes to
test_cases (the same columns and values: each stored field serialised back to JSON text, a new
id, the position, the version and the time), then write them in one transaction. On SQLite,
``executemany`` into a fresh file with the server's test_cases table and indexes (copied from
SCHEMA.db), its page size and pragmas; on PostgreSQL, asyncpg's ``copy_records_to_table`` into
a fresh database made like the server's, for a dataset that exists there. One step after the
other: parse, then write. No checking, no framework, no progress: the least work any
importer must do.

Only the standard library, orjson and (on PostgreSQL) asyncpg, so that start-up is as small
as it gets.
"""

import os
import sqlite3
import sys
import time
import uuid

import orjson

COLUMNS = ("inputs", "output", "output_message", "history", "metadata", "media_inputs")
CASE_ROW = ("dataset_id", "position", "valid_from", "id", *COLUMNS, "created_at")
INSERT = f"INSERT INTO test_cases ({', '.join(CASE_ROW)}) VALUES ({', '.join('?' * 11)})"


def new_id(now_ms: int, n: int) -> str:
    """A time-ordered id like the importer's (uuid version 7 with a counter, app/domain/ids.py):
    ids that increase go in at the right edge of the (dataset_id, id) index."""
    raw = bytearray(os.urandom(16))
    raw[0:6] = (now_ms + (n >> 12)).to_bytes(6, "big")
    raw[6] = 0x70 | ((n >> 8) & 0x0F)
    raw[7] = n & 0xFF
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def rows(path: str, dataset_id: str, created_at: object) -> list[tuple[object, ...]]:
    dumps = orjson.dumps
    now_ms = time.time_ns() // 1_000_000
    found = []
    with open(path, "rb") as lines:
        for position, line in enumerate(lines):
            case = orjson.loads(line)
            values = [None if (v := case.get(c)) is None else dumps(v).decode() for c in COLUMNS]
            found.append((dataset_id, position, 1, new_id(now_ms, position), *values, created_at))
    return found


def sqlite(path: str, db_path: str, schema_path: str) -> int:
    parsed = rows(path, str(uuid.uuid4()), "2025-01-01 00:00:00.000000")
    schema = sqlite3.connect(f"file:{schema_path}?mode=ro", uri=True)
    (page_size,) = schema.execute("PRAGMA page_size").fetchone()
    ddl = schema.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'test_cases' AND sql IS NOT NULL "
        "ORDER BY type DESC"  # the table, then its indexes
    ).fetchall()
    schema.close()
    conn = sqlite3.connect(db_path, isolation_level=None)
    for pragma in (f"page_size={int(page_size)}", "journal_mode=WAL", "synchronous=NORMAL"):
        conn.execute(f"PRAGMA {pragma}")
    for (statement,) in ddl:
        conn.execute(statement)
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(INSERT, parsed)
    conn.execute("COMMIT")
    conn.close()
    return len(parsed)


def postgres(path: str, dsn: str, dataset_id: str) -> int:
    import asyncio
    from datetime import UTC, datetime

    import asyncpg

    parsed = rows(path, dataset_id, datetime.now(UTC))

    async def write() -> None:
        conn = await asyncpg.connect(dsn)  # JSONB from its text: asyncpg's own codec
        async with conn.transaction():
            await conn.copy_records_to_table("test_cases", records=parsed, columns=CASE_ROW)
        await conn.close()

    asyncio.run(write())
    return len(parsed)


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    print({"sqlite": sqlite, "postgres": postgres}[mode](*args))
