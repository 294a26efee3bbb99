"""Jobs: the schedule, run history, backfill, and admin actions through :class:`dashboard.jobs.JobControl`.

A running run's progress is polled by ``static/app.js`` from ``/jobs/runs/{id}/progress`` (JSON).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from collector.models import JobRun
from dashboard import queries as dq
from dashboard.deps import Actor, DbDep, StateDep, Viewer
from dashboard.jobs import REPROCESS, JobError
from dashboard.web import back, render

router = APIRouter()


@router.get("/jobs", response_class=HTMLResponse, include_in_schema=False)
def jobs_page(request: Request, db: DbDep, state: StateDep, user: Viewer, job: str = "") -> Response:
    try:
        jobs, jobs_error = state.jobs.list_jobs(), ""
    except Exception as exc:  # the schedule is nice to have; the run history below still helps
        jobs, jobs_error = [], f"The schedule could not be read: {exc}"
    context = {
        "jobs": jobs,
        "jobs_error": jobs_error,
        "last": dq.last_run_per_job(db),
        "runs": dq.recent_runs(db, job_id=job or None),
        "running": dq.running_runs(db),
        "job_filter": job,
        "reprocess": REPROCESS,
    }
    return render(request, state, "jobs.html", context, user=user)


def progress(run: JobRun) -> dict[str, Any]:
    total = run.progress_total
    return {
        "id": run.id,
        "status": run.status,
        "done": run.progress_done,
        "total": total,
        "percent": round(100 * run.progress_done / total) if total else None,
        "finished": run.finished_at is not None,
    }


@router.get("/jobs/runs/{run_id}/progress", include_in_schema=False)
def run_progress(run_id: int, db: DbDep, _: Viewer) -> JSONResponse:
    run = db.get(JobRun, run_id)
    if run is None:
        return JSONResponse({"detail": f"no run {run_id}"}, status_code=404)
    return JSONResponse(progress(run), headers={"Cache-Control": "no-store"})


def _do(request: Request, state: StateDep, action: Any) -> Response:
    try:
        return back(request, state, "/jobs", "ok", action())
    except JobError as exc:
        return back(request, state, "/jobs", "error", str(exc))


@router.post("/jobs/{job_id}/run", include_in_schema=False)
def run_now(request: Request, job_id: str, state: StateDep, user: Actor) -> Response:
    return _do(request, state, lambda: state.jobs.run_now(job_id, actor=user.username))


@router.post("/jobs/{job_id}/pause", include_in_schema=False)
def pause(request: Request, job_id: str, state: StateDep, user: Actor) -> Response:
    return _do(request, state, lambda: state.jobs.pause(job_id, actor=user.username))


@router.post("/jobs/{job_id}/resume", include_in_schema=False)
def resume(request: Request, job_id: str, state: StateDep, user: Actor) -> Response:
    return _do(request, state, lambda: state.jobs.resume(job_id, actor=user.username))


@router.post("/jobs/backfill", include_in_schema=False)
def backfill(
    request: Request,
    state: StateDep,
    user: Actor,
    start: Annotated[str, Form()] = "",
    end: Annotated[str, Form()] = "",
    reprocess: Annotated[str, Form()] = "missing",
    dry_run: Annotated[str, Form()] = "",
) -> Response:
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        return back(
            request, state, "/jobs", "error", "Give the backfill's start and end as dates (YYYY-MM-DD)."
        )
    return _do(
        request,
        state,
        lambda: state.jobs.start_backfill(
            first, last, reprocess=reprocess, dry_run=bool(dry_run), actor=user.username
        ),
    )
