"""a project keeps the number of its test runs, so a page of runs need not count them: a
trigger on test_runs counts each new run in the statement that inserts it

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(
            sa.Column("test_run_count", sa.BigInteger(), server_default="0", nullable=False)
        )
    op.execute(
        "UPDATE projects SET test_run_count ="
        " (SELECT count(*) FROM test_runs WHERE test_runs.project_id = projects.id)"
    )
    # Runs are only ever added (a project's go with it), so counting inserts is enough.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION count_test_run() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN UPDATE projects SET test_run_count = test_run_count + 1"
            " WHERE id = NEW.project_id; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER test_runs_counted AFTER INSERT ON test_runs"
            " FOR EACH ROW EXECUTE FUNCTION count_test_run()"
        )
    else:
        op.execute(
            "CREATE TRIGGER test_runs_counted AFTER INSERT ON test_runs BEGIN"
            " UPDATE projects SET test_run_count = test_run_count + 1"
            " WHERE id = NEW.project_id; END"
        )


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER test_runs_counted"
        + (" ON test_runs" if op.get_bind().dialect.name == "postgresql" else "")
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION count_test_run()")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("test_run_count")
