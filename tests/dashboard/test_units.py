"""Pure parts of the dashboard, without a server: URL state, formatting, charts, backfill checks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from dashboard.auth import safe_next
from dashboard.charts import series_chart, sparkline
from dashboard.formatting import compact, duration, relative, size, timeago, urlpart
from dashboard.queries import SupplierHealth
from dashboard.stream import StreamQuery

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def test_stream_query_parses_leniently_and_round_trips() -> None:
    view = StreamQuery.parse(
        {"status": "bogus", "sort": "events", "order": "asc", "page": "-3", "q": " ftp "}
    )
    assert (view.status, view.sort, view.order, view.page, view.q) == (
        "unresolved",
        "events",
        "asc",
        1,
        "ftp",
    )
    assert StreamQuery.parse({"page": "nope"}).page == 1
    assert view.url(page=2) == "/investigations?q=ftp&sort=events&order=asc&page=2"
    assert StreamQuery().url() == "/investigations"
    assert StreamQuery(q="a&b=c").url() == "/investigations?q=a%26b%3Dc"


def test_sort_links_flip_the_active_column_only() -> None:
    view = StreamQuery(sort="last_seen", order="desc", page=3)
    assert view.sort_url("last_seen") == "/investigations?order=asc"
    assert view.sort_url("events") == "/investigations?sort=events"


def test_stream_query_becomes_a_filter() -> None:
    f = StreamQuery(status="all", range="24h", supplier="ACME").to_filter(NOW)
    assert f.status == [] and f.supplier == "ACME" and f.since == NOW - timedelta(days=1)
    assert StreamQuery().to_filter(NOW).status == ["open", "acknowledged"]
    assert not StreamQuery(page=4, sort="events").filtered
    assert StreamQuery(kind="row_drop").filtered


@pytest.mark.parametrize(
    ("delta", "text"),
    [(timedelta(seconds=10), "just now"), (timedelta(minutes=5), "5m ago"), (timedelta(hours=3), "3h ago"),
     (timedelta(days=2, hours=5), "2d ago"), (-timedelta(hours=4), "in 4h")],
)  # fmt: skip
def test_relative_times(delta: timedelta, text: str) -> None:
    assert relative(NOW - delta, NOW) == text


def test_timeago_shows_the_absolute_time_on_hover() -> None:
    html = str(timeago(NOW - timedelta(minutes=2), NOW))
    assert 'title="2024-03-01 11:58:00 UTC"' in html and ">2m ago</time>" in html
    assert "never" in str(timeago(None))


def test_numbers_sizes_durations() -> None:
    assert [compact(v) for v in (999, 1200, 3_400_000, None)] == ["999", "1.2k", "3.4M", "\N{EN DASH}"]
    assert size(512) == "512 B" and size(3 * 1024 * 1024) == "3.0 MiB"
    assert duration(NOW, NOW + timedelta(milliseconds=250)) == "250 ms"
    assert duration(NOW, NOW + timedelta(minutes=5)) == "0:05:00"


def test_urlpart_keeps_hostile_names_inside_one_segment() -> None:
    assert urlpart("../jobs") == "..%2Fjobs"
    assert urlpart("javascript:alert(1)") == "javascript%3Aalert%281%29"


@pytest.mark.parametrize(
    ("target", "expected"),
    [("/jobs?x=1", "/jobs?x=1"), ("//evil.example", "/investigations"), ("https://evil.example", "/investigations"),
     ("/\\evil.example", "/investigations"), ("", "/investigations")],
)  # fmt: skip
def test_login_only_returns_to_local_paths(target: str, expected: str) -> None:
    assert safe_next(target) == expected


def test_sparkline_scales_to_the_busiest_day_and_marks_empty_days() -> None:
    svg = str(sparkline([0, 5, 10]))
    assert svg.count('class="spark-bar"') == 2 and svg.count('class="spark-empty"') == 1
    assert 'height="20"' in svg  # the busiest day fills the height (22 - 2)
    assert "15 events in 3 days" in svg
    assert str(sparkline([])) == ""


def test_series_chart_escapes_and_handles_no_data() -> None:
    svg = str(series_chart([(date(2024, 3, 1), 2.0), (date(2024, 3, 2), 4.0)], fmt=lambda v: f"<{v}>"))
    assert "&lt;4.0&gt;" in svg and "<4.0>" not in svg
    assert svg.count("<rect") == 2
    line = str(series_chart([(date(2024, 3, 1), 0.1), (date(2024, 3, 2), 0.2)], kind="line"))
    assert "<polyline" in line and line.count("<circle") == 2
    assert "No data" in str(series_chart([]))


def test_supplier_health() -> None:
    assert SupplierHealth("A").health == "unknown"
    assert SupplierHealth("A", open_investigations=2).health == "warn"
    day = date(2024, 3, 1)
    ok = SupplierHealth("A", day=day, loads=2, rows_loaded=1000, usual_rows=1100, expected=True)
    assert ok.health == "ok"
    assert SupplierHealth("A", day=day, loads=2, rows_loaded=400, usual_rows=1000).health == "warn"
    assert SupplierHealth("A", day=day, loads=0, expected=True).health == "bad"
    assert SupplierHealth("A", day=day, loads=2, findings=["row_drop"]).health == "bad"
