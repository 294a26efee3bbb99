"""The demo's ClickHouse history: loaded, analysed by the scheduler's own backfill, and never written over
a table the demo did not create."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from collector.db import engine_for
from collector.demo import clickhouse_data
from collector.migrate import upgrade
from collector.settings import Settings
from tests import clickhouse_server
from tests.clickhouse_server import ClickHouseServer
from tests.deploy.topology import ANALYSIS_FINDINGS, ANALYSIS_INVESTIGATIONS

pytestmark = pytest.mark.clickhouse
TODAY = date(2024, 3, 6)  # a Wednesday: the history's last day is a Tuesday, HANSA's quiet day is Sunday


@pytest.fixture(scope="module")
def clickhouse() -> Iterator[ClickHouseServer]:
    if not clickhouse_server.available():
        pytest.fail("clickhouse-server is not installed (apt-get install clickhouse-server)")
    with clickhouse_server.running() as server:
        yield server


def test_history_is_deterministic_and_has_its_characters() -> None:
    one, two = clickhouse_data.history(4, date(2024, 3, 5)), clickhouse_data.history(4, date(2024, 3, 5))
    assert one.loads == two.loads and one.prices == two.prices
    sundays = {r[0].date() for r in one.loads if r[1] == "HANSA" and r[0].weekday() == 6}
    assert not sundays
    assert not [r for r in one.loads if r[1] == "VEGA" and r[0].date() >= date(2024, 3, 4)]
    assert [r[7] for r in one.loads if r[1] == "NORDTEX" and r[0].date() == date(2024, 3, 2)] == ["failed"]


def test_load_and_analyse_twice_changes_nothing(clickhouse: ClickHouseServer, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade(url)
    settings = Settings(database_url=url, clickhouse_url=clickhouse.url("pl_demo_twice"))
    engine = engine_for(url)
    for _ in range(2):
        run = clickhouse_data.load_and_analyse(settings, engine, seed=1, today=TODAY)
        assert run.status == "success", run.error
        assert run.figures["findings"] == ANALYSIS_FINDINGS
        with engine.connect() as conn:
            found = conn.execute(
                sa.text(
                    "SELECT kind, supplier, event_count FROM pricelens_investigation WHERE service = 'analysis'"
                )
            ).all()
        assert {(k, s): n for k, s, n in found} == ANALYSIS_INVESTIGATIONS


@pytest.mark.parametrize("today", [TODAY + timedelta(days=i) for i in range(1, 7)], ids=lambda d: f"{d:%a}")
def test_the_findings_do_not_depend_on_the_weekday(
    clickhouse: ClickHouseServer, tmp_path: Path, today: date
) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade(url)
    settings = Settings(database_url=url, clickhouse_url=clickhouse.url(f"pl_demo_{today:%a}".lower()))
    run = clickhouse_data.load_and_analyse(settings, engine_for(url), seed=1, today=today)
    assert run.status == "success" and run.figures["findings"] == ANALYSIS_FINDINGS


def test_a_table_the_demo_did_not_create_is_left_alone(clickhouse: ClickHouseServer) -> None:
    client = clickhouse.client()
    client.execute("CREATE DATABASE IF NOT EXISTS team_prices")
    client.execute(
        "CREATE TABLE team_prices.pricelist_loads (loaded_at DateTime, supplier String) "
        "ENGINE = MergeTree ORDER BY loaded_at"
    )
    client.execute("INSERT INTO team_prices.pricelist_loads VALUES", [(datetime(2024, 3, 1, 6), "REAL")])
    settings = Settings(clickhouse_url=clickhouse.url("team_prices"))
    with pytest.raises(clickhouse_data.DemoDataRefusedError, match="was not created by the demo"):
        clickhouse_data.load(settings, clickhouse_data.history(1, TODAY))
    assert client.execute("SELECT supplier FROM team_prices.pricelist_loads") == [("REAL",)]


def test_custom_column_names_are_refused(clickhouse: ClickHouseServer) -> None:
    settings = Settings(clickhouse_url=clickhouse.url("pl_custom"), ch_loads_time_column="ts")
    with pytest.raises(clickhouse_data.DemoDataRefusedError, match="PRICELENS_CH_LOADS_TIME_COLUMN"):
        clickhouse_data.load(settings, clickhouse_data.history(1, TODAY))
