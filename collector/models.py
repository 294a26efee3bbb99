"""SQLModel tables of Pricelens; every table is prefixed ``pricelens_`` because Pricelens shares the
team's ``admin2`` database and must never collide with, or touch, anyone else's tables."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

PREFIX = "pricelens_"


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every dialect (SQLite stores them naive)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid alias), not a BIGINT one.
BigIntPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


class InvestigationStatus:
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    IGNORED = "ignored"
    ALL = (OPEN, ACKNOWLEDGED, RESOLVED, IGNORED)


INVESTIGATION_FILLFACTOR = 70


class Investigation(SQLModel, table=True):
    """A group of events that share a fingerprint: one thing that went wrong, and its history."""

    __tablename__ = PREFIX + "investigation"
    # Every ingested event updates its investigation's count and last_seen. Only columns that (almost)
    # never change are indexed, and pages keep free room, so those updates are HOT (heap-only: no index
    # entry is written). The table holds groups (thousands to tens of thousands of rows): the stream's
    # sorts and filters on last_seen, status or event_count scan it in a few ms (bench/dashboard).
    __table_args__ = ({"postgresql_with": {"fillfactor": INVESTIGATION_FILLFACTOR}},)

    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(max_length=64, unique=True)
    fingerprint_parts: list[str] = Field(default_factory=list, sa_type=JSONType)
    kind: str = Field(max_length=32)
    service: str = Field(max_length=64)
    supplier: str | None = Field(default=None, max_length=200, index=True)
    title: str = Field(max_length=300)
    culprit: str | None = Field(default=None, max_length=300)
    status: str = Field(default=InvestigationStatus.OPEN, max_length=16)
    regressed: bool = False
    level: str = Field(default="ERROR", max_length=16)
    first_seen: datetime = _ts()
    last_seen: datetime = _ts()
    event_count: int = Field(default=0, sa_type=sa.BigInteger)
    assignee: str | None = Field(default=None, max_length=100)
    resolved_at: datetime | None = _ts(nullable=True)


class Event(SQLModel, table=True):
    """One occurrence as received; pruned by the retention job while its investigation stays."""

    __tablename__ = PREFIX + "event"
    __table_args__ = (
        sa.Index("ix_pricelens_event_investigation_occurred", "investigation_id", "occurred_at"),
        sa.Index("ix_pricelens_event_received_at", "received_at"),
    )

    id: int | None = Field(default=None, sa_type=BigIntPK, primary_key=True)
    event_id: str = Field(max_length=64, unique=True)
    investigation_id: int = Field(foreign_key=PREFIX + "investigation.id", ondelete="CASCADE")
    received_at: datetime = _ts()
    occurred_at: datetime = _ts()
    service: str = Field(max_length=64)
    kind: str = Field(default="error", max_length=32)
    host: str | None = Field(default=None, max_length=255)
    level: str = Field(default="ERROR", max_length=16)
    logger: str | None = Field(default=None, max_length=255)
    message: str = Field(sa_type=sa.Text)
    error_type: str | None = Field(default=None, max_length=255)
    traceback: str | None = Field(default=None, sa_type=sa.Text)
    supplier: str | None = Field(default=None, max_length=200)
    file: str | None = Field(default=None, max_length=1024)
    fingerprint: str = Field(max_length=64)
    extra: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    truncated: bool = False


class Activity(SQLModel, table=True):
    """The history of an investigation: status changes, assignments, comments, regressions."""

    __tablename__ = PREFIX + "activity"

    id: int | None = Field(default=None, primary_key=True)
    investigation_id: int = Field(foreign_key=PREFIX + "investigation.id", index=True, ondelete="CASCADE")
    at: datetime = _ts()
    actor: str = Field(max_length=100)
    action: str = Field(max_length=32)
    old_value: str | None = Field(default=None, max_length=100)
    new_value: str | None = Field(default=None, max_length=100)
    text: str | None = Field(default=None, sa_type=sa.Text)


class ApiToken(SQLModel, table=True):
    """An API token; only its SHA-256 is stored, the token itself is shown once at creation."""

    __tablename__ = PREFIX + "api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    scope: str = Field(max_length=16)
    service: str | None = Field(default=None, max_length=64)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)
    created_at: datetime = _ts()
    last_used_at: datetime | None = _ts(nullable=True)
    revoked_at: datetime | None = _ts(nullable=True)


class User(SQLModel, table=True):
    """A dashboard login (argon2 password hash); viewers read, admins act."""

    __tablename__ = PREFIX + "user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=100, unique=True)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16)
    created_at: datetime = _ts()
    disabled: bool = False


class Agent(SQLModel, table=True):
    """A sidecar as last heard from, so people can see whether it is alive and keeping up."""

    __tablename__ = PREFIX + "agent"

    id: int | None = Field(default=None, primary_key=True)
    hostname: str = Field(max_length=255, unique=True)
    version: str | None = Field(default=None, max_length=64)
    token_name: str | None = Field(default=None, max_length=100)
    last_heartbeat: datetime = _ts()
    files: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    lag_bytes: int = Field(default=0, sa_type=sa.BigInteger)
    spool_depth: int = 0
    dead_letters: int = 0
    last_error: str | None = Field(default=None, sa_type=sa.Text)


class SupplierDay(SQLModel, table=True):
    """One supplier's loading figures for one day, computed from ClickHouse by the analysis."""

    __tablename__ = PREFIX + "supplier_day"

    supplier: str = Field(max_length=200, primary_key=True)
    day: date = Field(sa_type=sa.Date, primary_key=True)
    loads: int = 0
    loads_failed: int = 0
    rows_total: int = Field(default=0, sa_type=sa.BigInteger)
    rows_loaded: int = Field(default=0, sa_type=sa.BigInteger)
    rows_rejected: int = Field(default=0, sa_type=sa.BigInteger)
    last_load_at: datetime | None = _ts(nullable=True)
    last_success_at: datetime | None = _ts(nullable=True)
    skus_compared: int = 0
    skus_changed: int = 0
    price_change_share: float = 0.0
    expected: bool = False
    findings: list[str] = Field(default_factory=list, sa_type=JSONType)
    computed_at: datetime = _ts()


class JobRun(SQLModel, table=True):
    """One run of a scheduled job (scheduled, manual or backfill); APScheduler keeps no history."""

    __tablename__ = PREFIX + "job_run"
    __table_args__ = (sa.Index("ix_pricelens_job_run_job_started", "job_id", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(max_length=64)
    trigger: str = Field(max_length=16)
    status: str = Field(max_length=24, index=True)
    started_at: datetime = _ts()
    finished_at: datetime | None = _ts(nullable=True)
    params: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    figures: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    progress_done: int = 0
    progress_total: int = 0
    error: str | None = Field(default=None, sa_type=sa.Text)
    investigations: list[int] = Field(default_factory=list, sa_type=JSONType)
