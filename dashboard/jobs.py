"""What the Jobs page can see and do, behind one small interface (:class:`JobControl`).

The scheduler owns the jobs; :class:`SchedulerJobs` only calls ``collector.scheduler.control``, the same
functions the admin API and the CLI use, so the three behave alike: runs are claimed at once (a second
"run now" is refused while one runs) and then executed on the scheduler service's worker threads, so a
long backfill never holds a request open. The run's ``job_run`` row is what the page shows and polls.
Tests may hand ``mount_dashboard`` another control.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, TypeVar, cast

from sqlalchemy.engine import Engine
from sqlmodel import Session

from collector.scheduler import backfill, control, jobs, runs
from collector.scheduler.service import SchedulerService, start_in_process
from collector.settings import Settings

REPROCESS: dict[str, str] = {
    "missing": "only days never analysed",
    "failed": "also days that failed",
    "all": "every day again",
}
DESCRIPTIONS = {
    "daily_analysis": "Analyse yesterday's loads and prices in ClickHouse",
    "purge_events": "Delete events past the retention period",
}
T = TypeVar("T")


class JobError(Exception):
    """A job request that cannot be carried out; the message is shown to the person who asked."""


@dataclass
class JobInfo:
    id: str
    description: str
    schedule: str
    next_run: datetime | None
    paused: bool
    running_run_id: int | None


class JobControl(Protocol):
    def list_jobs(self) -> list[JobInfo]: ...
    def run_now(self, job_id: str, *, actor: str) -> str: ...
    def pause(self, job_id: str, *, actor: str) -> str: ...
    def resume(self, job_id: str, *, actor: str) -> str: ...
    def start_backfill(self, start: date, end: date, *, reprocess: str, dry_run: bool, actor: str) -> str: ...


def _refusals(action: Callable[[], T]) -> T:
    """The scheduler's refusals already read as sentences; they become :class:`JobError`."""
    try:
        return action()
    except (runs.RunInProgressError, jobs.UnknownJobError, ValueError) as exc:
        raise JobError(str(exc).strip("'\"")) from exc


class SchedulerJobs:
    """The real control: this process's scheduler service (started non-leading if nothing runs it)."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine

    @property
    def service(self) -> SchedulerService:
        return start_in_process(self.settings, lead=False)

    def list_jobs(self) -> list[JobInfo]:
        with Session(self.engine) as session:
            views = control.list_jobs(self.service, session)
        return [
            JobInfo(v.id, DESCRIPTIONS.get(v.id, ""), v.schedule, v.next_run_at, v.paused, v.running_run_id)
            for v in views
        ]

    def run_now(self, job_id: str, *, actor: str) -> str:
        run = _refusals(lambda: control.run_now(self.service, job_id))
        return f"{job_id} started (run #{run.id})."

    def pause(self, job_id: str, *, actor: str) -> str:
        with Session(self.engine) as session:
            _refusals(lambda: control.pause(self.service, session, job_id))
        return f"{job_id} paused: it will not run on its schedule until resumed."

    def resume(self, job_id: str, *, actor: str) -> str:
        with Session(self.engine) as session:
            view = _refusals(lambda: control.resume(self.service, session, job_id))
        return f"{job_id} resumed; next run {view.next_run_at:%Y-%m-%d %H:%M %Z}." if view.next_run_at else ""

    def start_backfill(self, start: date, end: date, *, reprocess: str, dry_run: bool, actor: str) -> str:
        if reprocess not in REPROCESS:
            raise JobError(f"reprocess must be one of {', '.join(REPROCESS)}")
        mode = cast(backfill.Reprocess, reprocess)
        run = _refusals(
            lambda: control.start_backfill(self.service, start, end, reprocess=mode, dry_run=dry_run)
        )
        kind = "Dry-run backfill" if dry_run else "Backfill"
        return f"{kind} of {start} to {end} started (run #{run.id}); its progress is shown below."
