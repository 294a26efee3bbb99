"""Putting the dashboard on an app: ``mount_dashboard`` for ``pricelens serve`` (pages at ``/``, assets at
``/static/``, on the collector's ``app.state.engine``), ``create_dashboard_app`` for running it alone.

Everything the pages need (templates, signer, job control) hangs off ``app.state.dashboard``, so tests
can build an app around their own database and job control.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine

from collector.db import create_db_engine
from collector.scheduler.service import start_in_process
from collector.settings import Settings, get_settings
from dashboard import charts, formatting
from dashboard.auth import ForbiddenError, LoginRequiredError, SessionSigner
from dashboard.deps import DashboardState, get_state
from dashboard.jobs import JobControl, SchedulerJobs
from dashboard.routes import agents, auth, investigations, jobs, suppliers
from dashboard.web import SECURITY_HEADERS, render

HERE = Path(__file__).parent


def build_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    env = templates.env
    env.autoescape = True  # every template, whatever its extension
    env.trim_blocks = env.lstrip_blocks = True
    env.filters.update(
        timeago=formatting.timeago,
        abstime=formatting.absolute,
        compact=formatting.compact,
        size=formatting.size,
        percent=formatting.percent,
        urlpart=formatting.urlpart,
        pretty_json=formatting.pretty_json,
    )
    env.globals.update(
        status_badge=formatting.status_badge,
        duration=formatting.duration,
        sparkline=charts.sparkline,
        series_chart=charts.series_chart,
    )
    return templates


def mount_dashboard(app: FastAPI, settings: Settings, *, jobs_control: JobControl | None = None) -> None:
    """Add the dashboard's pages and assets to ``app`` (which must have ``app.state.engine``)."""
    engine: Engine = app.state.engine
    app.state.dashboard = DashboardState(
        settings=settings,
        signer=SessionSigner(settings.secret_key.get_secret_value()),
        templates=build_templates(),
        jobs=jobs_control or SchedulerJobs(settings, engine),
    )
    for module in (auth, investigations, suppliers, jobs, agents):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="dashboard-static")

    @app.exception_handler(LoginRequiredError)
    async def to_login(_: Request, exc: LoginRequiredError) -> Response:
        from urllib.parse import urlencode

        return RedirectResponse("/login?" + urlencode({"next": exc.next_url}), status_code=303)

    @app.exception_handler(ForbiddenError)
    async def forbidden(request: Request, exc: ForbiddenError) -> Response:
        state = get_state(request)
        user = getattr(request.state, "user", None)
        return render(request, state, "forbidden.html", {"reason": str(exc)}, user=user, status_code=403)


def create_dashboard_app(
    settings: Settings | None = None, *, engine: Engine | None = None, jobs_control: JobControl | None = None
) -> FastAPI:
    """The dashboard alone (``python -m dashboard``): no ingest API, same database."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Job actions run on a scheduler service; alone, the dashboard hosts a non-leading one.
        service = start_in_process(settings, lead=False)
        try:
            yield
        finally:
            service.shutdown(wait=False)

    app = FastAPI(
        title="Pricelens dashboard", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.state.settings = settings
    app.state.engine = engine or create_db_engine(settings.effective_database_url)
    mount_dashboard(app, settings, jobs_control=jobs_control)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> Response:
        return Response("ok", media_type="text/plain", headers=SECURITY_HEADERS)

    return app


__all__ = ["create_dashboard_app", "mount_dashboard"]
