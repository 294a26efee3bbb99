"""Agents: every sidecar as last heard from; one whose heartbeat is overdue stands out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from collector import queries
from dashboard.deps import DbDep, StateDep, Viewer
from dashboard.web import render

router = APIRouter()
# Agents beat every 60 s by default; three missed beats plus slack means something is wrong.
STALE_AFTER = timedelta(minutes=5)


@router.get("/agents", response_class=HTMLResponse, include_in_schema=False)
def agents(request: Request, db: DbDep, state: StateDep, user: Viewer) -> Response:
    now = datetime.now(UTC)
    rows = queries.list_agents(db)
    stale = {a.hostname for a in rows if now - a.last_heartbeat > STALE_AFTER}
    context = {
        "agents": rows,
        "stale": stale,
        "stale_minutes": int(STALE_AFTER.total_seconds() // 60),
        "collector_url": str(request.base_url).rstrip("/"),
    }
    return render(request, state, "agents.html", context, user=user)
