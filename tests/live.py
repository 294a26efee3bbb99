"""A real collector process (``pricelens serve``) for integration tests, with start/stop for outages."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from collector.db import create_db_engine, session_scope
from collector.tokens import create_token


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveCollector:
    """``pricelens serve --no-scheduler`` on a free port against ``database_url``."""

    def __init__(self, database_url: str, workdir: Path, extra_env: dict[str, str] | None = None) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.engine = create_db_engine(database_url)
        self.log_path = workdir / f"collector-{self.port}.log"
        self.ingest_token = ""
        self.admin_token = ""

    def create_tokens(self) -> None:
        with session_scope(self.engine) as session:
            self.ingest_token = create_token(session=session, name="test-ingest", scope="ingest")[1]
            self.admin_token = create_token(session=session, name="test-admin", scope="admin")[1]

    def start(self, timeout: float = 30.0) -> None:
        env = {
            **os.environ,
            "PRICELENS_DATABASE_URL": self.database_url,
            "PRICELENS_DATA_DIR": str(self.workdir),
            "PRICELENS_RATE_LIMIT_PER_SECOND": "100000",
            "PRICELENS_RATE_LIMIT_BURST": "100000",
            **self.extra_env,
        }
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "collector", "serve", "--no-scheduler", "--port", str(self.port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"collector exited early:\n{self.log_path.read_text()[-4000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"collector did not start in {timeout}s:\n{self.log_path.read_text()[-4000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def events(self, service: str | None = None) -> list[dict[str, Any]]:
        """Rows of pricelens_event (as dicts), oldest id first."""
        query = "SELECT * FROM pricelens_event"
        params: dict[str, Any] = {}
        if service is not None:
            query += " WHERE service = :service"
            params["service"] = service
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.text(query + " ORDER BY id"), params)]

    def investigations(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT * FROM pricelens_investigation ORDER BY id"))
            return [dict(r._mapping) for r in rows]

    def close(self) -> None:
        self.stop()
        self.engine.dispose()
