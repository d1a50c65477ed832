"""The one place configuration is read: environment variables prefixed ``TESTRUNS_``."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TESTRUNS_", frozen=True)

    database_url: str = "sqlite+aiosqlite:///./data/testruns.db"
    data_dir: Path = Path("./data")
    db_pool_size: int = Field(default=10, ge=1)
    db_statement_timeout_ms: int = Field(default=30_000, ge=0)

    # GraphQL connections: default and largest `first`.
    default_page_size: int = Field(default=100, ge=1)
    max_page_size: int = Field(default=1_000, ge=1)

    # Size limits on what one request may write.
    max_cases_per_request: int = Field(default=10_000, ge=1)
    max_test_case_bytes: int = Field(default=256 * 1024, ge=1)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def demo_file(self) -> Path:
        """The demo project's id and API key (the database keeps only the key's hash)."""
        return self.data_dir / "demo.json"
