"""Fixtures for the scheduler tests: one private ClickHouse per session, the generated scenario loaded
once per module into its own ClickHouse database, and settings pointing at both."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from collector.settings import Settings
from tests import clickhouse_server
from tests.clickhouse_server import ClickHouseServer
from tests.scheduler import scenario


@pytest.fixture(scope="session")
def clickhouse() -> Iterator[ClickHouseServer]:
    if not clickhouse_server.available():
        pytest.skip("clickhouse-server is not installed (apt-get install clickhouse-server)")
    with clickhouse_server.running() as server:
        yield server


@pytest.fixture(scope="session")
def generated() -> scenario.Scenario:
    return scenario.generate()


@pytest.fixture(scope="module")
def scenario_db(clickhouse: ClickHouseServer, generated: scenario.Scenario) -> Iterator[str]:
    """A ClickHouse database holding the scenario's source tables; its name."""
    db = f"pl_{uuid.uuid4().hex[:12]}"
    client = clickhouse.client()
    scenario.load_into(client, db, generated)
    yield db
    client.execute(f"DROP DATABASE IF EXISTS {db}")
    client.disconnect()


def make_settings(database_url: str, clickhouse_url: str = "", **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "clickhouse_url": clickhouse_url,
        "scheduler_timezone": "UTC",
        "ch_query_timeout_seconds": 20,
        "ch_connect_timeout_seconds": 2,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]
