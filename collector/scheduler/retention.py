"""Event retention: old events go, investigations (and their counts) stay.

Events received more than ``event_retention_days`` ago are deleted in bounded batches — one short
transaction each, so ingest never waits long behind the purge — except the newest
``keep_events_per_investigation`` of every investigation, so even a long-quiet investigation still shows
what it looked like. ``investigation.event_count`` is history, not a live count, and is left alone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from collector.db import session_scope
from collector.models import Event, JobRun
from collector.scheduler import runs
from collector.settings import Settings

JOB_ID = "purge_events"


def purge_old_events(engine: Engine, settings: Settings, *, now: datetime | None = None) -> dict[str, int]:
    """Delete expired events batch by batch; returns ``{"deleted", "kept", "batches"}``."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=settings.event_retention_days)
    keep = settings.keep_events_per_investigation
    deleted = kept = batches = 0
    after_id = 0
    while True:
        with session_scope(engine) as session:
            candidates = session.exec(
                select(Event.id, Event.investigation_id)
                .where(col(Event.received_at) < cutoff, col(Event.id) > after_id)
                .order_by(col(Event.id))
                .limit(settings.purge_batch_size)
            ).all()
            if not candidates:
                break
            protected: set[int | None] = set()
            for inv_id in sorted({inv for _, inv in candidates}):
                protected.update(
                    session.exec(
                        select(Event.id)
                        .where(Event.investigation_id == inv_id)
                        .order_by(col(Event.occurred_at).desc(), col(Event.id).desc())
                        .limit(keep)
                    ).all()
                )
            doomed = [event_id for event_id, _ in candidates if event_id not in protected]
            if doomed:
                session.execute(sa.delete(Event).where(col(Event.id).in_(doomed)))
            after_id = max(event_id for event_id, _ in candidates if event_id is not None)
        deleted += len(doomed)
        kept += len(candidates) - len(doomed)
        batches += 1
    return {"deleted": deleted, "kept": kept, "batches": batches}


def purge_events(
    engine: Engine, settings: Settings, *, trigger: str = "manual", run_id: int | None = None
) -> JobRun:
    """The retention job: one recorded run of :func:`purge_old_events` (``run_id``: already claimed)."""
    if run_id is None:
        run_id = runs.claim_run(
            engine, JOB_ID, trigger=trigger, params={"retention_days": settings.event_retention_days},
            stale_after=timedelta(hours=settings.job_run_stale_hours),
        ).id  # fmt: skip
        assert run_id is not None
    try:
        figures = purge_old_events(engine, settings)
    except Exception as exc:
        return runs.finish_run(engine, run_id, runs.FAILED, error=f"{type(exc).__name__}: {exc}"[:1000])
    return runs.finish_run(engine, run_id, runs.SUCCESS, figures=figures)
