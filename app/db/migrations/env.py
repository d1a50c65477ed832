import asyncio

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.db.tables import Base

target_metadata = Base.metadata


# Rows of test cases run to a kilobyte or more; SQLite's default 4 KB pages hold only a few,
# and 16 KB pages insert and read them about a third faster. A page size can only be chosen
# before the file's first table, so it is set here, where tables are made.
SQLITE_PAGE_SIZE = 16384


def run_migrations(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA page_size = {SQLITE_PAGE_SIZE}")
        connection.commit()  # before the migrations' own transaction begins
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("the Alembic configuration has no sqlalchemy.url")
    engine = create_async_engine(url, poolclass=NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(run_migrations)
    await engine.dispose()


connectable = context.config.attributes.get("connection")
if connectable is not None:
    run_migrations(connectable)
else:
    asyncio.run(run_async_migrations())
