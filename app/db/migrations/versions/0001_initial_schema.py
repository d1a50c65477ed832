"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_prefix"), ["prefix"], unique=False)

    op.create_table(
        "projects",
        sa.Column("id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
    )
    op.create_table(
        "api_key_projects",
        sa.Column("api_key_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("project_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_api_key_projects_api_key_id_api_keys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_api_key_projects_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("api_key_id", "project_id", name=op.f("pk_api_key_projects")),
    )
    op.create_table(
        "datasets",
        sa.Column("id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("project_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("test_case_type", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("next_position", sa.BigInteger(), nullable=False),
        sa.Column("input_names", app.db.types.JSONText(), nullable=True),
        sa.Column("media_input_names", app.db.types.JSONText(), nullable=True),
        sa.Column("support_history", sa.Boolean(), nullable=False),
        sa.Column("compatible_agent_ids", app.db.types.JSONText(), nullable=True),
        sa.Column("created_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "test_case_type IN ('completion', 'trace')", name=op.f("ck_datasets_test_case_type")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_datasets_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datasets")),
    )
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_datasets_project_id"), ["project_id"], unique=False)
        batch_op.create_index(
            "uq_datasets_project_id_name_live",
            ["project_id", "name"],
            unique=True,
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )

    op.create_table(
        "evaluations",
        sa.Column("id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("project_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("categories", app.db.types.JSONText(), nullable=True),
        sa.Column("created_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('numeric', 'boolean', 'category')", name=op.f("ck_evaluations_kind")
        ),
        sa.CheckConstraint("source IN ('auto', 'human')", name=op.f("ck_evaluations_source")),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_evaluations_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluations")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_evaluations_project_id_name")),
    )
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluations_project_id"), ["project_id"], unique=False)

    op.create_table(
        "flavors",
        sa.Column("id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("project_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("settings", app.db.types.JSONText(), nullable=False),
        sa.Column("created_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_flavors_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flavors")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_flavors_project_id_name")),
    )
    with op.batch_alter_table("flavors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flavors_project_id"), ["project_id"], unique=False)

    op.create_table(
        "dataset_versions",
        sa.Column("dataset_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("created_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("edited", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.Column("case_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_dataset_versions_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "number", name=op.f("pk_dataset_versions")),
    )
    op.create_table(
        "test_cases",
        sa.Column("dataset_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("position", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("valid_from", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("valid_to", sa.Integer(), nullable=True),
        sa.Column("id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("inputs", app.db.types.JSONText(), nullable=False),
        sa.Column("output", app.db.types.JSONText(), nullable=True),
        sa.Column("output_message", app.db.types.JSONText(), nullable=True),
        sa.Column("history", app.db.types.JSONText(), nullable=True),
        sa.Column("metadata", app.db.types.JSONText(), nullable=True),
        sa.Column("media_inputs", app.db.types.JSONText(), nullable=True),
        sa.Column("created_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_test_cases_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "position", "valid_from", name=op.f("pk_test_cases")),
    )
    with op.batch_alter_table("test_cases", schema=None) as batch_op:
        batch_op.create_index("ix_test_cases_dataset_id_id", ["dataset_id", "id"], unique=False)

    op.create_table(
        "test_runs",
        sa.Column("id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("project_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("dataset_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("dataset_version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("flavor_id", app.db.types.UUIDText(length=36), nullable=True),
        sa.Column("include_outputs", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("case_count", sa.Integer(), nullable=False),
        sa.Column("created_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('created', 'running', 'completed')", name=op.f("ck_test_runs_status")
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_test_runs_dataset_id_datasets")
        ),
        sa.ForeignKeyConstraint(
            ["flavor_id"], ["flavors.id"], name=op.f("fk_test_runs_flavor_id_flavors")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_test_runs_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_test_runs")),
    )
    with op.batch_alter_table("test_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_test_runs_dataset_id"), ["dataset_id"], unique=False)
        batch_op.create_index(
            "ix_test_runs_project_id_created_at", ["project_id", "created_at"], unique=False
        )

    op.create_table(
        "test_run_evaluations",
        sa.Column("test_run_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("evaluation_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluations.id"],
            name=op.f("fk_test_run_evaluations_evaluation_id_evaluations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["test_run_id"],
            ["test_runs.id"],
            name=op.f("fk_test_run_evaluations_test_run_id_test_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "test_run_id", "evaluation_id", name=op.f("pk_test_run_evaluations")
        ),
    )


def downgrade() -> None:
    op.drop_table("test_run_evaluations")
    with op.batch_alter_table("test_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_test_runs_project_id_created_at")
        batch_op.drop_index(batch_op.f("ix_test_runs_dataset_id"))

    op.drop_table("test_runs")
    with op.batch_alter_table("test_cases", schema=None) as batch_op:
        batch_op.drop_index("ix_test_cases_dataset_id_id")

    op.drop_table("test_cases")
    op.drop_table("dataset_versions")
    with op.batch_alter_table("flavors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flavors_project_id"))

    op.drop_table("flavors")
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluations_project_id"))

    op.drop_table("evaluations")
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_datasets_project_id_name_live",
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_datasets_project_id"))

    op.drop_table("datasets")
    op.drop_table("api_key_projects")
    op.drop_table("projects")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_prefix"))

    op.drop_table("api_keys")
