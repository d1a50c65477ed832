"""The one place configuration is read: environment variables prefixed ``TESTRUNS_``."""

from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TESTRUNS_", frozen=True)

    database_url: str = "sqlite+aiosqlite:///./data/testruns.db"
    data_dir: Path = Path("./data")
    db_pool_size: int = Field(default=10, ge=1)
    db_statement_timeout_ms: int = Field(default=30_000, ge=0)
    # PostgreSQL: test each pooled connection with a round trip before lending it. Off, a
    # connection broken while idle (the database restarted, a proxy dropped it) fails the
    # request that finds it with 503, and the pool is then renewed.
    db_pool_pre_ping: bool = False

    # GraphQL connections: default and largest `first`.
    default_page_size: int = Field(default=100, ge=1)
    max_page_size: int = Field(default=1_000, ge=1)

    # Size limits on what one request may write.
    max_cases_per_request: int = Field(default=10_000, ge=1)
    max_test_case_bytes: int = Field(default=256 * 1024, ge=1)
    max_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1)
    # A client that sends its body slower than this is cut off (408).
    body_timeout_seconds: float = Field(default=30.0, gt=0)

    # GraphQL limits. Introspection (and field suggestions with it) can be turned off.
    graphql_max_depth: int = Field(default=15, ge=1)
    graphql_max_aliases: int = Field(default=30, ge=0)
    graphql_max_tokens: int = Field(default=5_000, ge=1)
    graphql_introspection: bool = True
    # Operations per batched request; 0 turns batching off.
    graphql_max_batch: int = Field(default=0, ge=0)

    # Browser origins (e.g. http://localhost:5173) whose pages may call the API; given as a
    # comma-separated list. Empty: no cross-origin access.
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    # GraphQL documents remembered by their SHA-256 (automatic persisted queries), shared by
    # every replica; the least recently used beyond this many are forgotten.
    graphql_persisted_queries_max: int = Field(default=10_000, ge=1)
    # Run only documents registered in advance (`testruns graphql register DIR`).
    graphql_trusted_documents_only: bool = False

    # Live updates (GraphQL subscriptions): open subscriptions per API key and per process,
    # the least time between two updates of one subscription (changes in between are
    # coalesced into the next), and how long a WebSocket may take to send connection_init.
    subscriptions_per_key: int = Field(default=100, ge=1)
    subscriptions_per_process: int = Field(default=10_000, ge=1)
    subscription_interval_seconds: float = Field(default=0.25, ge=0)
    subscription_init_timeout_seconds: float = Field(default=10.0, gt=0)
    # PostgreSQL: how often the connection that listens for changes is checked (and how long
    # connecting to it may take); a lost one is replaced.
    notify_check_seconds: float = Field(default=5.0, gt=0)

    # A process remembers a key it has checked for this long, so most requests do not read
    # it again; a key revoked by another process (the CLI, another worker) still works here
    # for at most this long. 0: every request reads its key.
    key_cache_seconds: float = Field(default=2.0, ge=0)

    # How long an Idempotency-Key is remembered.
    idempotency_ttl_seconds: int = Field(default=24 * 3600, ge=1)

    # Test runs the server executes. `testruns serve` runs a worker in each process unless
    # this is off (or --no-worker); `testruns worker` runs one alone.
    embedded_worker: bool = True
    # Tasks a worker works on at once, how long its lease on one lasts without renewal, and
    # how often an idle worker looks for work.
    worker_capacity: int = Field(default=32, ge=1)
    worker_lease_seconds: float = Field(default=60.0, gt=0)
    worker_poll_seconds: float = Field(default=0.5, gt=0)
    # Calls to one model at once from one process; retries of failed calls.
    provider_concurrency_per_model: int = Field(default=32, ge=1)
    provider_timeout_seconds: float = Field(default=60.0, gt=0)
    provider_max_attempts: int = Field(default=6, ge=1)
    provider_backoff_seconds: float = Field(default=0.5, ge=0)
    provider_max_backoff_seconds: float = Field(default=30.0, ge=0)
    provider_max_retry_after_seconds: float = Field(default=120.0, ge=0)
    # Operations. Prometheus metrics at /metrics (off: /metrics is 404). Traces go over
    # OTLP/HTTP to the standard OTEL_EXPORTER_OTLP_ENDPOINT when it is set (other OTEL_*
    # variables, such as OTEL_SERVICE_NAME, are read by the OpenTelemetry SDK itself).
    metrics: bool = False
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "otel_exporter_otlp_endpoint"),
    )
    # Fast paths (docs/DESIGN.md, "Fast paths and their fences"), each on by default; off
    # means the plain library path, with the same answers: graphql-core's own executor for
    # pages of test cases, SQLAlchemy's stock aiosqlite driver, every query text parsed and
    # validated each time, REST bodies serialised from parsed values, every request handled
    # by FastAPI.
    fast_graphql_projection: bool = True
    fast_sqlite_driver: bool = True
    fast_query_cache: bool = True
    fast_json: bool = True
    fast_routes: bool = True
    fast_statements: bool = True
    # On SIGTERM the server stops accepting and gives requests in flight this long to finish.
    shutdown_timeout_seconds: float = Field(default=30.0, gt=0)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip().rstrip("/") for part in value.split(",") if part.strip())
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def demo_file(self) -> Path:
        """The demo project's id and API key (the database keeps only the key's hash)."""
        return self.data_dir / "demo.json"
