"""``uvicorn bench.ingest.server_app:create --factory [--workers N]``: what ``pricelens serve`` builds (API
only, scheduler standing by), importable so the benchmark can try several worker processes."""

from __future__ import annotations

from fastapi import FastAPI

from collector.server import build_server_app, freeze_heap
from collector.settings import get_settings


def create() -> FastAPI:
    app = build_server_app(get_settings(), scheduler=False, dashboard=False)
    freeze_heap()
    return app
