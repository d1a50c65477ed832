"""project settings of Freeplay's API; recordings found by test run

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(
            sa.Column("is_private", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(sa.Column("freeplay_spend_limit_usd", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("data_retention_days", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column(
                "enable_eval_insights", sa.Boolean(), server_default=sa.true(), nullable=False
            )
        )
        batch.add_column(
            sa.Column(
                "enable_review_insights", sa.Boolean(), server_default=sa.true(), nullable=False
            )
        )
    op.create_index(op.f("ix_recordings_test_run_id"), "recordings", ["test_run_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_recordings_test_run_id"), table_name="recordings")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("enable_review_insights")
        batch.drop_column("enable_eval_insights")
        batch.drop_column("data_retention_days")
        batch.drop_column("freeplay_spend_limit_usd")
        batch.drop_column("is_private")
