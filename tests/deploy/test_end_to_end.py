"""The whole topology of docker-compose.yml as plain processes: real Postgres, real ClickHouse, the
collector, the scheduler, the three demo services and the agent tailing them.

One test, exact counts: every WARNING-or-worse record the services logged and every file they rejected
arrives exactly once, grouped into exactly the investigations its (kind, supplier, error) says; explicit
POSTs arrive beside them; the analysis started from the admin API opens exactly the findings the demo
history was built to contain; and the dashboard shows all three.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from collector.db import session_scope
from collector.demo import clickhouse_data
from collector.demo.layout import SERVICES, DemoLayout
from collector.migrate import upgrade
from collector.settings import Settings
from collector.users import create_user
from tests import clickhouse_server
from tests.clickhouse_server import ClickHouseServer
from tests.deploy import topology
from tests.live import LiveCollector
from tests.pg import fresh_database

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.clickhouse]

CYCLES = {"load_mail": 3 * 7, "load_ftp": 5 * 8, "consolidate": 3 * 9}  # whole rounds of each mix
HISTORY_SEED = 1
EXPLICIT = [
    {"service": "price_export", "message": "export aborted after 3 retries supplier=ACME", "error_type": "RuntimeError",
     "supplier": "ACME", "event_id": "explicit-1"},
    {"service": "price_export", "message": "export aborted after 5 retries supplier=ACME", "error_type": "RuntimeError",
     "supplier": "ACME", "event_id": "explicit-2"},
    {"service": "price_export", "message": "export aborted after 3 retries supplier=ACME", "error_type": "RuntimeError",
     "supplier": "ACME", "event_id": "explicit-1"},
]  # fmt: skip


@pytest.fixture
def clickhouse() -> Iterator[ClickHouseServer]:
    if not clickhouse_server.available():
        pytest.fail("clickhouse-server is not installed (apt-get install clickhouse-server)")
    with clickhouse_server.running() as server:
        yield server


def rows(engine: sa.Engine, query: str) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(query)))


def per_service(engine: sa.Engine, table: str) -> dict[str, int]:
    return {
        service: count
        for service, count in rows(
            engine, f"SELECT service, count(*) FROM pricelens_{table} GROUP BY service"
        )
    }


def wait_until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def test_end_to_end(tmp_path: Path, clickhouse: ClickHouseServer) -> None:
    with fresh_database("pl_e2e") as pg_url:
        upgrade(pg_url)
        ch_url = clickhouse.url("pl_e2e")
        settings = Settings(database_url=pg_url, clickhouse_url=ch_url)
        last_day = datetime.now(UTC).date() - timedelta(days=1)
        clickhouse_data.load(settings, clickhouse_data.history(HISTORY_SEED, last_day))

        live = LiveCollector(pg_url, tmp_path, extra_env={"PRICELENS_CLICKHOUSE_URL": ch_url})
        live.create_tokens()
        with session_scope(live.engine) as session:
            create_user(session=session, username="e2e", password="e2e-password", role="admin")
        layout = DemoLayout.at(tmp_path / "topology")
        layout.create()
        env = topology.server_env(pg_url, ch_url, tmp_path)
        processes = []
        try:
            live.start()
            processes.append(topology.scheduler(env, tmp_path / "scheduler.log"))
            processes.append(topology.agent(layout, live.url, live.ingest_token, tmp_path / "agent.log"))
            _check_scheduler_leads(live)
            topology.run_services(layout, CYCLES)
            _check_agent_delivery(live, layout)
            _check_explicit_posts(live)
            _check_analysis(live, last_day)
            _check_dashboard(live)
            for process in processes:
                assert process.poll() is None, f"{process.args!r} died; see {tmp_path}"
        finally:
            for process in processes:
                topology.stop(process)
            live.close()


def _check_scheduler_leads(live: LiveCollector) -> None:
    leader_lock = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
    wait_until(lambda: rows(live.engine, leader_lock)[0][0] >= 1, 30, "the scheduler to take the lead")
    jobs = httpx.get(
        f"{live.url}/api/v1/pricelens/admin/jobs", headers={"Authorization": f"Bearer {live.admin_token}"}
    ).json()
    assert {"daily_analysis"} <= {j["id"] for j in jobs}
    assert all(j["next_run_at"] for j in jobs if not j["paused"])


def _check_agent_delivery(live: LiveCollector, layout: DemoLayout) -> None:
    for service in SERVICES:  # the services really rotated while the agent was reading
        assert len(list(layout.log_dir(service).glob(f"{service}.log.*"))) >= 1, service
    expected = topology.expected_events(layout)
    wait_until(lambda: per_service(live.engine, "event") == dict(expected), 90, f"events {dict(expected)}")
    time.sleep(3)  # nothing arrives twice, even late
    assert per_service(live.engine, "event") == dict(expected)
    groups = topology.expected_investigations(layout)
    assert per_service(live.engine, "investigation") == {s: len(g) for s, g in groups.items()}
    for service, group in groups.items():
        stored = rows(
            live.engine,
            f"SELECT kind, supplier, title FROM pricelens_investigation WHERE service = '{service}'",
        )
        assert {(kind, supplier) for kind, supplier, _ in stored} == {(k, s) for k, s, _ in group}
    rejected = per_kind(live, "file_rejected")
    assert rejected == {
        s: len(list(layout.error_dir(s).glob("*.err")))
        for s in SERVICES
        if any(layout.error_dir(s).iterdir())
    }


def per_kind(live: LiveCollector, kind: str) -> dict[str, int]:
    query = f"SELECT service, count(*) FROM pricelens_event WHERE kind = '{kind}' GROUP BY service"
    return {service: count for service, count in rows(live.engine, query)}


def _check_explicit_posts(live: LiveCollector) -> None:
    response = httpx.post(
        f"{live.url}/api/v1/pricelens/log_event/",
        json={"events": EXPLICIT},
        headers={"Authorization": f"Token {live.ingest_token}"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 1, [])
    (investigation,) = rows(
        live.engine,
        "SELECT event_count, supplier, title FROM pricelens_investigation WHERE service = 'price_export'",
    )
    assert investigation[0] == 2 and investigation[1] == "ACME"
    assert investigation[2].startswith("RuntimeError: export aborted after 3 retries")


def _check_analysis(live: LiveCollector, last_day: Any) -> None:
    admin = {"Authorization": f"Bearer {live.admin_token}"}
    start = last_day - timedelta(days=clickhouse_data.ANALYSED_DAYS - 1)
    response = httpx.post(
        f"{live.url}/api/v1/pricelens/admin/jobs/backfill",
        json={"start": start.isoformat(), "end": last_day.isoformat(), "reprocess": "all"},
        headers=admin,
    )
    assert response.status_code == 202, response.text
    run_url = f"{live.url}/api/v1/pricelens/admin/jobs/runs/{response.json()['id']}"
    wait_until(lambda: httpx.get(run_url, headers=admin).json()["status"] != "running", 120, "the backfill")
    run = httpx.get(run_url, headers=admin).json()
    assert run["status"] == "success", run
    assert run["figures"]["findings"] == topology.ANALYSIS_FINDINGS
    assert run["progress_done"] == run["progress_total"] == clickhouse_data.ANALYSED_DAYS
    found = rows(
        live.engine,
        "SELECT kind, supplier, event_count FROM pricelens_investigation WHERE service = 'analysis'",
    )
    assert {(kind, supplier): count for kind, supplier, count in found} == topology.ANALYSIS_INVESTIGATIONS
    assert sorted(i["supplier"] for i in run["opened"]) == sorted(
        s for _, s in topology.ANALYSIS_INVESTIGATIONS
    )
    days = rows(
        live.engine, "SELECT count(DISTINCT day), count(DISTINCT supplier) FROM pricelens_supplier_day"
    )
    assert tuple(days[0]) == (clickhouse_data.ANALYSED_DAYS, 8)


def _check_dashboard(live: LiveCollector) -> None:
    with httpx.Client(base_url=live.url, timeout=10) as browser:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login").text)
        assert csrf
        form = {
            "username": "e2e",
            "password": "e2e-password",
            "csrf_token": csrf[1],
            "next": "/investigations",
        }
        assert browser.post("/login", data=form).status_code == 303
        pages = {
            "agent": browser.get("/investigations", params={"service": "load_ftp"}).text,
            "explicit": browser.get("/investigations", params={"service": "price_export"}).text,
            "analysis": browser.get("/investigations", params={"service": "analysis"}).text,
        }
    assert "TimeoutError" in pages["agent"] and "zipfile.BadZipFile" in pages["agent"]
    assert "export aborted after 3 retries" in pages["explicit"]
    for needle in ("VEGA", "NORDTEX", "ORBIS", "KRONA", "ELBE"):
        assert needle in pages["analysis"], needle
