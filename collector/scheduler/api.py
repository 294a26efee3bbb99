"""Admin endpoints for the jobs (admin-scoped token): list, run now, pause, resume, reschedule, backfill,
run history. Thin routes: :mod:`control` does the work, this module maps its errors to HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel

from collector.api.deps import AdminToken, SessionDep
from collector.models import JobRun
from collector.scheduler import control, jobs, runs
from collector.scheduler.service import SchedulerService, current

router = APIRouter(prefix="/api/v1/pricelens/admin/jobs", tags=["admin: jobs"])
ServiceDep = Annotated[SchedulerService, Depends(current)]
T = TypeVar("T")


class RunOut(BaseModel):
    id: int
    job_id: str
    trigger: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    duration_seconds: float | None
    params: dict[str, Any]
    figures: dict[str, Any]
    progress_done: int
    progress_total: int
    error: str | None
    investigations: list[int]


class InvestigationRef(BaseModel):
    id: int
    kind: str
    supplier: str | None
    title: str
    status: str


class RunDetail(RunOut):
    opened: list[InvestigationRef]


class RunNow(BaseModel):
    day: date | None = None


class Schedule(BaseModel):
    cron: str


class BackfillIn(BaseModel):
    start: date
    end: date
    reprocess: Literal["missing", "failed", "all"] = "missing"
    dry_run: bool = False


def _run_out(run: JobRun) -> RunOut:
    duration = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
    return RunOut(duration_seconds=duration, **run.model_dump())


def _mapped(action: Callable[[], T]) -> T:
    try:
        return action()
    except jobs.UnknownJobError as exc:
        raise HTTPException(404, str(exc)) from None
    except runs.RunInProgressError as exc:
        raise HTTPException(409, str(exc)) from None
    except ValueError as exc:  # CronError included: a bad cron or backfill range, said in words
        raise HTTPException(422, str(exc)) from None


@router.get("")
def list_jobs(session: SessionDep, service: ServiceDep, _: AdminToken) -> list[control.JobView]:
    return control.list_jobs(service, session)


@router.post("/{job_id}/run", status_code=202)
def run_now(job_id: str, service: ServiceDep, _: AdminToken, body: RunNow | None = None) -> RunOut:
    day = body.day if body else None
    return _run_out(_mapped(lambda: control.run_now(service, job_id, day)))


@router.post("/{job_id}/pause")
def pause(job_id: str, session: SessionDep, service: ServiceDep, _: AdminToken) -> control.JobView:
    return _mapped(lambda: control.pause(service, session, job_id))


@router.post("/{job_id}/resume")
def resume(job_id: str, session: SessionDep, service: ServiceDep, _: AdminToken) -> control.JobView:
    return _mapped(lambda: control.resume(service, session, job_id))


@router.put("/{job_id}/schedule")
def reschedule(
    job_id: str, body: Schedule, session: SessionDep, service: ServiceDep, _: AdminToken
) -> control.JobView:
    return _mapped(lambda: control.reschedule(service, session, job_id, body.cron))


@router.post("/backfill", status_code=202)
def start_backfill(body: BackfillIn, service: ServiceDep, _: AdminToken) -> RunOut:
    run = _mapped(
        lambda: control.start_backfill(
            service, body.start, body.end, reprocess=body.reprocess, dry_run=body.dry_run
        )
    )
    return _run_out(run)


@router.get("/runs")
def list_runs(
    session: SessionDep,
    _: AdminToken,
    job_id: str | None = None,
    status: str | None = None,
    trigger: str | None = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[RunOut]:
    found = control.list_runs(
        session, job_id=job_id, status=status, trigger=trigger, since=since, limit=limit, offset=offset
    )
    return [_run_out(run) for run in found]


@router.get("/runs/{run_id}")
def run_detail(run_id: int, session: SessionDep, _: AdminToken) -> RunDetail:
    run = session.get(JobRun, run_id)
    if run is None:
        raise HTTPException(404, f"no job run {run_id}")
    opened = [
        InvestigationRef(id=i.id or 0, kind=i.kind, supplier=i.supplier, title=i.title, status=i.status)
        for i in control.run_investigations(session, run)
    ]
    return RunDetail(opened=opened, **_run_out(run).model_dump())
