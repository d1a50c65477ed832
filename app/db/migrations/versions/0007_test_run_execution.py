"""test runs the server executes: executions, the task queue, result usage

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("test_run_results") as batch:
        batch.add_column(sa.Column("latency_ms", sa.Float(), nullable=True))
        batch.add_column(sa.Column("prompt_tokens", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("completion_tokens", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("cost", sa.Float(), nullable=True))
    op.create_table(
        "test_run_executions",
        sa.Column("test_run_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("prompt_template_version_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("repetitions", sa.Integer(), nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'finished', 'cancelled')",
            name=op.f("ck_test_run_executions_status"),
        ),
        sa.ForeignKeyConstraint(
            ["test_run_id"],
            ["test_runs.id"],
            name=op.f("fk_test_run_executions_test_run_id_test_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("test_run_id", name=op.f("pk_test_run_executions")),
    )
    op.create_index(
        op.f("ix_test_run_executions_status"), "test_run_executions", ["status"], unique=False
    )
    op.create_table(
        "test_run_tasks",
        sa.Column("test_run_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("test_case_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("repetition", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_expires_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("evaluation_errors", app.db.types.JSONText(), nullable=True),
        sa.Column("updated_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'leased', 'completed', 'errored', 'cancelled')",
            name=op.f("ck_test_run_tasks_status"),
        ),
        sa.ForeignKeyConstraint(
            ["test_run_id"],
            ["test_runs.id"],
            name=op.f("fk_test_run_tasks_test_run_id_test_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "test_run_id", "test_case_id", "repetition", name=op.f("pk_test_run_tasks")
        ),
    )
    op.create_index(
        "ix_test_run_tasks_claim",
        "test_run_tasks",
        ["test_run_id", "status", "position", "repetition"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_test_run_tasks_claim", table_name="test_run_tasks")
    op.drop_table("test_run_tasks")
    op.drop_index(op.f("ix_test_run_executions_status"), table_name="test_run_executions")
    op.drop_table("test_run_executions")
    with op.batch_alter_table("test_run_results") as batch:
        batch.drop_column("cost")
        batch.drop_column("completion_tokens")
        batch.drop_column("prompt_tokens")
        batch.drop_column("latency_ms")
