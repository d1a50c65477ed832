"""indexes in the order of the busiest reads: a project's runs newest first by (created_at,
id), and a run's latest recording of a kind

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The old index lacked the id that breaks ties between runs made in the same instant, so
    # a page of runs sorted every run of its project before taking the first few.
    op.create_index(
        op.f("ix_test_runs_project_id_created_at_id"),
        "test_runs",
        ["project_id", "created_at", "id"],
        unique=False,
    )
    op.drop_index(op.f("ix_test_runs_project_id_created_at"), table_name="test_runs")
    op.create_index(
        op.f("ix_recordings_test_run_id_kind_created_at_id"),
        "recordings",
        ["test_run_id", "kind", "created_at", "id"],
        unique=False,
    )
    op.drop_index(op.f("ix_recordings_test_run_id"), table_name="recordings")


def downgrade() -> None:
    op.create_index(op.f("ix_recordings_test_run_id"), "recordings", ["test_run_id"], unique=False)
    op.drop_index(op.f("ix_recordings_test_run_id_kind_created_at_id"), table_name="recordings")
    op.create_index(
        op.f("ix_test_runs_project_id_created_at"),
        "test_runs",
        ["project_id", "created_at"],
        unique=False,
    )
    op.drop_index(op.f("ix_test_runs_project_id_created_at_id"), table_name="test_runs")
