"""Admin operations on the jobs, shared by the admin API and the CLI so both behave the same.

Listing, run now, pause, resume, reschedule, backfill, run history. Errors are exceptions whose message
is already the sentence to show: :class:`runs.RunInProgressError` (→ 409),
:class:`jobs.UnknownJobError` (→ 404), :class:`cron.CronError` and ``ValueError`` from range checks (→ 422).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, select

from collector.models import Investigation, JobRun
from collector.scheduler import backfill, jobs, runs
from collector.scheduler.cron import describe, parse_cron
from collector.scheduler.service import SchedulerService

log = logging.getLogger(__name__)


class JobView(BaseModel):
    """A job as the admin API and the dashboard show it."""

    id: str
    schedule: str
    paused: bool
    next_run_at: datetime | None
    last_status: str | None
    last_started_at: datetime | None
    last_duration_seconds: float | None
    running_run_id: int | None


def _duration(run: JobRun) -> float | None:
    return (run.finished_at - run.started_at).total_seconds() if run.finished_at else None


def job_view(service: SchedulerService, session: Session, name: str) -> JobView:
    job = service.scheduler.get_job(name)
    if job is None:
        raise jobs.UnknownJobError(name)
    recent = session.exec(
        select(JobRun)
        .where(JobRun.job_id == name, col(JobRun.trigger) != "backfill")
        .order_by(col(JobRun.id).desc())
        .limit(20)
    ).all()
    last = next((r for r in recent if r.status in runs.TERMINAL), None)
    running = next((r for r in recent if r.status == runs.RUNNING), None)
    return JobView(
        id=name,
        schedule=describe(job.trigger),
        paused=job.next_run_time is None,
        next_run_at=job.next_run_time,
        last_status=last.status if last else None,
        last_started_at=last.started_at if last else None,
        last_duration_seconds=_duration(last) if last else None,
        running_run_id=running.id if running else None,
    )


def list_jobs(service: SchedulerService, session: Session) -> list[JobView]:
    return [job_view(service, session, name) for name in jobs.SCHEDULED_JOBS]


def _log_failure(name: str, future: Any) -> None:
    if future.exception() is not None:
        log.error("manual run of %s crashed", name, exc_info=future.exception())


def run_now(service: SchedulerService, name: str, day: date | None = None) -> JobRun:
    """Claim a manual run (RunInProgressError if one is running) and start it on a worker thread."""
    settings, engine = service.settings, service.engine
    run = jobs.claim(name, settings=settings, engine=engine, trigger="manual", day=day)
    service.submit(
        jobs.run_job, name, settings=settings, engine=engine, trigger="manual",
        day=date.fromisoformat(run.params["day"]) if "day" in run.params else None, run_id=run.id,
    ).add_done_callback(lambda f: _log_failure(name, f))  # fmt: skip
    return run


def pause(service: SchedulerService, session: Session, name: str) -> JobView:
    job_view(service, session, name)
    service.scheduler.pause_job(name)
    return job_view(service, session, name)


def resume(service: SchedulerService, session: Session, name: str) -> JobView:
    job_view(service, session, name)
    service.scheduler.resume_job(name)
    return job_view(service, session, name)


def reschedule(service: SchedulerService, session: Session, name: str, cron: str) -> JobView:
    trigger = parse_cron(cron, service.settings.scheduler_timezone)
    was_paused = job_view(service, session, name).paused
    service.scheduler.reschedule_job(name, trigger=trigger)
    if was_paused:  # a new schedule is not a resume
        service.scheduler.pause_job(name)
    return job_view(service, session, name)


def start_backfill(
    service: SchedulerService, start: date, end: date, *, reprocess: backfill.Reprocess, dry_run: bool
) -> JobRun:
    settings, engine = service.settings, service.engine
    backfill.validate_range(start, end, settings)
    params = backfill.range_params(start, end, reprocess, dry_run)
    stale_after = timedelta(hours=settings.job_run_stale_hours)
    run = runs.claim_run(engine, backfill.JOB_ID, trigger="manual", params=params, stale_after=stale_after)

    def work() -> JobRun:
        assert run.id is not None
        try:
            with jobs.clickhouse(settings) as ch:
                return backfill.backfill(
                    start, end, ch=ch, engine=engine, settings=settings, reprocess=reprocess,
                    dry_run=dry_run, run_id=run.id,
                )  # fmt: skip
        except Exception as exc:
            return runs.finish_run(engine, run.id, runs.FAILED, error=f"{type(exc).__name__}: {exc}"[:1000])

    service.submit(work).add_done_callback(lambda f: _log_failure(backfill.JOB_ID, f))
    return run


def list_runs(
    session: Session,
    *,
    job_id: str | None = None,
    status: str | None = None,
    trigger: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[JobRun]:
    query = select(JobRun)
    if job_id:
        query = query.where(JobRun.job_id == job_id)
    if status:
        query = query.where(JobRun.status == status)
    if trigger:
        query = query.where(JobRun.trigger == trigger)
    if since:
        query = query.where(col(JobRun.started_at) >= since)
    return list(session.exec(query.order_by(col(JobRun.id).desc()).offset(offset).limit(limit)).all())


def run_investigations(session: Session, run: JobRun) -> list[Investigation]:
    if not run.investigations:
        return []
    return list(
        session.exec(
            select(Investigation)
            .where(col(Investigation.id).in_(run.investigations))
            .order_by(col(Investigation.id))
        ).all()
    )
