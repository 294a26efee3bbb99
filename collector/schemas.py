"""The wire contract of ``POST /api/v1/pricelens/log_event/`` (contract.md) as pydantic models.

Validation lives here, not in the route or the core: the same models feed the OpenAPI schema, the
agent's contract test, and the batch path that rejects one event without sinking the others.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LEVEL_ALIASES = {"WARN": "WARNING", "FATAL": "CRITICAL", "EXCEPTION": "ERROR"}
_LEVEL_SET = frozenset(LEVELS)
MAX_MESSAGE_CHARS = 64 * 1024
MAX_TRACEBACK_CHARS = 256 * 1024
MAX_EXTRA_BYTES = 16 * 1024
MAX_EXTRA_DEPTH = 8
MAX_BATCH = 1000
SERVICE_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
# Validation context key: ``EventIn.model_validate(data, context={NUL_FREE: True})`` skips the walk that
# replaces NUL characters, for data known to hold none (JSON text without ``\u0000``: see `nul_free`).
NUL_FREE = "nul_free"

KNOWN_FIELDS = frozenset(
    {
        "service", "message", "level", "timestamp", "event_id", "kind", "error_type", "traceback",
        "supplier", "file", "host", "logger", "fingerprint", "extra",
    }
)  # fmt: skip


def nul_free(json_text: bytes) -> bool:
    """Whether JSON text decodes to strings without NUL: JSON can carry one only as the escape ``\\u0000``."""
    return b"\\u0000" not in json_text


def _depth(value: Any, level: int = 1) -> int:
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level - 1


def _no_nul(value: Any) -> Any:
    """PostgreSQL text and JSONB cannot hold NUL; keep the data visible as U+FFFD instead of failing."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, dict):
        return {_no_nul(k): _no_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nul(v) for v in value]
    return value


class EventIn(BaseModel):
    """One event as a service or the agent sends it."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=False)

    @model_validator(mode="before")
    @classmethod
    def _sanitise(cls, data: Any, info: ValidationInfo) -> Any:
        if info.context and info.context.get(NUL_FREE):  # the caller knows no string holds a NUL
            return data
        return _no_nul(data) if isinstance(data, dict) else data

    service: Annotated[str, Field(pattern=SERVICE_PATTERN, examples=["load_ftp"])]
    message: Annotated[str, Field(examples=["550 /outgoing/prices_20240301.csv: No such file"])]
    level: str = Field("ERROR", description="DEBUG…CRITICAL, case-insensitive")
    timestamp: datetime | None = Field(None, description="ISO 8601; no offset means UTC; default now")
    event_id: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")] = Field(
        None, description="idempotency key: the same id twice is stored once"
    )
    kind: Annotated[str, Field(pattern=r"^[a-z_]{1,32}$")] = "error"
    error_type: Annotated[str | None, Field(max_length=255)] = None
    traceback: str | None = None
    supplier: Annotated[str | None, Field(max_length=200)] = None
    file: Annotated[str | None, Field(max_length=1024)] = None
    host: Annotated[str | None, Field(max_length=255)] = None
    logger: Annotated[str | None, Field(max_length=255)] = None
    fingerprint: Annotated[list[Annotated[str, Field(max_length=512)]] | None, Field(max_length=32)] = None
    extra: dict[str, Any] = Field(default_factory=dict, description="at most 16 KiB, depth at most 8")
    truncated: bool = Field(False, description="set by the collector when a field was cut to its limit")

    @field_validator("level", mode="before")
    @classmethod
    def _level(cls, value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError("level must be a string such as ERROR or warning")
        if value in _LEVEL_SET:  # the usual spelling: nothing to change
            return value
        upper = value.strip().upper()
        upper = LEVEL_ALIASES.get(upper, upper)
        if upper not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)} (got {value[:32]!r})")
        return upper

    @field_validator("timestamp")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @field_validator("extra")
    @classmethod
    def _extra_limits(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not value:  # the usual case
            return value
        if _depth(value) > MAX_EXTRA_DEPTH:
            raise ValueError(f"extra is nested deeper than {MAX_EXTRA_DEPTH} levels")
        try:
            size = len(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS))
        except TypeError as exc:
            raise ValueError(f"extra must be JSON-serialisable: {exc}") from exc
        if size > MAX_EXTRA_BYTES:
            raise ValueError(f"extra is larger than {MAX_EXTRA_BYTES // 1024} KiB serialised")
        return value

    @model_validator(mode="after")
    def _fold_unknown_and_truncate(self) -> EventIn:
        # Unknown top-level fields go into extra, so a newer agent can talk to an older collector.
        unknown = dict(self.__pydantic_extra__ or {})
        if unknown:
            self.__pydantic_extra__ = {}
            merged = {**self.extra, **{k: v for k, v in unknown.items() if k not in self.extra}}
            self.extra = EventIn._extra_limits(merged)
        # Assign only what changes: pydantic's __setattr__ is slow, and this runs for every event.
        if len(self.message) > MAX_MESSAGE_CHARS:
            self.message = self.message[:MAX_MESSAGE_CHARS]
            self.truncated = True
        if self.traceback is not None and len(self.traceback) > MAX_TRACEBACK_CHARS:
            self.traceback = self.traceback[:MAX_TRACEBACK_CHARS]
            self.truncated = True
        return self


class EventBatchIn(BaseModel):
    """A batch: ``{"events": [...]}`` with 1..1000 events (validated one by one by the route)."""

    events: list[EventIn] = Field(min_length=1, max_length=MAX_BATCH)


class Rejection(BaseModel):
    index: int
    error: str


class IngestResult(BaseModel):
    """The 200 answer: what was stored, what was a duplicate, what was refused and why."""

    accepted: int
    duplicates: int
    rejected: list[Rejection] = Field(default_factory=list)
    investigations: list[int] = Field(default_factory=list)


class ErrorDetail(BaseModel):
    detail: str
