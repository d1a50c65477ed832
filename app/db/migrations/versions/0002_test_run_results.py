"""test run results

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("project_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("custom_metadata", app.db.types.JSONText(), nullable=True),
        sa.Column("created_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_sessions_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sessions_project_id"), ["project_id"], unique=False)

    op.create_table(
        "recordings",
        sa.Column("id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("project_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("session_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("body", app.db.types.JSONText(), nullable=False),
        sa.Column("metadata", app.db.types.JSONText(), nullable=True),
        sa.Column("feedback", app.db.types.JSONText(), nullable=True),
        sa.Column("test_run_id", app.db.types.UUIDText(length=36), nullable=True),
        sa.Column("test_case_id", app.db.types.UUIDText(length=36), nullable=True),
        sa.Column("repetition", sa.Integer(), nullable=True),
        sa.Column("created_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('completion', 'trace')", name=op.f("ck_recordings_kind")),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_recordings_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_recordings_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["test_run_id"],
            ["test_runs.id"],
            name=op.f("fk_recordings_test_run_id_test_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
    )
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recordings_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_recordings_session_id"), ["session_id"], unique=False)

    op.create_table(
        "test_run_cases",
        sa.Column("test_run_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("test_case_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["test_run_id"],
            ["test_runs.id"],
            name=op.f("fk_test_run_cases_test_run_id_test_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("test_run_id", "test_case_id", name=op.f("pk_test_run_cases")),
    )
    op.create_table(
        "test_run_results",
        sa.Column("id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("test_run_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("test_case_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("repetition", sa.Integer(), nullable=False),
        sa.Column("output", app.db.types.JSONText(), nullable=True),
        sa.Column("recording_id", app.db.types.UUIDText(length=36), nullable=True),
        sa.Column("created_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name=op.f("fk_test_run_results_recording_id_recordings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["test_run_id"],
            ["test_runs.id"],
            name=op.f("fk_test_run_results_test_run_id_test_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_test_run_results")),
        sa.UniqueConstraint(
            "test_run_id",
            "test_case_id",
            "repetition",
            name=op.f("uq_test_run_results_test_run_id_test_case_id_repetition"),
        ),
    )
    with op.batch_alter_table("test_run_results", schema=None) as batch_op:
        batch_op.create_index(
            "ix_test_run_results_order", ["test_run_id", "position", "repetition"], unique=False
        )

    op.create_table(
        "result_scores",
        sa.Column("result_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("evaluation_id", app.db.types.UUIDText(length=36), nullable=True),
        sa.Column("value", app.db.types.JSONText(), nullable=False),
        sa.CheckConstraint(
            "source IN ('client', 'auto', 'human')", name=op.f("ck_result_scores_source")
        ),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluations.id"],
            name=op.f("fk_result_scores_evaluation_id_evaluations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["result_id"],
            ["test_run_results.id"],
            name=op.f("fk_result_scores_result_id_test_run_results"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("result_id", "source", "name", name=op.f("pk_result_scores")),
    )
    with op.batch_alter_table("test_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("done_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("case_filter", app.db.types.JSONText(), nullable=True))
        batch_op.add_column(
            sa.Column("completed_at", app.db.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("test_runs", schema=None) as batch_op:
        batch_op.drop_column("completed_at")
        batch_op.drop_column("case_filter")
        batch_op.drop_column("done_count")

    op.drop_table("result_scores")
    with op.batch_alter_table("test_run_results", schema=None) as batch_op:
        batch_op.drop_index("ix_test_run_results_order")

    op.drop_table("test_run_results")
    op.drop_table("test_run_cases")
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recordings_session_id"))
        batch_op.drop_index(batch_op.f("ix_recordings_project_id"))

    op.drop_table("recordings")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sessions_project_id"))

    op.drop_table("sessions")
