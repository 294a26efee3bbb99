"""The investigations stream and one investigation's page, with the triage actions.

Routes only parse, call ``collector.queries`` / ``collector.triage`` / ``dashboard.queries`` and render;
every action answers with a redirect back to where it came from, carrying a one-line message.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import col, select

from collector import queries, triage
from collector.models import Investigation, User
from dashboard import queries as dq
from dashboard.deps import Actor, DbDep, StateDep, Viewer
from dashboard.stream import BULK_ACTIONS, PER_PAGE, RANGES, SORTS, STATUS_VIEWS, StreamQuery
from dashboard.web import back, render, return_to

router = APIRouter()
EVENTS_SHOWN = 20


@router.get("/investigations", response_class=HTMLResponse, include_in_schema=False)
def stream(request: Request, db: DbDep, state: StateDep, user: Viewer) -> Response:
    view = StreamQuery.parse(request.query_params)
    now = datetime.now(UTC)
    page = queries.list_investigations(
        db, view.to_filter(now), sort=view.sort_key, descending=view.order == "desc", page=view.page,
        per_page=PER_PAGE,
    )  # fmt: skip
    ids = [i.id for i in page.items if i.id is not None]
    context: dict[str, Any] = {
        "view": view,
        "page": page,
        "sparks": dq.sparklines(db, ids, now=now),
        "services": queries.distinct_values(db, Investigation.service),
        "suppliers": queries.distinct_values(db, Investigation.supplier),
        "kinds": queries.distinct_values(db, Investigation.kind),
        "status_views": list(STATUS_VIEWS),
        "ranges": list(RANGES),
        "sorts": list(SORTS),
        "bulk_actions": list(BULK_ACTIONS),
        "first_run": page.total == 0 and not dq.has_investigations(db),
        "collector_url": str(request.base_url).rstrip("/"),
    }
    return render(request, state, "investigations.html", context, user=user)


@router.post("/investigations/bulk", include_in_schema=False)
def bulk(
    request: Request,
    db: DbDep,
    state: StateDep,
    user: Actor,
    action: Annotated[str, Form()] = "",
    ids: Annotated[list[int] | None, Form()] = None,
    next: Annotated[str, Form()] = "",
) -> Response:
    target = return_to(next, "/investigations")
    status = BULK_ACTIONS.get(action)
    if status is None:
        return back(request, state, target, "error", "Choose an action.")
    chosen = sorted(set(ids or []))
    if not chosen:
        return back(request, state, target, "error", "Select at least one investigation.")
    changed = 0
    for investigation_id in chosen:
        try:
            triage.change_status(
                session=db, investigation_id=investigation_id, status=status, actor=user.username
            )
            changed += 1
        except triage.NotFoundError:
            continue
    db.commit()
    noun = "investigation" if changed == 1 else "investigations"
    return back(request, state, target, "ok", f"{changed} {noun} marked {status}.")


@router.get("/investigations/{investigation_id}", response_class=HTMLResponse, include_in_schema=False)
def detail(request: Request, investigation_id: int, db: DbDep, state: StateDep, user: Viewer) -> Response:
    inv = queries.get_investigation(db, investigation_id)
    if inv is None:
        missing = {"what": f"Investigation {investigation_id}", "back": "/investigations"}
        return render(request, state, "not_found.html", missing, user=user, status_code=404)
    context: dict[str, Any] = {
        "inv": inv,
        "events": queries.latest_events(db, investigation_id, limit=EVENTS_SHOWN),
        "history": queries.activity(db, investigation_id),
        "chart": dq.event_histogram(db, investigation_id, days=30),
        "usernames": list(db.exec(select(User.username).where(col(User.disabled).is_(False))).all()),
        "statuses": BULK_ACTIONS,
    }
    return render(request, state, "investigation.html", context, user=user)


@router.post("/investigations/{investigation_id}/status", include_in_schema=False)
def set_status(
    request: Request, investigation_id: int, db: DbDep, state: StateDep, user: Actor,
    status: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    url = f"/investigations/{investigation_id}"
    try:
        triage.change_status(
            session=db, investigation_id=investigation_id, status=status, actor=user.username
        )
    except (triage.TriageError, triage.NotFoundError) as exc:
        return back(request, state, url, "error", str(exc))
    db.commit()
    return back(request, state, url, "ok", f"Marked {status}.")


@router.post("/investigations/{investigation_id}/assign", include_in_schema=False)
def set_assignee(
    request: Request, investigation_id: int, db: DbDep, state: StateDep, user: Actor,
    assignee: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    url = f"/investigations/{investigation_id}"
    try:
        inv = triage.assign(
            session=db, investigation_id=investigation_id, assignee=assignee, actor=user.username
        )
    except (triage.TriageError, triage.NotFoundError) as exc:
        return back(request, state, url, "error", str(exc))
    db.commit()
    return back(request, state, url, "ok", f"Assigned to {inv.assignee}." if inv.assignee else "Unassigned.")


@router.post("/investigations/{investigation_id}/comment", include_in_schema=False)
def comment(
    request: Request, investigation_id: int, db: DbDep, state: StateDep, user: Actor,
    text: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    url = f"/investigations/{investigation_id}"
    try:
        triage.add_comment(session=db, investigation_id=investigation_id, text=text, actor=user.username)
    except (triage.TriageError, triage.NotFoundError) as exc:
        return back(request, state, url, "error", str(exc))
    db.commit()
    return back(request, state, url + "#activity", "ok", "Comment added.")
