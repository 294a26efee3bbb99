"""The admin endpoints for jobs, through the collector app with real tokens and a real Postgres."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session
from starlette.exceptions import StarletteDeprecationWarning

from collector.api.app import create_app
from collector.db import session_scope
from collector.scheduler import service as service_module
from collector.scheduler.api import router
from collector.scheduler.service import SchedulerService
from collector.tokens import create_token
from tests.clickhouse_server import ClickHouseServer
from tests.scheduler.conftest import make_settings

with warnings.catch_warnings():
    # starlette 1.x asks for httpx2 in its TestClient; httpx still works and httpx2 is no dependency yet.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.postgres
BASE = "/api/v1/pricelens/admin/jobs"


def build_client(
    pg_url: str, pg_engine: sa.Engine, clickhouse_url: str = ""
) -> Iterator[tuple[TestClient, str]]:
    settings = make_settings(pg_url, clickhouse_url)
    service = SchedulerService(settings, lead=False).start()
    app = create_app(settings, engine=pg_engine)
    app.include_router(router)
    app.dependency_overrides[service_module.current] = lambda: service
    with session_scope(pg_engine) as session:
        _, admin = create_token(session=session, name="ops", scope="admin")
        _, ingest = create_token(session=session, name="ftp01", scope="ingest")
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {admin}"
        yield client, ingest
    service.shutdown()


@pytest.fixture
def api(pg_url: str, pg_engine: sa.Engine) -> Iterator[tuple[TestClient, str]]:
    yield from build_client(pg_url, pg_engine)


def wait_finished(client: TestClient, run_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        run: dict[str, Any] = client.get(f"{BASE}/runs/{run_id}").json()
        if run["status"] != "running" or time.monotonic() > deadline:
            return run
        time.sleep(0.1)


def test_admin_scope_is_required(api: tuple[TestClient, str]) -> None:
    client, ingest = api
    answer = client.get(BASE, headers={"Authorization": f"Bearer {ingest}"})
    assert answer.status_code == 403
    assert answer.json() == {"detail": "token 'ftp01' has scope 'ingest'; this needs an admin token"}
    assert client.get(BASE, headers={"Authorization": ""}).status_code == 401


def test_list_pause_resume_reschedule(api: tuple[TestClient, str]) -> None:
    client, _ = api
    jobs = {j["id"]: j for j in client.get(BASE).json()}
    assert set(jobs) == {"daily_analysis", "purge_events"}
    assert jobs["daily_analysis"]["schedule"] == "30 2 * * *"
    assert jobs["daily_analysis"]["paused"] is False and jobs["daily_analysis"]["next_run_at"]
    assert jobs["daily_analysis"]["last_status"] is None

    assert client.post(f"{BASE}/daily_analysis/pause").json()["paused"] is True
    moved = client.put(f"{BASE}/daily_analysis/schedule", json={"cron": "0 6 * * 1-5"}).json()
    assert (moved["schedule"], moved["paused"]) == ("0 6 * * mon,tue,wed,thu,fri", True)
    resumed = client.post(f"{BASE}/daily_analysis/resume").json()
    assert resumed["paused"] is False and resumed["next_run_at"].endswith("T06:00:00Z")

    bad = client.put(f"{BASE}/daily_analysis/schedule", json={"cron": "0 25 * * *"})
    assert bad.status_code == 422
    assert bad.json()["detail"] == (
        "invalid cron expression '0 25 * * *': Error validating expression '25': "
        "the last value (25) is higher than the maximum value (23)"
    )
    missing = client.post(f"{BASE}/nightly/pause")
    assert (missing.status_code, missing.json()["detail"]) == (
        404, "no job named 'nightly'; jobs: daily_analysis, purge_events",
    )  # fmt: skip


def test_run_now_and_history(api: tuple[TestClient, str], pg_engine: sa.Engine) -> None:
    client, _ = api
    started = client.post(f"{BASE}/daily_analysis/run", json={"day": "2024-03-15"})
    assert started.status_code == 202
    run = wait_finished(client, started.json()["id"])
    assert (run["status"], run["error"], run["params"]["day"]) == (
        "not_configured", "ClickHouse not configured", "2024-03-15",
    )  # fmt: skip
    purge = wait_finished(client, client.post(f"{BASE}/purge_events/run").json()["id"])
    assert purge["status"] == "success" and purge["duration_seconds"] >= 0

    listed = client.get(BASE).json()
    assert {j["id"]: j["last_status"] for j in listed} == {
        "daily_analysis": "not_configured", "purge_events": "success",
    }  # fmt: skip
    assert [r["job_id"] for r in client.get(f"{BASE}/runs").json()] == ["purge_events", "daily_analysis"]
    assert [r["id"] for r in client.get(f"{BASE}/runs", params={"status": "success"}).json()] == [purge["id"]]
    assert client.get(f"{BASE}/runs/999999").status_code == 404


def test_backfill_ranges_are_validated(api: tuple[TestClient, str]) -> None:
    client, _ = api
    reversed_range = client.post(f"{BASE}/backfill", json={"start": "2024-03-02", "end": "2024-03-01"})
    assert reversed_range.status_code == 422
    assert (
        reversed_range.json()["detail"]
        == "backfill range is reversed: start 2024-03-02 is after end 2024-03-01"
    )
    years = client.post(f"{BASE}/backfill", json={"start": "2020-01-01", "end": "2024-01-01"})
    assert years.status_code == 422 and years.json()["detail"].startswith("backfill range of 1462 days")
    assert client.get(f"{BASE}/runs").json() == []


@pytest.mark.clickhouse
def test_backfill_progress_and_opened_investigations(
    pg_url: str, pg_engine: sa.Engine, clickhouse: ClickHouseServer, scenario_db: str
) -> None:
    for client, _ in build_client(pg_url, pg_engine, clickhouse.url(scenario_db)):
        body = {"start": "2024-03-01", "end": "2024-03-31"}
        started = client.post(f"{BASE}/backfill", json=body)
        assert started.status_code == 202
        second = client.post(f"{BASE}/backfill", json=body)
        assert second.status_code == 409
        assert second.json()["detail"].startswith(f"backfill is already running (run {started.json()['id']}")
        run = wait_finished(client, started.json()["id"])
        assert (run["status"], run["progress_done"], run["progress_total"]) == ("success", 31, 31)
        assert sorted((i["kind"], i["supplier"]) for i in run["opened"]) == [
            ("price_jump", "jumper"), ("reject_spike", "rejecter"), ("row_drop", "dropper"),
            ("stale_supplier", "broken"), ("stale_supplier", "quiet"),
        ]  # fmt: skip
        days = client.get(
            f"{BASE}/runs", params={"job_id": "daily_analysis", "trigger": "backfill", "limit": 100}
        )
        assert len(days.json()) == 31
        with Session(pg_engine) as s:
            assert date.fromisoformat(days.json()[0]["params"]["day"]) == date(2024, 3, 31)
            assert s is not None
