"""The same job SQL on a current ClickHouse (chdb, embedded 26.x), parameters substituted by
clickhouse-driver's own escaping — proof the SQL is not tied to 18.16. Runs against embedded SQLite, so
the default database dialect is covered end to end as well."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from datetime import UTC, date
from typing import Any

import pytest
from clickhouse_driver import Client

from collector.db import create_db_engine
from collector.scheduler import daily_analysis
from tests.clickhouse_server import ClickHouseServer
from tests.scheduler import scenario
from tests.scheduler.conftest import make_settings
from tests.scheduler.test_analysis_clickhouse import snapshot

chdb_session = pytest.importorskip(
    "chdb.session", reason="chdb is not installed (pip install '.[analysis-modern]')"
)
pytestmark = pytest.mark.chdb


class ChdbClickHouse:
    """clickhouse-driver's ``execute`` contract over chdb: same client-side substitution, typed rows."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self._escaper = Client("localhost")  # never connects: used for its parameter escaping only

    def execute(self, query: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        if params:
            query = self._escaper.substitute_params(query, params, self._escaper.connection.context)
        answer = json.loads(self.session.query(query, "JSONCompact").bytes() or b'{"data": [], "meta": []}')
        types = [m["type"] for m in answer["meta"]]
        return [tuple(self._value(t, v) for t, v in zip(types, row, strict=True)) for row in answer["data"]]

    @staticmethod
    def _value(kind: str, value: Any) -> Any:
        if kind == "Date":
            return date.fromisoformat(value)
        if kind.startswith(("UInt", "Int")):
            return int(value)
        return value


@pytest.fixture(scope="module")
def chdb_ch(generated: scenario.Scenario) -> Iterator[ChdbClickHouse]:
    with tempfile.TemporaryDirectory(prefix="pl_chdb_") as path:
        session = chdb_session.Session(path)
        ch = ChdbClickHouse(session)
        ch.execute(scenario.LOADS_DDL.format(db="src").replace("src.", "default."))
        ch.execute(scenario.PRICES_DDL.format(db="src").replace("src.", "default."))
        escape = ch._escaper.substitute_params
        # Load times as Unix seconds: the escaper would need a server's timezone for datetimes.
        loads = [(int(r[0].replace(tzinfo=UTC).timestamp()), *r[1:]) for r in generated.loads]
        for table, rows in (("pricelist_loads", loads), ("prices", generated.prices)):
            for start in range(0, len(rows), 20_000):
                params = {f"r{i}": row for i, row in enumerate(rows[start : start + 20_000])}
                values = ",".join(f"%({key})s" for key in params)
                session.query(
                    escape(f"INSERT INTO {table} VALUES {values}", params, ch._escaper.connection.context)
                )
        yield ch
        session.close()


def test_march_on_current_clickhouse(
    chdb_ch: ChdbClickHouse, sqlite_url: str, generated: scenario.Scenario
) -> None:
    assert chdb_ch.execute("SELECT version()")[0][0].split(".")[0] >= "24"
    engine = create_db_engine(sqlite_url)
    settings = make_settings(sqlite_url)
    runs = [
        daily_analysis.daily_analysis(d, ch=chdb_ch, engine=engine, settings=settings) for d in scenario.MARCH
    ]
    assert [(r.status, r.error) for r in runs] == [("success", None)] * 31

    stored = snapshot(engine)
    found = sorted((e[3], e[1][1], date.fromisoformat(e[6]["day"])) for e in stored["events"])
    assert found == scenario.EXPECTED_FINDINGS
    reference = scenario.reference_supplier_days(generated, scenario.MARCH)
    days = {(d["supplier"], d["day"]): d for d in stored["supplier_days"]}
    assert set(days) == set(reference)
    for key, want in reference.items():
        got = {k: (v.replace(tzinfo=None) if k.endswith("_at") and v else v) for k, v in days[key].items()}
        assert {k: got[k] for k in want} == want, key
    engine.dispose()


@pytest.mark.clickhouse
def test_sql_results_match_between_engines(
    chdb_ch: ChdbClickHouse, clickhouse: ClickHouseServer, scenario_db: str
) -> None:
    """Row for row, the aggregates of 18.16 and of the current engine agree."""
    settings = make_settings("sqlite://", clickhouse.url(scenario_db))
    old = clickhouse.client(scenario_db)
    for day in (date(2024, 3, 10), date(2024, 3, 25)):
        a = daily_analysis.fetch(day, old, settings)
        b = daily_analysis.fetch(day, chdb_ch, settings)
        assert a == b
    old.disconnect()
