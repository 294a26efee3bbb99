"""``job_run`` bookkeeping: every run of every job — scheduled, manual or backfill — is one row.

A run is claimed (a committed ``running`` row, so the admin API sees it at once) before any work, and
finished with its status, figures, error text and the investigations it opened. A job that is already
running cannot be claimed a second time: the claim checks and inserts under a lock (a transaction-level
advisory lock on Postgres, a process lock on embedded SQLite). A ``running`` row older than
``job_run_stale_hours`` belonged to a process that died; it is closed as failed instead of blocking.
"""

from __future__ import annotations

import os
import socket
import threading
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from collector.db import session_scope
from collector.metrics import SCHEDULER_RUNS
from collector.models import JobRun

RUNNING, SUCCESS, FAILED = "running", "success", "failed"
NOT_CONFIGURED, SKIPPED = "not_configured", "skipped"
TERMINAL = (SUCCESS, FAILED, NOT_CONFIGURED, SKIPPED)
RUNNER = f"{socket.gethostname()}:{os.getpid()}"

_claim_lock = threading.Lock()


class RunInProgressError(RuntimeError):
    def __init__(self, run: JobRun) -> None:
        super().__init__(
            f"{run.job_id} is already running (run {run.id}, started "
            f"{run.started_at:%Y-%m-%d %H:%M:%S} UTC); wait for it to finish"
        )
        self.run_id = run.id


def _now() -> datetime:
    return datetime.now(UTC)


def claim_run(
    engine: Engine,
    job_id: str,
    *,
    trigger: str,
    params: dict[str, Any],
    exclusive: bool = True,
    stale_after: timedelta = timedelta(hours=12),
) -> JobRun:
    """Insert the ``running`` row of a new run; with ``exclusive``, refuse while another one runs."""
    with _claim_lock, session_scope(engine) as session:
        if engine.dialect.name == "postgresql":
            session.execute(sa.select(sa.func.pg_advisory_xact_lock(zlib.crc32(job_id.encode()))))
        if exclusive:
            active = session.exec(
                select(JobRun)
                .where(JobRun.job_id == job_id, JobRun.status == RUNNING)
                .where(col(JobRun.trigger) != "backfill")
                .order_by(col(JobRun.id))
            ).all()
            for other in active:
                if other.started_at > _now() - stale_after:
                    raise RunInProgressError(other)
                other.status, other.finished_at = FAILED, _now()
                other.error = f"abandoned: still running after {stale_after}; its process probably died"
                session.add(other)
        run = JobRun(
            job_id=job_id,
            trigger=trigger,
            status=RUNNING,
            started_at=_now(),
            params={**params, "runner": RUNNER},
        )
        session.add(run)
        session.flush()
        return run


def finish_run(
    engine: Engine,
    run_id: int,
    status: str,
    *,
    figures: dict[str, Any] | None = None,
    error: str | None = None,
    investigations: list[int] | None = None,
) -> JobRun:
    with session_scope(engine) as session:
        run = session.get(JobRun, run_id)
        assert run is not None, f"job_run {run_id} vanished"
        run.status, run.finished_at, run.error = status, _now(), error
        run.figures = figures or {}
        run.investigations = investigations or []
        session.add(run)
    SCHEDULER_RUNS.labels(run.job_id, status).inc()
    return run


def record_progress(engine: Engine, run_id: int, done: int, total: int) -> None:
    with session_scope(engine) as session:
        session.execute(
            sa.update(JobRun).where(col(JobRun.id) == run_id).values(progress_done=done, progress_total=total)
        )


def record_skipped(
    engine: Engine, job_id: str, *, trigger: str, params: dict[str, Any], reason: str
) -> JobRun:
    """A scheduled run that found another run of its job in progress leaves a trace instead of queueing."""
    with session_scope(engine) as session:
        now = _now()
        run = JobRun(
            job_id=job_id, trigger=trigger, status=SKIPPED, started_at=now, finished_at=now,
            params={**params, "runner": RUNNER}, error=reason,
        )  # fmt: skip
        session.add(run)
        session.flush()
    SCHEDULER_RUNS.labels(job_id, SKIPPED).inc()
    return run


def close_orphans(engine: Engine, *, trigger: str, reason: str) -> int:
    """Mark ``running`` runs of ``trigger`` as failed; a new scheduler leader calls this for its own
    trigger, since scheduled runs only ever run in the leader and the previous one is gone."""
    with session_scope(engine) as session:
        result = session.execute(
            sa.update(JobRun)
            .where(col(JobRun.status) == RUNNING, col(JobRun.trigger) == trigger)
            .values(status=FAILED, finished_at=_now(), error=reason)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
