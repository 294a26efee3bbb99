"""Assemble what ``pricelens serve`` runs: the API, the jobs admin API, the dashboard under ``/``, and
the scheduler in-process (leading unless ``--no-scheduler``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

from collector.api.app import create_app
from collector.scheduler import api as jobs_api
from collector.scheduler.service import start_in_process
from collector.settings import Settings
from dashboard.app import mount_dashboard


def build_server_app(settings: Settings, *, scheduler: bool = True, dashboard: bool = True) -> FastAPI:
    app = create_app(settings)
    app.include_router(jobs_api.router)
    if dashboard:
        mount_dashboard(app, settings)
    app.router.lifespan_context = _scheduler_lifespan(settings, lead=scheduler)
    return app


def _scheduler_lifespan(
    settings: Settings, *, lead: bool
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        service = start_in_process(settings, lead=lead)
        try:
            yield
        finally:
            service.shutdown(wait=False)

    return lifespan
