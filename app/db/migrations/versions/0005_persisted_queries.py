"""persisted queries

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.types

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "persisted_queries",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("trusted", sa.Boolean(), nullable=False),
        sa.Column("created_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_persisted_queries")),
    )
    with op.batch_alter_table("persisted_queries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_persisted_queries_trusted_last_used_at", ["trusted", "last_used_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("persisted_queries", schema=None) as batch_op:
        batch_op.drop_index("ix_persisted_queries_trusted_last_used_at")
    op.drop_table("persisted_queries")
