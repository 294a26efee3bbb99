"""Fixtures of the dashboard suite: a real server (``build_server_app``, as ``pricelens serve`` runs it,
without the scheduler) on a fresh migrated Postgres database, served by uvicorn in a thread, and Debian's
chromium driven by Playwright (no browser download)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from collector.db import create_db_engine
from collector.migrate import upgrade
from collector.server import build_server_app
from collector.settings import Settings
from tests.dashboard import seed
from tests.live import free_port
from tests.pg import fresh_database

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@dataclass
class LiveDashboard:
    url: str
    engine: sa.Engine
    settings: Settings

    def login(self, client: httpx.Client, username: str) -> str:
        """Log ``client`` in over HTTP; returns the session's CSRF token."""
        page = client.get(f"{self.url}/login")
        token = csrf_from(page.text)
        response = client.post(
            f"{self.url}/login",
            data={
                "username": username,
                "password": seed.PASSWORD,
                "csrf_token": token,
                "next": "/investigations",
            },
        )
        assert response.status_code == 303, response.text
        return csrf_from(client.get(f"{self.url}/investigations").text)


def csrf_from(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the test process keeps its own handlers
        pass


@pytest.fixture(scope="module")
def live_dashboard() -> Iterator[LiveDashboard]:
    """A server on its own database, with an admin ``ada`` and a viewer ``vic``."""
    with fresh_database("pl_dash") as url:
        upgrade(url)
        settings = Settings(
            database_url=url, secret_key="test-secret-key-for-the-dashboard", clickhouse_url=""
        )
        app = build_server_app(settings, scheduler=False)
        engine = create_db_engine(url)
        seed.user(engine, "ada", "admin")
        seed.user(engine, "vic", "viewer")
        port = free_port()
        server = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "the dashboard did not start"
            time.sleep(0.05)
        try:
            yield LiveDashboard(url=f"http://127.0.0.1:{port}", engine=engine, settings=settings)
        finally:
            server.should_exit = True
            thread.join(10)
            app.state.engine.dispose()
            engine.dispose()


@pytest.fixture(scope="session")
def base_url() -> str | None:
    """Shadows pytest-playwright's fallback ``base_url``, a method fixture pytest 9 warns about (and the
    suite turns warnings into errors); the tests pass full URLs."""
    return None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            'Debian\'s chromium is missing: apt-get install -y chromium, or deselect with -m "not browser"'
        )
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync",
        ],
    }  # fmt: skip


@pytest.fixture
def shots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
