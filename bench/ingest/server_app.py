"""``uvicorn bench.ingest.server_app:create --factory [--workers N]``: what ``pricelens serve`` builds (API
only, scheduler standing by), importable so the benchmark can try several worker processes.

With ``PRICELENS_BENCH_PURE_ASGI_TIMING=1`` the app's ``@app.middleware("http")`` timing middleware
(Starlette's ``BaseHTTPMiddleware``) is swapped for a plain ASGI one that records the same metric, to
measure what that middleware costs per request.
"""

from __future__ import annotations

import os
import time
from typing import Any

from fastapi import FastAPI
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from collector.metrics import REQUEST_LATENCY
from collector.server import build_server_app
from collector.settings import get_settings


class TimingMiddleware:
    """``REQUEST_LATENCY`` per method, route and status, without wrapping the request body stream."""

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

        try:
            await self.app(scope, receive, send_status)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            REQUEST_LATENCY.labels(scope["method"], path, str(status)).observe(time.perf_counter() - started)


def create() -> FastAPI:
    app = build_server_app(get_settings(), scheduler=False, dashboard=False)
    if os.environ.get("PRICELENS_BENCH_PURE_ASGI_TIMING") == "1":
        kept: list[Any] = [m for m in app.user_middleware if m.cls is not BaseHTTPMiddleware]
        app.user_middleware = kept
        app.add_middleware(TimingMiddleware)
    return app
