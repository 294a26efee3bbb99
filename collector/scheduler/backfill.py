"""Backfill: the daily analysis over a range of past days, oldest first, resumable and observable.

Each day is an ordinary ``daily_analysis`` run (trigger ``backfill``), so a day's outcome is recorded
exactly as a scheduled one would be and deterministic event ids make repeats harmless. The backfill's own
``job_run`` row carries the progress (days done / total) that the CLI's bar and the admin API show.

Which days run (``reprocess``): ``missing`` — days never analysed (resume an interrupted backfill);
``failed`` — also days whose latest run did not succeed; ``all`` — every day. A dry run reads ClickHouse
and reports what it would open, writing nothing but its own run row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Literal

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from collector.db import session_scope
from collector.models import Event, JobRun
from collector.scheduler import daily_analysis as analysis
from collector.scheduler import runs
from collector.scheduler.clickhouse import NOT_CONFIGURED, ClickHouse, describe_error
from collector.settings import Settings

JOB_ID = "backfill"
Reprocess = Literal["missing", "failed", "all"]
Progress = Callable[[int, int, date], None]
MAX_LISTED = 200  # findings listed by name in a dry run's figures; the counts cover all of them


def validate_range(start: date, end: date, settings: Settings) -> None:
    """Refuse a reversed range or one longer than ``backfill_max_days`` (raises ValueError)."""
    if end < start:
        raise ValueError(f"backfill range is reversed: start {start} is after end {end}")
    days = (end - start).days + 1
    if days > settings.backfill_max_days:
        raise ValueError(
            f"backfill range of {days} days is longer than the limit of {settings.backfill_max_days} "
            "(PRICELENS_BACKFILL_MAX_DAYS); split it into smaller ranges"
        )


def range_params(start: date, end: date, reprocess: Reprocess, dry_run: bool) -> dict[str, object]:
    return {"start": start.isoformat(), "end": end.isoformat(), "reprocess": reprocess, "dry_run": dry_run}


def days_to_run(engine: Engine, days: list[date], reprocess: Reprocess) -> list[date]:
    if reprocess == "all":
        return days
    wanted = {d.isoformat() for d in days}
    latest: dict[str, str] = {}
    with session_scope(engine) as session:
        rows = session.exec(
            select(JobRun.params, JobRun.status)
            .where(JobRun.job_id == analysis.JOB_ID, col(JobRun.status).in_(runs.TERMINAL))
            .where(col(JobRun.params)["day"].as_string().in_(sorted(wanted)))
            .order_by(col(JobRun.id))
        ).all()
    for params, status in rows:
        latest[params["day"]] = status
    if reprocess == "missing":
        return [d for d in days if d.isoformat() not in latest]
    return [d for d in days if latest.get(d.isoformat()) != runs.SUCCESS]


def backfill(
    start: date,
    end: date,
    *,
    ch: ClickHouse | None,
    engine: Engine,
    settings: Settings,
    reprocess: Reprocess = "missing",
    dry_run: bool = False,
    progress: Progress | None = None,
    trigger: str = "manual",
    run_id: int | None = None,
) -> JobRun:
    """Run (or, dry, preview) the analysis for ``start``..``end``; stops at the first failed day.

    ``run_id`` lets a caller that already claimed the backfill's row (the admin API, to answer at once)
    hand it over; otherwise it is claimed here.
    """
    validate_range(start, end, settings)
    if run_id is None:
        run_id = runs.claim_run(
            engine, JOB_ID, trigger=trigger, params=range_params(start, end, reprocess, dry_run)
        ).id
        assert run_id is not None
    if ch is None:
        return runs.finish_run(engine, run_id, runs.NOT_CONFIGURED, error=NOT_CONFIGURED)
    all_days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    todo = days_to_run(engine, all_days, reprocess)
    figures: dict[str, object] = {"days": len(all_days), "skipped": len(all_days) - len(todo), "done": 0}
    runs.record_progress(engine, run_id, 0, len(todo))
    findings: Counter[str] = Counter()
    opened: set[int] = set()
    would_open: list[str] = []
    for done, day in enumerate(todo, start=1):
        if dry_run:
            try:
                preview = analysis.analyse(day, *analysis.fetch(day, ch, settings), settings)
            except Exception as exc:
                error = f"{day}: {describe_error(exc, settings)}"
                return runs.finish_run(engine, run_id, runs.FAILED, figures=figures, error=error)
            findings.update(preview.by_rule())
            would_open.extend(_new_findings(engine, preview))
        else:
            day_run = analysis.daily_analysis(
                day, ch=ch, engine=engine, settings=settings, trigger="backfill", parent_run=run_id
            )
            if day_run.status != runs.SUCCESS:
                return runs.finish_run(
                    engine, run_id, runs.FAILED, figures={**figures, "findings": dict(findings)},
                    error=f"{day}: {day_run.error}", investigations=sorted(opened),
                )  # fmt: skip
            findings.update(day_run.figures.get("findings", {}))
            opened.update(day_run.investigations)
        figures["done"] = done
        runs.record_progress(engine, run_id, done, len(todo))
        if progress is not None:
            progress(done, len(todo), day)
    figures["findings"] = dict(sorted(findings.items()))
    if dry_run:
        figures["would_open"] = len(would_open)
        figures["would_open_list"] = would_open[:MAX_LISTED]
    return runs.finish_run(engine, run_id, runs.SUCCESS, figures=figures, investigations=sorted(opened))


def _new_findings(engine: Engine, preview: analysis.DayAnalysis) -> list[str]:
    """Findings of a dry-run day that are not stored yet, as ``rule supplier day``."""
    ids = [e.event_id for e in preview.events if e.event_id]
    if not ids:
        return []
    with session_scope(engine) as session:
        known = set(session.exec(select(Event.event_id).where(col(Event.event_id).in_(ids))).all())
    return [f"{e.kind} {e.supplier} {preview.day}" for e in preview.events if e.event_id not in known]
