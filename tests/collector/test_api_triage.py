"""Read and triage API, heartbeats, health and the OpenAPI schema, over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.factories import event_dict
from tests.live import LiveCollector

pytestmark = pytest.mark.postgres
API = "/api/v1/pricelens"
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _seed(c: LiveCollector) -> dict[str, int]:
    specs = {
        "ftp-acme": dict(supplier="ACME", n=5, hours=0),
        "ftp-globex": dict(supplier="GLOBEX", n=1, hours=30),
        "mail-acme": dict(supplier="ACME", n=2, hours=10, service="load_mail", error_type="zipfile.BadZipFile",
                          message="File is not a zip file"),
        "stale": dict(supplier="INITECH", n=3, hours=20, service="analysis", kind="stale_supplier",
                      error_type=None, message="no successful load from INITECH on 2026-11-02"),
    }  # fmt: skip
    ids: dict[str, int] = {}
    for name, spec in specs.items():
        n, hours = spec.pop("n"), spec.pop("hours")
        events = [
            event_dict(
                event_id=f"{name}-{i}", timestamp=(T0 + timedelta(hours=hours + i)).isoformat(), **spec
            )
            for i in range(n)  # type: ignore[arg-type]
        ]
        r = httpx.post(c.url + API + "/log_event/", json={"events": events},
                       headers={"Authorization": f"Bearer {c.ingest_token}"})  # fmt: skip
        assert r.status_code == 200, r.text
        (ids[name],) = r.json()["investigations"]
    return ids


def _get(c: LiveCollector, path: str, **params: object) -> httpx.Response:
    return httpx.get(c.url + API + path, params=params, headers={"Authorization": f"Bearer {c.ingest_token}"})  # type: ignore[arg-type]


def _admin(c: LiveCollector, path: str, body: dict[str, object]) -> httpx.Response:
    return httpx.post(c.url + API + path, json=body, headers={"Authorization": f"Bearer {c.admin_token}"})


def test_list_filters_sort_and_paginate(collector: LiveCollector) -> None:
    ids = _seed(collector)

    def listed(**params: object) -> list[int]:
        r = _get(collector, "/investigations/", **params)
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    assert listed() == [ids["ftp-globex"], ids["stale"], ids["mail-acme"], ids["ftp-acme"]]
    assert listed(sort="event_count") == [ids["ftp-acme"], ids["stale"], ids["mail-acme"], ids["ftp-globex"]]
    assert listed(sort="first_seen", order="asc")[0] == ids["ftp-acme"]
    assert listed(supplier="ACME") == [ids["mail-acme"], ids["ftp-acme"]]
    assert listed(service="load_mail") == [ids["mail-acme"]]
    assert listed(kind="stale_supplier") == [ids["stale"]]
    assert listed(q="zip FILE") == [ids["mail-acme"]]
    assert listed(since=(T0 + timedelta(hours=25)).isoformat()) == [ids["ftp-globex"]]
    assert listed(until=(T0 + timedelta(hours=5)).isoformat()) == [ids["ftp-acme"]]
    page2 = _get(collector, "/investigations/", per_page=3, page=2).json()
    assert (page2["total"], [i["id"] for i in page2["items"]]) == (4, [ids["ftp-acme"]])
    assert _get(collector, "/investigations/", status="bogus").status_code == 422
    assert _get(collector, "/investigations/", per_page=0).status_code == 422


def test_triage_changes_are_recorded(collector: LiveCollector) -> None:
    inv = _seed(collector)["ftp-acme"]
    assert _admin(collector, f"/investigations/{inv}/status/", {"status": "acknowledged"}).status_code == 200
    assert _admin(collector, f"/investigations/{inv}/assign/", {"assignee": "maria"}).status_code == 200
    r = _admin(collector, f"/investigations/{inv}/comments/", {"text": "ACME moved their FTP folder"})
    assert r.status_code == 200
    r = _admin(collector, f"/investigations/{inv}/status/", {"status": "resolved"})
    detail = r.json()
    assert (detail["status"], detail["assignee"]) == ("resolved", "maria")
    assert [(a["action"], a["actor"]) for a in detail["activity"]] == [
        ("status", "test-admin"), ("assign", "test-admin"), ("comment", "test-admin"), ("status", "test-admin"),
    ]  # fmt: skip
    assert len(detail["events"]) == 5 and detail["events"][0]["event_id"] == "ftp-acme-4"
    assert (
        _get(collector, f"/investigations/{inv}/", events=2).json()["events"][1]["event_id"] == "ftp-acme-3"
    )
    filtered = _get(collector, "/investigations/", status=["resolved", "ignored"]).json()
    assert [i["id"] for i in filtered["items"]] == [inv]


def test_triage_errors(collector: LiveCollector) -> None:
    inv = _seed(collector)["ftp-acme"]
    assert _admin(collector, "/investigations/999999/status/", {"status": "resolved"}).status_code == 404
    assert _admin(collector, f"/investigations/{inv}/status/", {"status": "done"}).status_code == 422
    assert _admin(collector, f"/investigations/{inv}/comments/", {"text": ""}).status_code == 422
    assert _get(collector, "/investigations/999999/").status_code == 404
    r = httpx.post(collector.url + API + f"/investigations/{inv}/comments/", json={"text": "hi"},
                   headers={"Authorization": f"Bearer {collector.ingest_token}"})  # fmt: skip
    assert r.status_code == 403


def test_heartbeat_and_agents(collector: LiveCollector) -> None:
    beat = {"hostname": "ftp01", "version": "0.1.0", "files": [{"path": "/var/log/load_ftp/app.log"}],
            "lag_bytes": 10, "spool_depth": 3, "dead_letters": 0}  # fmt: skip
    r = httpx.post(collector.url + API + "/agents/heartbeat/", json=beat,
                   headers={"Authorization": f"Bearer {collector.ingest_token}"})  # fmt: skip
    assert r.status_code == 204
    (agent,) = _get(collector, "/agents/").json()
    assert (agent["hostname"], agent["spool_depth"], agent["token_name"]) == ("ftp01", 3, "test-ingest")
    bad = httpx.post(collector.url + API + "/agents/heartbeat/", json={"hostname": ""},
                     headers={"Authorization": f"Bearer {collector.ingest_token}"})  # fmt: skip
    assert bad.status_code == 422 and "hostname" in bad.json()["detail"]


def test_health_and_openapi(collector: LiveCollector) -> None:
    assert httpx.get(collector.url + "/healthz").json() == {"status": "ok"}
    assert httpx.get(collector.url + "/readyz").json() == {"status": "ok"}
    schema = httpx.get(collector.url + "/openapi.json").json()
    assert "/api/v1/pricelens/log_event/" in schema["paths"]
    assert {"EventIn", "EventBatchIn", "IngestResult"} <= set(schema["components"]["schemas"])
    metrics = httpx.get(collector.url + "/metrics").text
    assert "pricelens_events_accepted_total" in metrics
