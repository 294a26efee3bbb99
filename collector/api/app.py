"""The collector application: routers, error mapping (503 when the database is down), metrics."""

from __future__ import annotations

import logging
import time
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic.json_schema import models_json_schema
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from collector import __version__
from collector.api import agents, health, ingest, investigations
from collector.db import create_db_engine
from collector.metrics import DATABASE_ERRORS, REQUEST_LATENCY
from collector.ratelimit import RateLimiter
from collector.schemas import EventBatchIn, EventIn
from collector.settings import Settings, get_settings

log = logging.getLogger("pricelens.api")


def _database_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
        return True
    return isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated


class TimingMiddleware:
    """``REQUEST_LATENCY`` per method, route and status.

    A plain ASGI middleware: ``@app.middleware("http")`` (Starlette's ``BaseHTTPMiddleware``) runs each
    request in a task group with memory streams around the body, a cost paid on every request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        # An exception propagating from here is answered by ServerErrorMiddleware (outside this one,
        # with the status of the ``Exception`` handler): like before, it is not observed.
        await self.app(scope, receive, send_status)
        path = getattr(scope.get("route"), "path", "unmatched")
        REQUEST_LATENCY.labels(scope["method"], path, str(status)).observe(time.perf_counter() - started)


def create_app(settings: Settings | None = None, *, engine: sa.Engine | None = None) -> FastAPI:
    """Build the API app; ``pricelens serve`` mounts the dashboard and scheduler around it."""
    settings = settings or get_settings()
    app = FastAPI(
        title="Pricelens collector",
        version=__version__,
        description="Ingest errors from price-list services and triage them as investigations.",
    )
    app.state.settings = settings
    app.state.engine = engine or create_db_engine(settings.effective_database_url)
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)

    for module in (ingest, investigations, agents, health):
        app.include_router(module.router)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            parts.append(f"{loc or 'body'}: {err.get('msg', 'invalid')}")
        return JSONResponse({"detail": "; ".join(parts)}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        if _database_unavailable(exc):
            DATABASE_ERRORS.inc()
            log.warning("database unavailable during %s %s: %s", request.method, request.url.path, exc)
            return JSONResponse(
                {"detail": "the database is unavailable; retry later"},
                status_code=503,
                headers={"Retry-After": str(settings.db_retry_after_seconds)},
            )
        log.exception("unexpected error during %s %s", request.method, request.url.path)
        return JSONResponse(
            {"detail": "internal error; the collector's log has the details"}, status_code=500
        )

    app.add_middleware(TimingMiddleware)
    app.openapi = lambda: _openapi_with_contract(app)  # type: ignore[method-assign]
    return app


def _openapi_with_contract(app: FastAPI) -> dict[str, Any]:
    """The ingest route reads its body by hand (gzip, limits), so its models are added to the schema here."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        _, definitions = models_json_schema(
            [(EventIn, "validation"), (EventBatchIn, "validation")],
            ref_template="#/components/schemas/{model}",
        )
        schema.setdefault("components", {}).setdefault("schemas", {}).update(definitions.get("$defs", {}))
        app.openapi_schema = schema
    return app.openapi_schema
