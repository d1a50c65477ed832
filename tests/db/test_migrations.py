"""The Alembic migrations are one set of files for both databases, and match the models."""

from typing import Any

import anyio
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from app.db import migrate
from app.db.tables import Base


async def schema_state(url: str) -> tuple[set[str], list[Any]]:
    """The tables present, and what autogenerate would change to match the models."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:

            def inspect_sync(sync_conn: Any) -> tuple[set[str], list[Any]]:
                context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                tables = set(inspect(sync_conn).get_table_names())
                return tables, compare_metadata(context, Base.metadata)

            return await conn.run_sync(inspect_sync)
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade_leaves_tables_matching_the_models(
    empty_database_url: str,
) -> None:
    # Alembic runs its own event loop, so it runs in a thread here.
    model_tables = {t.name for t in Base.metadata.sorted_tables}

    await anyio.to_thread.run_sync(lambda: migrate.upgrade(empty_database_url))
    tables, diff = await schema_state(empty_database_url)
    assert model_tables <= tables
    assert diff == []

    await anyio.to_thread.run_sync(lambda: migrate.downgrade(empty_database_url, "base"))
    tables, _ = await schema_state(empty_database_url)
    assert tables <= {"alembic_version"}

    await anyio.to_thread.run_sync(lambda: migrate.upgrade(empty_database_url))
    tables, diff = await schema_state(empty_database_url)
    assert model_tables <= tables
    assert diff == []
