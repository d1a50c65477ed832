"""The database schema: SQLAlchemy 2 typed models. Alembic migrations must match these."""

from datetime import datetime
from typing import ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.db.types import JSONText, UTCDateTime, UUIDText

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    # Declarative models map a Table (SQLAlchemy types __table__ as any FromClause).
    __table__: ClassVar[Table]


class Project(Base):
    """The settings after ``created_at`` are Freeplay's; kept and returned as given."""

    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(UUIDText, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    is_private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    freeplay_spend_limit_usd: Mapped[int | None] = mapped_column(BigInteger)
    data_retention_days: Mapped[int | None] = mapped_column(Integer)
    enable_eval_insights: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    enable_review_insights: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true()
    )
    # Kept by a trigger on test_runs (migration 0009): a page of runs gives the total
    # without counting them.
    test_run_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class ApiKey(Base):
    """Keys are stored only as a SHA-256 hash; ``prefix`` lets a person recognise one."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(UUIDText, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    is_admin: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiKeyProject(Base):
    __tablename__ = "api_key_projects"

    api_key_id: Mapped[str] = mapped_column(
        UUIDText, ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[str] = mapped_column(
        UUIDText, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )


class Dataset(Base):
    """A named, versioned collection of test cases of one type.

    ``version`` is the latest version number and ``next_position`` the position the next new
    case takes; both only change inside a write transaction that holds the dataset row.
    Deleting is soft (``deleted_at``) so runs made from the dataset keep their cases.
    """

    __tablename__ = "datasets"
    __table_args__ = (
        CheckConstraint("test_case_type IN ('completion', 'trace')", name="test_case_type"),
        Index(
            "uq_datasets_project_id_name_live",
            "project_id",
            "name",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(UUIDText, primary_key=True)
    project_id: Mapped[str] = mapped_column(
        UUIDText, ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    test_case_type: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=0)
    next_position: Mapped[int] = mapped_column(BigInteger, default=0)
    input_names: Mapped[str | None] = mapped_column(JSONText)
    media_input_names: Mapped[str | None] = mapped_column(JSONText)
    support_history: Mapped[bool] = mapped_column(Boolean, default=False)
    compatible_agent_ids: Mapped[str | None] = mapped_column(JSONText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DatasetVersion(Base):
    """One row per version: what changed and how many cases the version holds."""

    __tablename__ = "dataset_versions"

    dataset_id: Mapped[str] = mapped_column(
        UUIDText, ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    added: Mapped[int] = mapped_column(Integer, default=0)
    edited: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    case_count: Mapped[int] = mapped_column(Integer, default=0)


class TestCase(Base):
    """An immutable revision of a test case.

    A revision is visible in versions ``valid_from <= v < valid_to`` (``valid_to`` NULL while
    current). Editing closes the revision and opens a new one with the same ``id`` and
    ``position``; ``position`` orders a dataset's cases in creation order. For a completion
    case ``inputs`` holds the variables; for a trace case, the trace input. ``output`` is JSON
    for both (a JSON string for completions).
    """

    __tablename__ = "test_cases"
    __table_args__ = (Index("ix_test_cases_dataset_id_id", "dataset_id", "id"),)

    dataset_id: Mapped[str] = mapped_column(
        UUIDText, ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    valid_from: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    valid_to: Mapped[int | None] = mapped_column(Integer)
    id: Mapped[str] = mapped_column(UUIDText)
    inputs: Mapped[str] = mapped_column(JSONText)
    output: Mapped[str | None] = mapped_column(JSONText)
    output_message: Mapped[str | None] = mapped_column(JSONText)
    history: Mapped[str | None] = mapped_column(JSONText)
    metadata_: Mapped[str | None] = mapped_column("metadata", JSONText)
    media_inputs: Mapped[str | None] = mapped_column(JSONText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Evaluation(Base):
    __tablename__ = "evaluations"
    __table_args__ = (
        UniqueConstraint("project_id", "name"),
        CheckConstraint("kind IN ('numeric', 'boolean', 'category')", name="kind"),
        CheckConstraint("source IN ('auto', 'human')", name="source"),
        CheckConstraint("direction IN ('higher', 'lower')", name="direction"),
    )

    id: Mapped[str] = mapped_column(UUIDText, primary_key=True)
    project_id: Mapped[str] = mapped_column(
        UUIDText, ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    categories: Mapped[str | None] = mapped_column(JSONText)
    # Whether a higher score is better ('higher') or a lower one ('lower').
    direction: Mapped[str] = mapped_column(String(8), default="higher", server_default="higher")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Flavor(Base):
    __tablename__ = "flavors"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[str] = mapped_column(UUIDText, primary_key=True)
    project_id: Mapped[str] = mapped_column(
        UUIDText, ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    settings: Mapped[str] = mapped_column(JSONText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TestRun(Base):
    """A run pins ``dataset_version``; its cases are read from the dataset, never copied."""

    __tablename__ = "test_runs"
    __table_args__ = (
        Index("ix_test_runs_project_id_created_at_id", "project_id", "created_at", "id"),
        CheckConstraint("status IN ('created', 'running', 'completed')", name="status"),
    )

    id: Mapped[str] = mapped_column(UUIDText, primary_key=True)
    project_id: Mapped[str] = mapped_column(UUIDText, ForeignKey("projects.id", ondelete="CASCADE"))
    dataset_id: Mapped[str] = mapped_column(UUIDText, ForeignKey("datasets.id"), index=True)
    dataset_version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(400))
    description: Mapped[str] = mapped_column(Text, default="")
    flavor_id: Mapped[str | None] = mapped_column(UUIDText, ForeignKey("flavors.id"))
    include_outputs: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))
    case_count: Mapped[int] = mapped_column(Integer)
    # Cases with at least one result; the run is completed when it reaches case_count.
    done_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # How the cases were chosen, when the run holds a subset of the dataset version.
    case_filter: Mapped[str | None] = mapped_column(JSONText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TestRunEvaluation(Base):
    __tablename__ = "test_run_evaluations"

    test_run_id: Mapped[str] = mapped_column(
        UUIDText, ForeignKey("test_runs.id", ondelete="CASCADE"), primary_key=True
    )
    evaluation_id: Mapped[str] = mapped_column(
        UUIDText, ForeignKey("evaluations.id", ondelete="CASCADE"), primary_key=True
    )


class TestRunCase(Base):
    """The chosen cases of a run made from a subset of its dataset version."""

    __tablename__ = "test_run_cases"

    test_run_id: Mapped[str] = mapped_column(
        UUIDText, ForeignKey("test_runs.id", ondelete="CASCADE"), primary_key=True
    )
    test_case_id: Mapped[str] = mapped_column(UUIDText, primary_key=True)


class Session(Base):
    """A Freeplay session: made implicitly by the first recording that names it."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(UUIDText, primary_key=True)
    project_id: Mapped[str] = mapped_column(
        UUIDText, ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    custom_metadata: Mapped[str | None] = mapped_column(JSONText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Recording(Base):
    """A completion or trace recorded by a client; its id is the client's own."""

    __tablename__ = "recordings"
    __table_args__ = (
        CheckConstraint("kind IN ('completion', 'trace')", name="kind"),
        # A run's recordings, and its latest of a kind without sorting them all.
        Index(
            "ix_recordings_test_run_id_kind_created_at_id",
            "test_run_id",
            "kind",
            "created_at",
            "id",
        ),
    )

    id: Mapped[str] = mapped_column(UUIDText, primary_key=True)
    project_id: Mapped[str] = mapped_column(
        UUIDText, ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[str] = mapped_column(
        UUIDText, ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    # The request as recorded (messages, inputs, call info, ...), kept for reference.
    body: Mapped[str] = mapped_column(JSONText)
    metadata_: Mapped[str | None] = mapped_column("metadata", JSONText)
    feedback: Mapped[str | None] = mapped_column(JSONText)
    test_run_id: Mapped[str | None] = mapped_column(
        UUIDText, ForeignKey("test_runs.id", ondelete="SET NULL")
    )
    test_case_id: Mapped[str | None] = mapped_column(UUIDText)
    repetition: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TestRunResult(Base):
    """The recorded output of one test case (one repetition of it) in a run."""

    __tablename__ = "test_run_results"
    __table_args__ = (
        UniqueConstraint("test_run_id", "test_case_id", "repetition"),
        Index("ix_test_run_results_order", "test_run_id", "position", "repetition"),
    )

    id: Mapped[str] = mapped_column(UUIDText, primary_key=True)
    test_run_id: Mapped[str] = mapped_column(
        UUIDText, ForeignKey("test_runs.id", ondelete="CASCADE")
    )
    test_case_id: Mapped[str] = mapped_column(UUIDText)
    # The case's position in its dataset, so results list in dataset order.
    position: Mapped[int] = mapped_column(BigInteger)
    repetition: Mapped[int] = mapped_column(Integer)
    output: Mapped[str | None] = mapped_column(JSONText)
    recording_id: Mapped[str | None] = mapped_column(
        UUIDText, ForeignKey("recordings.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # What the model call cost, when known (the server's own runs, or a client's call_info).
    latency_ms: Mapped[float | None] = mapped_column(Float)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    cost: Mapped[float | None] = mapped_column(Float)


class ResultScore(Base):
    """One evaluation score of a result: by the client, an automatic evaluator or a person."""

    __tablename__ = "result_scores"
    __table_args__ = (CheckConstraint("source IN ('client', 'auto', 'human')", name="source"),)

    result_id: Mapped[str] = mapped_column(
        UUIDText, ForeignKey("test_run_results.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    evaluation_id: Mapped[str | None] = mapped_column(
        UUIDText, ForeignKey("evaluations.id", ondelete="CASCADE")
    )
    value: Mapped[str] = mapped_column(JSONText)


class IdempotencyKey(Base):
    """A client's Idempotency-Key, remembered with what its first request made."""

    __tablename__ = "idempotency_keys"

    api_key_id: Mapped[str] = mapped_column(
        UUIDText, ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    # SHA-256 of the request, so a reuse with another request is told apart.
    fingerprint: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[str | None] = mapped_column(UUIDText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Model(Base):
    """A model the server may call: instance-wide, as Freeplay's custom models are per account.

    ``provider_info`` says how to reach the provider (base URL, the *name* of the environment
    variable holding its key, prices); never a key itself.
    """

    __tablename__ = "models"
    __table_args__ = (UniqueConstraint("provider_name", "name"),)

    id: Mapped[str] = mapped_column(UUIDText, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(200))
    provider_name: Mapped[str] = mapped_column(String(100))
    model_family: Mapped[str] = mapped_column(String(200))
    model_version: Mapped[str] = mapped_column(String(200))
    provider_info: Mapped[str | None] = mapped_column(JSONText)
    supports_tool_use: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PromptTemplate(Base):
    """A named prompt of a project; its content lives in versions. Deleting is soft."""

    __tablename__ = "prompt_templates"
    __table_args__ = (
        Index(
            "uq_prompt_templates_project_id_name_live",
            "project_id",
            "name",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(UUIDText, primary_key=True)
    project_id: Mapped[str] = mapped_column(
        UUIDText, ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    # The number the last version took; only changes in a write that holds the row.
    version_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PromptTemplateVersion(Base):
    """One immutable version of a template: messages, model, provider and parameters."""

    __tablename__ = "prompt_template_versions"
    __table_args__ = (UniqueConstraint("template_id", "number"),)

    id: Mapped[str] = mapped_column(UUIDText, primary_key=True)
    template_id: Mapped[str] = mapped_column(
        UUIDText, ForeignKey("prompt_templates.id", ondelete="CASCADE")
    )
    number: Mapped[int] = mapped_column(Integer)
    version_name: Mapped[str | None] = mapped_column(String(200))
    version_description: Mapped[str | None] = mapped_column(Text)
    messages: Mapped[str] = mapped_column(JSONText)
    model: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(100))
    llm_parameters: Mapped[str | None] = mapped_column(JSONText)
    tool_schema: Mapped[str | None] = mapped_column(JSONText)
    output_schema: Mapped[str | None] = mapped_column(JSONText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PromptTemplateEnvironment(Base):
    """Which version of a template an environment (production, staging, ...) is deployed to."""

    __tablename__ = "prompt_template_environments"

    template_id: Mapped[str] = mapped_column(
        UUIDText, ForeignKey("prompt_templates.id", ondelete="CASCADE"), primary_key=True
    )
    environment: Mapped[str] = mapped_column(String(64), primary_key=True)
    version_id: Mapped[str] = mapped_column(
        UUIDText, ForeignKey("prompt_template_versions.id", ondelete="CASCADE"), index=True
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EvaluationCriterion(Base):
    """What a prompt's outputs are judged on, by people or by a model; its content is
    versioned and one version is deployed."""

    __tablename__ = "evaluation_criteria"
    __table_args__ = (
        UniqueConstraint("project_id", "name"),
        CheckConstraint("target_type IN ('prompt', 'agent')", name="target_type"),
        CheckConstraint("direction IN ('higher', 'lower')", name="direction"),
    )

    id: Mapped[str] = mapped_column(UUIDText, primary_key=True)
    project_id: Mapped[str] = mapped_column(
        UUIDText, ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    target_type: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[str] = mapped_column(UUIDText, index=True)
    direction: Mapped[str] = mapped_column(String(8))
    is_enabled: Mapped[bool] = mapped_column(Boolean)
    # Display order among the project's criteria (0 first).
    position: Mapped[int] = mapped_column(Integer)
    version_count: Mapped[int] = mapped_column(Integer, default=0)
    deployed_version_id: Mapped[str | None] = mapped_column(UUIDText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EvaluationCriterionVersion(Base):
    __tablename__ = "evaluation_criterion_versions"
    __table_args__ = (
        UniqueConstraint("criterion_id", "number"),
        CheckConstraint(
            "type IN ('1-5', '1-3', '1-100', 'yes-no', 'multi-select', 'auto-categorization', "
            "'text')",
            name="type",
        ),
    )

    id: Mapped[str] = mapped_column(UUIDText, primary_key=True)
    criterion_id: Mapped[str] = mapped_column(
        UUIDText, ForeignKey("evaluation_criteria.id", ondelete="CASCADE")
    )
    number: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    question: Mapped[str] = mapped_column(Text)
    llm_question: Mapped[str | None] = mapped_column(Text)
    # Score (as text) -> what it means, for people and the judging model.
    rubric: Mapped[str] = mapped_column(JSONText)
    # The labels of a multi-select or auto-categorization criterion.
    options: Mapped[str | None] = mapped_column(JSONText)
    model_id: Mapped[str | None] = mapped_column(UUIDText, ForeignKey("models.id"), index=True)
    llm_eval_enabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TestRunCriterion(Base):
    """An evaluation criterion a test run is to be scored on."""

    __tablename__ = "test_run_criteria"

    test_run_id: Mapped[str] = mapped_column(
        UUIDText, ForeignKey("test_runs.id", ondelete="CASCADE"), primary_key=True
    )
    criterion_id: Mapped[str] = mapped_column(
        UUIDText, ForeignKey("evaluation_criteria.id", ondelete="CASCADE"), primary_key=True
    )


class TestRunExecution(Base):
    """A run the server executes itself: which prompt version, how often, how wide."""

    __tablename__ = "test_run_executions"
    __table_args__ = (
        CheckConstraint("status IN ('running', 'finished', 'cancelled')", name="status"),
    )

    test_run_id: Mapped[str] = mapped_column(
        UUIDText, ForeignKey("test_runs.id", ondelete="CASCADE"), primary_key=True
    )
    prompt_template_version_id: Mapped[str] = mapped_column(UUIDText)
    repetitions: Mapped[int] = mapped_column(Integer)
    concurrency: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TestRunTask(Base):
    """The work queue: one row per case and repetition of an executed run.

    A worker claims a task by setting ``lease_owner`` and ``lease_expires_at``; a lease that
    expires (its worker died) lets another worker take the task over.
    """

    __tablename__ = "test_run_tasks"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'leased', 'completed', 'errored', 'cancelled')", name="status"
        ),
        Index("ix_test_run_tasks_claim", "test_run_id", "status", "position", "repetition"),
    )

    test_run_id: Mapped[str] = mapped_column(
        UUIDText, ForeignKey("test_runs.id", ondelete="CASCADE"), primary_key=True
    )
    test_case_id: Mapped[str] = mapped_column(UUIDText, primary_key=True)
    repetition: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Why the case failed (the provider's message, scrubbed of keys), when it did.
    error: Mapped[str | None] = mapped_column(Text)
    # Judges that could not score the output: evaluation name → why.
    evaluation_errors: Mapped[str | None] = mapped_column(JSONText)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PersistedQuery(Base):
    """A GraphQL document known by the SHA-256 of its text: sent once by a client (automatic
    persisted queries) or registered in advance by the operator (trusted documents)."""

    __tablename__ = "persisted_queries"
    __table_args__ = (
        # The least recently used automatic documents are the first forgotten.
        Index("ix_persisted_queries_trusted_last_used_at", "trusted", "last_used_at"),
    )

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    # Registered in advance: never forgotten, and the only documents that run when the server
    # accepts trusted documents only.
    trusted: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime)
