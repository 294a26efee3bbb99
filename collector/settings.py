"""The one settings object of the server processes (API, scheduler, CLI).

Everything configurable lives here, read from ``PRICELENS_*`` environment variables (or an env file),
so a deployment is described in one place and tests can build their own instance.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", ""}


class Settings(BaseSettings):
    """Server configuration; see ``config/server.env.example`` for a documented example."""

    model_config = SettingsConfigDict(env_prefix="PRICELENS_", env_file=None, extra="ignore")

    environment: str = Field("development", description="development | production")
    data_dir: Path = Field(Path("data"), description="where the embedded SQLite database lives")
    database_url: str = Field("", description="SQLAlchemy URL; empty means SQLite under data_dir")
    migrate_on_start: bool = True
    secret_key: SecretStr = SecretStr("dev-insecure-secret-key")

    # ingest (the per-event limits are the contract's, in collector/schemas.py)
    max_body_bytes: int = 5 * 1024 * 1024
    rate_limit_per_second: float = 200.0
    rate_limit_burst: int = 2000
    db_retry_after_seconds: int = 5

    # ClickHouse and the jobs (analysis.md)
    clickhouse_url: str = ""
    scheduler_timezone: str = "UTC"
    event_retention_days: int = 90
    keep_events_per_investigation: int = 100

    @field_validator("database_url")
    @classmethod
    def _normalise_dsn(cls, value: str) -> str:
        # A bare postgres:// DSN (as ops tools print it) means psycopg 3 here.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'pricelens.db').resolve()}"

    def check_production_ready(self) -> None:
        """Refuse to run in production with a placeholder secret."""
        if self.environment == "production" and (
            self.secret_key.get_secret_value() in PLACEHOLDER_SECRETS
            or self.secret_key.get_secret_value().startswith("dev-")
        ):
            raise ValueError("PRICELENS_SECRET_KEY must be set to a real secret in production")

    # ClickHouse source tables and columns (analysis.md "Default source schema"); names are identifiers.
    ch_loads_table: str = "pricelist_loads"
    ch_loads_time_column: str = "loaded_at"
    ch_loads_supplier_column: str = "supplier"
    ch_loads_status_column: str = "status"
    ch_loads_failed_status: str = "failed"
    ch_loads_rows_total_column: str = "rows_total"
    ch_loads_rows_loaded_column: str = "rows_loaded"
    ch_loads_rows_rejected_column: str = "rows_rejected"
    ch_prices_table: str = "prices"
    ch_prices_day_column: str = "day"
    ch_prices_supplier_column: str = "supplier"
    ch_prices_sku_column: str = "sku"
    ch_prices_price_column: str = "price"
    ch_connect_timeout_seconds: float = 5.0
    ch_query_timeout_seconds: int = 120

    # Analysis rule thresholds (analysis.md "Daily analysis")
    stale_history_weeks: int = 4
    stale_min_weekday_loads: int = 3
    row_drop_ratio: float = 0.5
    row_drop_history_days: int = 7
    row_drop_min_history_days: int = 3
    reject_spike_min_share: float = 0.05
    reject_spike_factor: float = 3.0
    price_jump_min_skus: int = 20
    price_jump_change: float = 0.30
    price_jump_share: float = 0.05

    # Scheduling: 5-field crontab (or 6 fields, seconds first), in scheduler_timezone
    analysis_cron: str = "30 2 * * *"
    purge_cron: str = "15 3 * * *"
    misfire_grace_hours: int = 6
    backfill_max_days: int = 400
    leader_lock_key: int = 0x70726C73
    leader_poll_seconds: float = 5.0
    job_run_stale_hours: float = 12.0
    purge_batch_size: int = 5000


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after changing the env."""
    return Settings()
