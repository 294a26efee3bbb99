"""``python -m dashboard`` runs the dashboard alone against the configured database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.live import free_port

pytestmark = pytest.mark.postgres


def test_python_m_dashboard_serves_pages(pg_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PRICELENS_DATABASE_URL": pg_url, "PRICELENS_DATA_DIR": str(tmp_path)}
    log = (tmp_path / "dashboard.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, (tmp_path / "dashboard.log").read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "python -m dashboard did not start"
            time.sleep(0.1)
        login = httpx.get(f"{base}/login")
        assert login.status_code == 200 and 'name="csrf_token"' in login.text
        assert httpx.get(f"{base}/jobs").headers["location"] == "/login?next=%2Fjobs"
        assert httpx.get(f"{base}/static/app.css").status_code == 200
        assert httpx.get(f"{base}/api/v1/pricelens/log_event/").status_code == 404  # no ingest API here
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
