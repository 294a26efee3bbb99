"""The daily analysis and the backfill against a real ClickHouse 18.16 and a real Postgres."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from collector.models import Event, Investigation, JobRun, SupplierDay
from collector.scheduler import backfill, daily_analysis, jobs
from tests.clickhouse_server import ClickHouseServer
from tests.scheduler import scenario
from tests.scheduler.conftest import make_settings

pytestmark = [pytest.mark.clickhouse, pytest.mark.postgres]


def snapshot(engine: sa.Engine) -> dict[str, Any]:
    """Everything the analysis writes, minus ids and write times."""
    with Session(engine) as s:
        invs = s.exec(select(Investigation).order_by(col(Investigation.fingerprint))).all()
        events = s.exec(select(Event).order_by(col(Event.event_id))).all()
        days = s.exec(select(SupplierDay).order_by(col(SupplierDay.supplier), col(SupplierDay.day))).all()
        inv_key = {i.id: (i.kind, i.supplier) for i in invs}
        return {
            "investigations": [
                (i.kind, i.service, i.supplier, i.title, i.status, i.event_count, i.first_seen, i.last_seen)
                for i in invs
            ],
            "events": [
                (e.event_id, inv_key[e.investigation_id], e.occurred_at, e.kind, e.level, e.message, e.extra)
                for e in events
            ],
            "supplier_days": [d.model_dump(exclude={"computed_at"}) for d in days],
            "computed_at": sorted(d.computed_at for d in days),
        }


def run_march_daily(engine: sa.Engine, settings: Any) -> list[JobRun]:
    with jobs.clickhouse(settings) as ch:
        return [
            daily_analysis.daily_analysis(day, ch=ch, engine=engine, settings=settings)
            for day in scenario.MARCH
        ]


def test_daily_runs_find_exactly_the_planted_anomalies(
    pg_engine: sa.Engine, pg_url: str, clickhouse: ClickHouseServer, scenario_db: str,
    generated: scenario.Scenario,
) -> None:  # fmt: skip
    settings = make_settings(pg_url, clickhouse.url(scenario_db))
    results = run_march_daily(pg_engine, settings)

    assert [r.status for r in results] == ["success"] * 31
    assert [r.error for r in results] == [None] * 31
    first = snapshot(pg_engine)
    found = sorted(
        (kind, e[1][1], date.fromisoformat(e[6]["day"])) for e in first["events"] for kind in [e[3]]
    )
    assert found == scenario.EXPECTED_FINDINGS
    assert [(i[0], i[2], i[5]) for i in sorted(first["investigations"], key=lambda i: (i[0], i[2]))] == [
        ("price_jump", "jumper", 1),
        ("reject_spike", "rejecter", 1),
        ("row_drop", "dropper", 1),
        ("stale_supplier", "broken", 1),
        ("stale_supplier", "quiet", 14),
    ]
    # Investigations opened by each run: exactly the days with findings name one.
    opened = {r.params["day"]: len(r.investigations) for r in results if r.investigations}
    assert opened == dict(Counter(d.isoformat() for _, _, d in scenario.EXPECTED_FINDINGS))

    reference = scenario.reference_supplier_days(generated, scenario.MARCH)
    stored = {(d["supplier"], d["day"]): d for d in first["supplier_days"]}
    assert set(stored) == set(reference)
    for key, want in reference.items():
        got = stored[key]
        for field, value in want.items():
            if field.endswith("_at") and value is not None:
                assert got[field].replace(tzinfo=None) == value, (key, field)
            else:
                assert got[field] == value, (key, field)
    assert stored["quiet", date(2024, 3, 10)]["expected"] is True
    assert stored["quiet", date(2024, 3, 24)]["expected"] is False
    assert stored["weekdays", date(2024, 3, 9)]["expected"] is False  # a Saturday
    assert stored["weekends", date(2024, 3, 9)]["expected"] is True
    assert stored["jumper", date(2024, 3, 25)]["findings"] == ["price_jump"]
    assert stored["jumper", date(2024, 3, 25)]["skus_changed"] >= 30

    event = next(e for e in first["events"] if e[3] == "row_drop")
    assert event[4] == "WARNING"
    assert event[6]["rule"] == "row_drop" and event[6]["day"] == "2024-03-15"
    assert event[6]["value"] == stored["dropper", date(2024, 3, 15)]["rows_loaded"]
    assert event[2].isoformat() == "2024-03-15T23:59:59+00:00"

    again = run_march_daily(pg_engine, settings)
    assert [r.status for r in again] == ["success"] * 31
    assert all(r.investigations == [] for r in again)
    assert snapshot(pg_engine) == first  # nothing changed, not even computed_at


def test_backfill_over_the_month_equals_daily_runs(
    pg_url: str, pg_engine: sa.Engine, clickhouse: ClickHouseServer, scenario_db: str
) -> None:
    from tests.pg import fresh_database

    settings = make_settings(pg_url, clickhouse.url(scenario_db))
    seen: list[tuple[int, int]] = []
    with jobs.clickhouse(settings) as ch:
        run = backfill.backfill(
            date(2024, 3, 1), date(2024, 3, 31), ch=ch, engine=pg_engine, settings=settings,
            progress=lambda done, total, _day: seen.append((done, total)),
        )  # fmt: skip
    assert run.status == "success", run.error
    assert (run.progress_done, run.progress_total) == (31, 31)
    assert seen == [(i, 31) for i in range(1, 32)]
    assert run.figures["findings"] == {
        "price_jump": 1,
        "reject_spike": 1,
        "row_drop": 1,
        "stale_supplier": 15,
    }
    assert len(run.investigations) == 5

    from collector.db import create_db_engine
    from collector.migrate import upgrade

    with fresh_database() as daily_url:
        upgrade(daily_url)
        daily_engine = create_db_engine(daily_url)
        run_march_daily(daily_engine, make_settings(daily_url, clickhouse.url(scenario_db)))
        daily = snapshot(daily_engine)
        daily_engine.dispose()
    by_backfill = snapshot(pg_engine)
    daily.pop("computed_at"), by_backfill.pop("computed_at")
    assert by_backfill == daily

    # Resumable: a second backfill finds every day done; reprocess=all changes nothing.
    with jobs.clickhouse(settings) as ch:
        resumed = backfill.backfill(
            date(2024, 3, 1), date(2024, 3, 31), ch=ch, engine=pg_engine, settings=settings
        )
        again = backfill.backfill(
            date(2024, 3, 1), date(2024, 3, 31), ch=ch, engine=pg_engine, settings=settings, reprocess="all"
        )
    assert (resumed.status, resumed.figures["skipped"], resumed.figures["done"]) == ("success", 31, 0)
    assert (again.status, again.figures["skipped"], again.figures["done"], again.investigations) == (
        "success", 0, 31, [],
    )  # fmt: skip
    after = snapshot(pg_engine)
    after.pop("computed_at")
    assert after == by_backfill


def test_dry_run_reports_and_writes_nothing(pg_url: str, pg_engine: sa.Engine, clickhouse: ClickHouseServer,
                                            scenario_db: str) -> None:  # fmt: skip
    settings = make_settings(pg_url, clickhouse.url(scenario_db))
    with jobs.clickhouse(settings) as ch:
        run = backfill.backfill(
            date(2024, 3, 1), date(2024, 3, 31), ch=ch, engine=pg_engine, settings=settings, dry_run=True
        )
    assert run.status == "success", run.error
    assert run.figures["would_open"] == 18
    assert "price_jump jumper 2024-03-25" in run.figures["would_open_list"]
    with Session(pg_engine) as s:
        assert s.exec(select(sa.func.count()).select_from(SupplierDay)).one() == 0
        assert s.exec(select(sa.func.count()).select_from(Event)).one() == 0
        assert s.exec(select(JobRun.job_id)).all() == ["backfill"]
