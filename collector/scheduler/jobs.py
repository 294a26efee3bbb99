"""The job registry: which jobs exist, their default schedules, and the wiring of their dependencies.

The job functions themselves take everything they need as arguments; this is the only module that builds
those arguments from settings (the ClickHouse client, the engine, "yesterday" in the configured timezone).
:func:`scheduled` is what APScheduler stores (by its import path), so the job store holds no pickled
clients and a code upgrade changes what runs without touching stored jobs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from collector.db import engine_for
from collector.models import JobRun
from collector.scheduler import runs
from collector.scheduler.clickhouse import ClickHouse, ClickHouseNotConfiguredError, connect
from collector.scheduler.daily_analysis import JOB_ID as DAILY_ANALYSIS
from collector.scheduler.daily_analysis import daily_analysis
from collector.scheduler.retention import JOB_ID as PURGE_EVENTS
from collector.scheduler.retention import purge_events
from collector.settings import Settings, get_settings

log = logging.getLogger(__name__)

SCHEDULED_JOBS = (DAILY_ANALYSIS, PURGE_EVENTS)
ENTRY_POINT = "collector.scheduler.jobs:scheduled"


class UnknownJobError(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no job named {name!r}; jobs: {', '.join(SCHEDULED_JOBS)}")


def default_cron(name: str, settings: Settings) -> str:
    return {DAILY_ANALYSIS: settings.analysis_cron, PURGE_EVENTS: settings.purge_cron}[name]


def yesterday(settings: Settings) -> date:
    """The last complete day in the analysis timezone: what a nightly run analyses."""
    return datetime.now(ZoneInfo(settings.scheduler_timezone)).date() - timedelta(days=1)


@contextmanager
def clickhouse(settings: Settings) -> Iterator[ClickHouse | None]:
    """The configured ClickHouse client (disconnected afterwards), or None when none is configured."""
    try:
        client = connect(settings)
    except ClickHouseNotConfiguredError:
        yield None
        return
    try:
        yield client
    finally:
        client.disconnect()


def run_job(
    name: str,
    *,
    settings: Settings,
    engine: Engine,
    trigger: str,
    day: date | None = None,
    run_id: int | None = None,
) -> JobRun:
    """Run one job now, in this thread, and return its finished ``job_run``.

    The run is claimed first (unless the caller did: ``run_id``), so whatever goes wrong afterwards —
    even a malformed ClickHouse URL — ends as a failed run rather than one left "running".
    """
    if name == DAILY_ANALYSIS and day is None:
        day = yesterday(settings)
    if run_id is None:
        run_id = claim(name, settings=settings, engine=engine, trigger=trigger, day=day).id
        assert run_id is not None
    try:
        if name == PURGE_EVENTS:
            return purge_events(engine, settings, trigger=trigger, run_id=run_id)
        with clickhouse(settings) as ch:
            assert day is not None
            return daily_analysis(
                day, ch=ch, engine=engine, settings=settings,
                trigger=trigger, run_id=run_id,
            )  # fmt: skip
    except Exception as exc:
        log.exception("job %s (run %s) crashed", name, run_id)
        return runs.finish_run(engine, run_id, runs.FAILED, error=f"{type(exc).__name__}: {exc}"[:1000])


def claim(name: str, *, settings: Settings, engine: Engine, trigger: str, day: date | None = None) -> JobRun:
    """Claim a run before handing it to a worker thread, so a conflict is known at once (409)."""
    if name not in SCHEDULED_JOBS:
        raise UnknownJobError(name)
    params = (
        {"day": (day or yesterday(settings)).isoformat()}
        if name == DAILY_ANALYSIS
        else {"retention_days": settings.event_retention_days}
    )
    return runs.claim_run(
        engine, name, trigger=trigger, params=params,
        stale_after=timedelta(hours=settings.job_run_stale_hours),
    )  # fmt: skip


def scheduled(name: str) -> None:
    """APScheduler's entry point: wire the dependencies from the process settings and run the job."""
    settings = get_settings()
    engine = engine_for(settings.effective_database_url)
    try:
        run = run_job(name, settings=settings, engine=engine, trigger="schedule")
    except runs.RunInProgressError as busy:
        runs.record_skipped(engine, name, trigger="schedule", params={}, reason=str(busy))
        return
    log.info("job %s finished: %s%s", name, run.status, f" ({run.error})" if run.error else "")
