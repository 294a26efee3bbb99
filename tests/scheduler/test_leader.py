"""Two scheduler processes on one Postgres: one leads, each scheduled run happens once, and when the
leader is killed the standby takes over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from collector.models import JobRun

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def start_scheduler(pg_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PRICELENS_DATABASE_URL": pg_url,
        "PRICELENS_CLICKHOUSE_URL": "",
        "PRICELENS_PURGE_CRON": "* * * * * *",  # every second
        "PRICELENS_ANALYSIS_CRON": "0 0 1 1 *",
        "PRICELENS_LEADER_POLL_SECONDS": "0.2",
    }
    code = "from collector.scheduler.cli import run_scheduler; run_scheduler()"
    return subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )


def purge_runs(engine: sa.Engine) -> list[JobRun]:
    with Session(engine) as s:
        return list(
            s.exec(select(JobRun).where(JobRun.job_id == "purge_events").order_by(col(JobRun.id))).all()
        )


def wait_for(predicate: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def test_one_leader_and_takeover(pg_url: str, pg_engine: sa.Engine, tmp_path: Path) -> None:
    first = start_scheduler(pg_url, tmp_path / "a.log")
    wait_for(lambda: len(purge_runs(pg_engine)) >= 1, 15)
    second = start_scheduler(pg_url, tmp_path / "b.log")
    try:
        time.sleep(4)
        runs_before = purge_runs(pg_engine)
        runners = {r.params["runner"] for r in runs_before}
        assert runners == {f"{os.uname().nodename}:{first.pid}"}
        assert {r.status for r in runs_before} <= {"success", "running"}
        # Each fire time ran once: one run per second, none skipped for a twin.
        per_second = Counter(r.started_at.replace(microsecond=0) for r in runs_before)
        assert max(per_second.values()) == 1
        assert len(runs_before) >= 4

        first.send_signal(signal.SIGKILL)
        first.wait()
        wait_for(
            lambda: any(r.params["runner"].endswith(f":{second.pid}") for r in purge_runs(pg_engine)), 15
        )
        time.sleep(2)
        after = purge_runs(pg_engine)[len(runs_before) :]
        assert {r.params["runner"] for r in after} <= {f"{os.uname().nodename}:{second.pid}"}
        assert len([r for r in after if r.params["runner"].endswith(f":{second.pid}")]) >= 2
        assert {r.trigger for r in after} == {"schedule"}
    finally:
        for proc in (first, second):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=15)
    assert second.returncode == 0
