"""prompt templates, models and evaluation criteria

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "models",
        sa.Column("id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("provider_name", sa.String(length=100), nullable=False),
        sa.Column("model_family", sa.String(length=200), nullable=False),
        sa.Column("model_version", sa.String(length=200), nullable=False),
        sa.Column("provider_info", app.db.types.JSONText(), nullable=True),
        sa.Column("supports_tool_use", sa.Boolean(), nullable=False),
        sa.Column("created_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_models")),
        sa.UniqueConstraint("provider_name", "name", name=op.f("uq_models_provider_name_name")),
    )
    op.create_table(
        "evaluation_criteria",
        sa.Column("id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("project_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("target_type", sa.String(length=16), nullable=False),
        sa.Column("target_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("is_enabled", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("version_count", sa.Integer(), nullable=False),
        sa.Column("deployed_version_id", app.db.types.UUIDText(length=36), nullable=True),
        sa.Column("created_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "direction IN ('higher', 'lower')", name=op.f("ck_evaluation_criteria_direction")
        ),
        sa.CheckConstraint(
            "target_type IN ('prompt', 'agent')", name=op.f("ck_evaluation_criteria_target_type")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_evaluation_criteria_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_criteria")),
        sa.UniqueConstraint(
            "project_id", "name", name=op.f("uq_evaluation_criteria_project_id_name")
        ),
    )
    with op.batch_alter_table("evaluation_criteria", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evaluation_criteria_project_id"), ["project_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_evaluation_criteria_target_id"), ["target_id"], unique=False
        )

    op.create_table(
        "prompt_templates",
        sa.Column("id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("project_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("version_count", sa.Integer(), nullable=False),
        sa.Column("created_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_prompt_templates_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompt_templates")),
    )
    with op.batch_alter_table("prompt_templates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_prompt_templates_project_id"), ["project_id"], unique=False
        )
        batch_op.create_index(
            "uq_prompt_templates_project_id_name_live",
            ["project_id", "name"],
            unique=True,
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )

    op.create_table(
        "evaluation_criterion_versions",
        sa.Column("id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("criterion_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("llm_question", sa.Text(), nullable=True),
        sa.Column("rubric", app.db.types.JSONText(), nullable=False),
        sa.Column("options", app.db.types.JSONText(), nullable=True),
        sa.Column("model_id", app.db.types.UUIDText(length=36), nullable=True),
        sa.Column("llm_eval_enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "type IN ('1-5', '1-3', '1-100', 'yes-no', 'multi-select', 'auto-categorization', 'text')",
            name=op.f("ck_evaluation_criterion_versions_type"),
        ),
        sa.ForeignKeyConstraint(
            ["criterion_id"],
            ["evaluation_criteria.id"],
            name=op.f("fk_evaluation_criterion_versions_criterion_id_evaluation_criteria"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["models.id"],
            name=op.f("fk_evaluation_criterion_versions_model_id_models"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_criterion_versions")),
        sa.UniqueConstraint(
            "criterion_id",
            "number",
            name=op.f("uq_evaluation_criterion_versions_criterion_id_number"),
        ),
    )
    with op.batch_alter_table("evaluation_criterion_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evaluation_criterion_versions_model_id"), ["model_id"], unique=False
        )

    op.create_table(
        "prompt_template_versions",
        sa.Column("id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("template_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("version_name", sa.String(length=200), nullable=True),
        sa.Column("version_description", sa.Text(), nullable=True),
        sa.Column("messages", app.db.types.JSONText(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=100), nullable=False),
        sa.Column("llm_parameters", app.db.types.JSONText(), nullable=True),
        sa.Column("tool_schema", app.db.types.JSONText(), nullable=True),
        sa.Column("output_schema", app.db.types.JSONText(), nullable=True),
        sa.Column("created_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["prompt_templates.id"],
            name=op.f("fk_prompt_template_versions_template_id_prompt_templates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompt_template_versions")),
        sa.UniqueConstraint(
            "template_id", "number", name=op.f("uq_prompt_template_versions_template_id_number")
        ),
    )
    op.create_table(
        "prompt_template_environments",
        sa.Column("template_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("environment", sa.String(length=64), nullable=False),
        sa.Column("version_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("updated_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["prompt_templates.id"],
            name=op.f("fk_prompt_template_environments_template_id_prompt_templates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["prompt_template_versions.id"],
            name=op.f("fk_prompt_template_environments_version_id_prompt_template_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "template_id", "environment", name=op.f("pk_prompt_template_environments")
        ),
    )
    with op.batch_alter_table("prompt_template_environments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_prompt_template_environments_version_id"), ["version_id"], unique=False
        )

    op.create_table(
        "test_run_criteria",
        sa.Column("test_run_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.Column("criterion_id", app.db.types.UUIDText(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["criterion_id"],
            ["evaluation_criteria.id"],
            name=op.f("fk_test_run_criteria_criterion_id_evaluation_criteria"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["test_run_id"],
            ["test_runs.id"],
            name=op.f("fk_test_run_criteria_test_run_id_test_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("test_run_id", "criterion_id", name=op.f("pk_test_run_criteria")),
    )
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("direction", sa.String(length=8), server_default="higher", nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_evaluations_direction"), "direction IN ('higher', 'lower')"
        )


def downgrade() -> None:
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_evaluations_direction"), type_="check")
        batch_op.drop_column("direction")

    op.drop_table("test_run_criteria")
    with op.batch_alter_table("prompt_template_environments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prompt_template_environments_version_id"))

    op.drop_table("prompt_template_environments")
    op.drop_table("prompt_template_versions")
    with op.batch_alter_table("evaluation_criterion_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_criterion_versions_model_id"))

    op.drop_table("evaluation_criterion_versions")
    with op.batch_alter_table("prompt_templates", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_prompt_templates_project_id_name_live",
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_prompt_templates_project_id"))

    op.drop_table("prompt_templates")
    with op.batch_alter_table("evaluation_criteria", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_criteria_target_id"))
        batch_op.drop_index(batch_op.f("ix_evaluation_criteria_project_id"))

    op.drop_table("evaluation_criteria")
    op.drop_table("models")
