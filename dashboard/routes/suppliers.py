"""Suppliers at a glance, and one supplier's charts (from ``supplier_day``) and investigations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from collector import queries
from collector.queries import InvestigationFilter
from dashboard import queries as dq
from dashboard.charts import series_chart
from dashboard.deps import DbDep, StateDep, Viewer
from dashboard.formatting import percent
from dashboard.web import render

router = APIRouter()
CHART_DAYS = 60


@router.get("/suppliers", response_class=HTMLResponse, include_in_schema=False)
def suppliers(request: Request, db: DbDep, state: StateDep, user: Viewer) -> Response:
    rows = dq.supplier_health(db)
    context = {"rows": rows, "latest_day": dq.latest_supplier_day(db)}
    return render(request, state, "suppliers.html", context, user=user)


@router.get("/suppliers/{supplier:path}", response_class=HTMLResponse, include_in_schema=False)
def supplier(request: Request, supplier: str, db: DbDep, state: StateDep, user: Viewer) -> Response:
    days = dq.supplier_series(db, supplier, days=CHART_DAYS)
    page = queries.list_investigations(db, InvestigationFilter(supplier=supplier), per_page=50)
    if not days and page.total == 0:
        missing = {"what": f"Supplier {supplier}", "back": "/suppliers"}
        return render(request, state, "not_found.html", missing, user=user, status_code=404)
    ids = [i.id for i in page.items if i.id is not None]

    def share(num: int, den: int) -> float:
        return num / den if den else 0.0

    charts = [
        ("Rows loaded", series_chart([(d.day, float(d.rows_loaded)) for d in days])),
        (
            "Rejected share",
            series_chart(
                [(d.day, share(d.rows_rejected, d.rows_total)) for d in days],
                kind="line",
                fmt=percent,
                css="warn",
            ),
        ),
        (
            "Price-change share",
            series_chart([(d.day, d.price_change_share) for d in days], kind="line", fmt=percent, css="alt"),
        ),
        ("Failed loads", series_chart([(d.day, float(d.loads_failed)) for d in days], css="bad")),
    ]
    context: dict[str, Any] = {
        "supplier": supplier,
        "days": days,
        "latest": days[-1] if days else None,
        "charts": charts,
        "page": page,
        "sparks": dq.sparklines(db, ids, now=datetime.now(UTC)),
    }
    return render(request, state, "supplier.html", context, user=user)
