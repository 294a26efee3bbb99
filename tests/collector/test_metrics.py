"""``/metrics``: Prometheus counters move with what the collector actually did."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import event_dict
from tests.live import LiveCollector

pytestmark = pytest.mark.postgres


def samples(c: LiveCollector) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(c.url + "/metrics").text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_counters_follow_ingest(collector: LiveCollector) -> None:
    events = [
        event_dict(event_id="m-1"),
        event_dict(event_id="m-1"),
        event_dict(event_id="m-2", service="load_mail"),
        event_dict(event_id="m-3", service="consolidate", level="LOUD"),
        event_dict(event_id="m-4", service="<script>x</script>"),
    ]
    r = httpx.post(
        collector.url + "/api/v1/pricelens/log_event/",
        json={"events": events},
        headers={"Authorization": f"Bearer {collector.ingest_token}"},
    )
    assert r.status_code == 200
    httpx.post(
        collector.url + "/api/v1/pricelens/log_event/", json={}, headers={"Authorization": "Bearer bad"}
    )
    got = samples(collector)
    assert got[("pricelens_events_accepted_total", (("service", "load_ftp"),))] == 1
    assert got[("pricelens_events_accepted_total", (("service", "load_mail"),))] == 1
    assert got[("pricelens_events_duplicate_total", (("service", "load_ftp"),))] == 1
    assert got[("pricelens_events_rejected_total", (("service", "consolidate"),))] == 1
    assert got[("pricelens_events_rejected_total", (("service", "-"),))] == 1  # not a label value
    route = "/api/v1/pricelens/log_event/"
    assert (
        got[
            (
                "pricelens_request_duration_seconds_count",
                (("method", "POST"), ("route", route), ("status", "200")),
            )
        ]
        == 1
    )
    assert (
        got[
            (
                "pricelens_request_duration_seconds_count",
                (("method", "POST"), ("route", route), ("status", "401")),
            )
        ]
        == 1
    )
    assert ("pricelens_database_errors_total", ()) in got
