"""The daily analysis of day D: ClickHouse aggregates, the rules judge, Pricelens records.

Three steps, kept apart so each can fail cleanly: (1) two aggregate queries read four weeks of loads and
two days of prices (one row per supplier per day comes back); (2) :mod:`rules` judges every supplier;
(3) one transaction upserts the ``supplier_day`` rows and sends the findings through
``log_investigation_events``. A ClickHouse failure therefore writes nothing, and because event ids are
derived from (rule, supplier, day) and unchanged ``supplier_day`` rows are not rewritten, running the same
day twice changes nothing.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from clickhouse_driver import errors as ch_errors
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session

from collector.core import log_investigation_events
from collector.db import session_scope
from collector.models import JobRun, SupplierDay
from collector.scheduler import runs
from collector.scheduler.clickhouse import NOT_CONFIGURED, ClickHouse, describe_error
from collector.scheduler.rules import Finding, LoadDay, PriceChange, Thresholds, evaluate, weekday_loads
from collector.scheduler.sql import analysis_sql
from collector.schemas import EventIn
from collector.settings import Settings

JOB_ID = "daily_analysis"
ILLEGAL_PREWHERE = 182  # ClickHouse's error code when the table's engine (a view, say) has no PREWHERE
SERVICE = "analysis"


@dataclass
class DayAnalysis:
    """What the analysis of one day found, before anything is written."""

    day: date
    rows: list[dict[str, Any]] = field(default_factory=list)
    events: list[EventIn] = field(default_factory=list)

    def by_rule(self) -> dict[str, int]:
        return dict(sorted(Counter(e.kind for e in self.events).items()))


def event_id(rule: str, supplier: str, day: date) -> str:
    digest = hashlib.sha256(f"{rule}\x1f{supplier}\x1f{day.isoformat()}".encode()).hexdigest()
    return f"analysis-{rule}-{digest[:32]}"


def _ts(seconds: int) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


def day_start(day: date, tz: ZoneInfo) -> int:
    return int(datetime.combine(day, time(), tz).timestamp())


def fetch(
    day: date, ch: ClickHouse, settings: Settings
) -> tuple[dict[str, dict[date, LoadDay]], dict[str, PriceChange]]:
    """Per supplier: loads per day over the history window up to D, and D's price changes."""
    tz = ZoneInfo(settings.scheduler_timezone)
    sql = analysis_sql(settings)
    first = day - timedelta(weeks=settings.stale_history_weeks)
    histories: dict[str, dict[date, LoadDay]] = defaultdict(dict)
    for sup, load_day, loads, failed, total, loaded, rejected, last, last_ok in ch.execute(
        sql.loads_by_day,
        {
            "start_ts": day_start(first, tz),
            "end_ts": day_start(day + timedelta(days=1), tz),
            "tz": settings.scheduler_timezone,
            "failed_status": settings.ch_loads_failed_status,
        },
    ):
        histories[sup][load_day] = LoadDay(loads, failed, total, loaded, rejected, _ts(last), _ts(last_ok))
    params = {"prev_day": day - timedelta(days=1), "day": day, "change": settings.price_jump_change}
    try:
        rows = ch.execute(sql.price_changes, params)
    except ch_errors.ServerException as exc:
        if exc.code != ILLEGAL_PREWHERE:
            raise
        rows = ch.execute(sql.price_changes_where, params)
    prices = {sup: PriceChange(compared, changed) for sup, compared, changed in rows}
    return histories, prices


