"""The scheduler process: APScheduler 3.11 wired to the job registry, led by one process at a time.

Every process (``pricelens scheduler``, ``pricelens serve``, the CLI) starts its scheduler *paused*: a
paused scheduler can read and change the job store (pause, resume, reschedule) but runs nothing. Only the
elected leader resumes it. The leader also wakes its scheduler every poll so that schedule changes
written by another process are picked up within seconds (APScheduler 3 does not watch its store).

Manual runs ("run now", backfills) do not go through APScheduler: they run on this process's worker
threads, after their ``job_run`` row is claimed, whichever process leads.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor as JobExecutor
from apscheduler.jobstores.base import ConflictingIdError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from collector.db import engine_for
from collector.scheduler import jobs, runs
from collector.scheduler.cron import parse_cron
from collector.scheduler.leader import election_for
from collector.settings import Settings, get_settings

log = logging.getLogger(__name__)
JOBSTORE_TABLE = "pricelens_apscheduler_jobs"


class SchedulerService:
    """A paused-or-leading scheduler plus worker threads for manual runs; ``lead=False`` never leads."""

    def __init__(self, settings: Settings, *, lead: bool = True) -> None:
        self.settings = settings
        self.engine = engine_for(settings.effective_database_url)
        self.lead = lead
        self.is_leader = False
        self.scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.engine, tablename=JOBSTORE_TABLE)},
            executors={"default": JobExecutor(2)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": settings.misfire_grace_hours * 3600,
            },
            timezone=settings.scheduler_timezone,
        )
        self.workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="pricelens-job")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> SchedulerService:
        self.scheduler.start(paused=True)
        self.ensure_jobs()
        if self.lead:
            self._thread = threading.Thread(target=self._lead_loop, name="pricelens-leader", daemon=True)
            self._thread.start()
        return self

    def ensure_jobs(self) -> None:
        """Add the registry's jobs with their default schedules, never overwriting a changed schedule."""
        for name in jobs.SCHEDULED_JOBS:
            if self.scheduler.get_job(name) is not None:
                continue
            trigger = parse_cron(jobs.default_cron(name, self.settings), self.settings.scheduler_timezone)
            # Another process may add it between our look and our add: theirs stands.
            with contextlib.suppress(ConflictingIdError):
                self.scheduler.add_job(jobs.ENTRY_POINT, trigger, args=[name], id=name, name=name)

    def submit(self, fn: object, *args: object, **kwargs: object) -> Future[object]:
        return self.workers.submit(fn, *args, **kwargs)  # type: ignore[arg-type]

    def _lead_loop(self) -> None:
        election = election_for(self.settings.effective_database_url, self.settings.leader_lock_key)
        poll = self.settings.leader_poll_seconds
        try:
            while not self._stop.is_set():
                if not self.is_leader and election.try_acquire():
                    closed = runs.close_orphans(
                        self.engine, trigger="schedule", reason="interrupted: the scheduler leader stopped"
                    )
                    log.info("scheduler: leading (%d interrupted run(s) closed)", closed)
                    self.is_leader = True
                    self.scheduler.resume()
                elif self.is_leader and not election.still_held():
                    log.warning("scheduler: lost the leader lock; standing by")
                    self.is_leader = False
                    self.scheduler.pause()
                elif self.is_leader:
                    self.scheduler.wakeup()
                self._stop.wait(poll)
        finally:
            election.release()

    def shutdown(self, wait: bool = True) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.scheduler.shutdown(wait=wait)
        self.workers.shutdown(wait=wait, cancel_futures=not wait)
        global _current
        with _current_lock:
            if _current is self:
                _current = None


_current: SchedulerService | None = None
_current_lock = threading.Lock()


def start_in_process(settings: Settings, *, lead: bool = True) -> SchedulerService:
    """For ``pricelens serve``: start the scheduler in this process (``lead=False`` with
    ``--no-scheduler``: the admin API can still manage jobs, another process runs them)."""
    global _current
    with _current_lock:
        if _current is None:
            _current = SchedulerService(settings, lead=lead).start()
        return _current


def current() -> SchedulerService:
    """The process's service, started on first use as a non-leading one (admin API without scheduler)."""
    return start_in_process(get_settings(), lead=False)


def run_scheduler(settings: Settings | None = None) -> None:
    """``pricelens scheduler``: lead (or stand by) until SIGINT/SIGTERM."""
    stop = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _on_signal)
    service = SchedulerService(settings or get_settings()).start()
    log.info("scheduler started (timezone %s)", service.settings.scheduler_timezone)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        service.shutdown(wait=False)