def analyse(
    day: date,
    histories: dict[str, dict[date, LoadDay]],
    prices: dict[str, PriceChange],
    settings: Settings,
) -> DayAnalysis:
    """Judge every supplier seen in the history window or priced on D (pure: no I/O)."""
    t = Thresholds.from_settings(settings)
    end_of_day = datetime.combine(day + timedelta(days=1), time(), ZoneInfo(settings.scheduler_timezone))
    timestamp = (end_of_day - timedelta(seconds=1)).astimezone(UTC)
    result = DayAnalysis(day)
    for supplier in sorted(set(histories) | set(prices)):
        history = histories.get(supplier, {})
        change = prices.get(supplier, PriceChange())
        findings = evaluate(supplier, day, history, change, t)
        today = history.get(day, LoadDay())
        result.rows.append({
            "supplier": supplier, "day": day, "loads": today.loads, "loads_failed": today.loads_failed,
            "rows_total": today.rows_total, "rows_loaded": today.rows_loaded,
            "rows_rejected": today.rows_rejected, "last_load_at": today.last_load_at,
            "last_success_at": today.last_success_at, "skus_compared": change.compared,
            "skus_changed": change.changed, "price_change_share": change.share,
            "expected": weekday_loads(day, history, t.stale_history_weeks) >= t.stale_min_weekday_loads,
            "findings": [f.rule for f in findings],
        })  # fmt: skip
        result.events.extend(_event(supplier, day, f, timestamp) for f in findings)
    return result


def _event(supplier: str, day: date, finding: Finding, timestamp: datetime) -> EventIn:
    return EventIn(
        service=SERVICE,
        kind=finding.rule,
        level="WARNING",
        message=finding.message,
        timestamp=timestamp,
        event_id=event_id(finding.rule, supplier, day),
        supplier=supplier,
        fingerprint=[SERVICE, finding.rule, supplier],
        extra={
            "rule": finding.rule,
            "day": day.isoformat(),
            "value": finding.value,
            "baseline": finding.baseline,
            "threshold": finding.threshold,
        },
    )


def upsert_supplier_days(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert or update ``supplier_day`` rows; a row whose figures did not change is left untouched."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = SupplierDay.__table__  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    figures = [c for c in rows[0] if c not in ("supplier", "day")]
    stmt = insert(table)
    changed = sa.or_(*(table.c[c].is_distinct_from(stmt.excluded[c]) for c in figures))
    upsert = stmt.on_conflict_do_update(
        index_elements=["supplier", "day"],
        set_={c: stmt.excluded[c] for c in [*figures, "computed_at"]},
        where=changed,
    )
    # One statement compiled once, parameters batched by the driver ("insertmanyvalues").
    session.execute(upsert, [{**r, "computed_at": now} for r in rows])


def daily_analysis(
    day: date,
    *,
    ch: ClickHouse | None,
    engine: Engine,
    settings: Settings,
    trigger: str = "manual",
    parent_run: int | None = None,
    run_id: int | None = None,
) -> JobRun:
    """Analyse ``day`` and record the run; ``ch=None`` means ClickHouse is not configured.

    ``run_id`` is a run the caller already claimed (the admin API claims first, to answer 409 at once).
    """
    if run_id is None:
        params: dict[str, Any] = {"day": day.isoformat()}
        if parent_run is not None:
            params["backfill_run"] = parent_run
        run_id = runs.claim_run(
            engine, JOB_ID, trigger=trigger, params=params, exclusive=trigger != "backfill",
            stale_after=timedelta(hours=settings.job_run_stale_hours),
        ).id  # fmt: skip
        assert run_id is not None
    if ch is None:
        return runs.finish_run(engine, run_id, runs.NOT_CONFIGURED, error=NOT_CONFIGURED)
    try:
        analysis = analyse(day, *fetch(day, ch, settings), settings)
        with session_scope(engine) as session:
            upsert_supplier_days(session, analysis.rows)
            outcome = log_investigation_events(session=session, events=analysis.events)
    except Exception as exc:
        return runs.finish_run(engine, run_id, runs.FAILED, error=describe_error(exc, settings))
    figures = {
        "day": day.isoformat(),
        "suppliers": len(analysis.rows),
        "findings": analysis.by_rule(),
        "events_new": outcome.accepted,
        "events_duplicate": outcome.duplicates,
    }
    return runs.finish_run(
        engine, run_id, runs.SUCCESS, figures=figures, investigations=sorted(outcome.investigation_ids)
    )
