"""Demo price history in ClickHouse, then the real analysis over it, so supplier pages have a past.

Five weeks of ``pricelist_loads`` and ``prices`` (the default schema of analysis.md) are generated from
the seed, each supplier with a character the analysis should notice: HANSA never sends on Sundays (and
must *not* be called stale for it), VEGA went quiet two days ago, ORBIS lost most of its rows twice,
KRONA had a wave of rejected rows, ELBE's prices jumped twice, NORDTEX's only load three days ago failed.
Then the scheduler's own :func:`~collector.scheduler.backfill.backfill` analyses the last two weeks.

The demo writes only into tables it created itself: it leaves a marker table beside them, and refuses
to touch a ``pricelist_loads`` it finds without that marker (that would be the team's real data).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from clickhouse_driver import Client
from sqlalchemy.engine import Engine

from collector.demo.suppliers import SUPPLIERS, sku
from collector.models import JobRun
from collector.scheduler.backfill import backfill
from collector.scheduler.clickhouse import connect
from collector.scheduler.sql import quote_identifier
from collector.settings import Settings

HISTORY_DAYS = 35
ANALYSED_DAYS = 14
SKUS_PER_SUPPLIER = 40
MARKER_TABLE = "pricelens_demo_marker"
DEFAULT_COLUMNS = {
    "ch_loads_time_column": "loaded_at",
    "ch_loads_supplier_column": "supplier",
    "ch_loads_status_column": "status",
    "ch_loads_rows_total_column": "rows_total",
    "ch_loads_rows_loaded_column": "rows_loaded",
    "ch_loads_rows_rejected_column": "rows_rejected",
    "ch_prices_day_column": "day",
    "ch_prices_supplier_column": "supplier",
    "ch_prices_sku_column": "sku",
    "ch_prices_price_column": "price",
}

LOADS_DDL = """CREATE TABLE {table} (
    loaded_at DateTime, supplier String, source String, file_name String, rows_total UInt64,
    rows_loaded UInt64, rows_rejected UInt64, status String, error String
) ENGINE = MergeTree ORDER BY (supplier, loaded_at)"""
PRICES_DDL = """CREATE TABLE {table} (
    day Date, supplier String, sku String, price Float64, currency String, quantity UInt32
) ENGINE = MergeTree ORDER BY (supplier, day, sku)"""
LOAD_COLUMNS = "loaded_at, supplier, source, file_name, rows_total, rows_loaded, rows_rejected, status, error"
PRICE_COLUMNS = "day, supplier, sku, price, currency, quantity"


class DemoDataRefusedError(RuntimeError):
    """The configured ClickHouse tables hold data the demo did not create."""


@dataclass
class History:
    first_day: date
    last_day: date
    loads: list[tuple[Any, ...]] = field(default_factory=list)
    prices: list[tuple[Any, ...]] = field(default_factory=list)


def history(seed: int, last_day: date, days: int = HISTORY_DAYS) -> History:
    """The generated rows (pure: same seed and day, same rows)."""
    rng = random.Random(seed)
    first = last_day - timedelta(days=days - 1)
    result = History(first, last_day)
    base_rows = {s: rng.randrange(400, 3000) for s in SUPPLIERS}
    base_price = {
        (s, i): rng.randrange(100, 50_000) / 100 for s in SUPPLIERS for i in range(SKUS_PER_SUPPLIER)
    }
    for offset in range(days):
        day = first + timedelta(days=offset)
        back = (last_day - day).days  # 0 = the last day
        for n, supplier in enumerate(SUPPLIERS):
            if (supplier == "HANSA" and day.weekday() == 6) or (supplier == "VEGA" and back <= 1):
                continue
            at = datetime.combine(day, time(5, 0), UTC) + timedelta(minutes=17 * n + rng.randrange(0, 40))
            total = int(base_rows[supplier] * rng.uniform(0.95, 1.05))
            if supplier == "ORBIS" and back in (0, 9):
                total = total // 4
            rejected = int(total * rng.uniform(0.002, 0.02))
            if supplier == "KRONA" and back == 0:
                rejected = int(total * 0.27)
            name = f"{supplier}_{day:%Y%m%d}.xlsx"
            source = "ftp" if n % 2 else "mail"
            if supplier == "NORDTEX" and (back == 3 or rng.random() < 0.15):
                error = "zipfile.BadZipFile: File is not a zip file"
                result.loads.append((at, supplier, source, name, 0, 0, 0, "failed", error))
                if back == 3:
                    continue
                at += timedelta(minutes=45)
            status = "ok" if rejected < total * 0.01 else "partial"
            result.loads.append((at, supplier, source, name, total, total - rejected, rejected, status, ""))
            if supplier == "ACME":  # sends twice a day, by mail and by FTP
                later = at + timedelta(hours=9)
                result.loads.append(
                    (later, supplier, "ftp", name.replace(".xlsx", "b.xlsx"), total, total, 0, "ok", "")
                )
            jump = supplier == "ELBE" and back in (0, 5)
            for i in range(SKUS_PER_SUPPLIER):
                price = base_price[(supplier, i)] * rng.uniform(0.99, 1.01)
                if jump and i % 4 == 0:
                    price *= 1.45
                result.prices.append(
                    (day, supplier, sku(supplier, i), round(price, 2), "EUR", rng.randrange(0, 500))
                )
    return result


def _check_schema(settings: Settings) -> None:
    custom = [k for k, v in DEFAULT_COLUMNS.items() if getattr(settings, k) != v]
    if custom:
        raise DemoDataRefusedError(
            "the demo writes the default schema of analysis.md; unset "
            + ", ".join(f"PRICELENS_{k.upper()}" for k in custom)
        )


def _server_client(settings: Settings) -> tuple[Client, str]:
    """A client on the server's ``default`` database, and the database the URL names."""
    parts = urlsplit(settings.clickhouse_url)
    database = parts.path.strip("/") or "default"
    return Client.from_url(parts._replace(path="/default").geturl()), database


def load(settings: Settings, data: History) -> None:
    """(Re)create the demo tables in the URL's database and fill them."""
    _check_schema(settings)
    server, database = _server_client(settings)
    try:
        server.execute(f"CREATE DATABASE IF NOT EXISTS {quote_identifier(database)}")
    finally:
        server.disconnect()
    client = connect(settings)
    try:
        loads, prices = quote_identifier(settings.ch_loads_table), quote_identifier(settings.ch_prices_table)
        tables = {row[0] for row in client.execute("SHOW TABLES")}
        mine = MARKER_TABLE in tables
        for name in (settings.ch_loads_table, settings.ch_prices_table):
            if name.split(".")[-1] in tables and not mine:
                raise DemoDataRefusedError(
                    f"ClickHouse table {name} exists and was not created by the demo; point "
                    "PRICELENS_CLICKHOUSE_URL at an empty database, e.g. clickhouse://host:9000/pricelens_demo"
                )
        client.execute(f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (created DateTime) ENGINE = TinyLog")
        for table, ddl in ((loads, LOADS_DDL), (prices, PRICES_DDL)):
            client.execute(f"DROP TABLE IF EXISTS {table}")
            client.execute(ddl.format(table=table))
        client.execute(f"INSERT INTO {loads} ({LOAD_COLUMNS}) VALUES", data.loads)
        client.execute(f"INSERT INTO {prices} ({PRICE_COLUMNS}) VALUES", data.prices)
    finally:
        client.disconnect()


def load_and_analyse(settings: Settings, engine: Engine, seed: int, today: date | None = None) -> JobRun:
    """Load the demo history ending yesterday and backfill the analysis over its last two weeks."""
    last_day = (today or datetime.now(UTC).date()) - timedelta(days=1)
    load(settings, history(seed, last_day))
    client = connect(settings)
    try:
        return backfill(
            last_day - timedelta(days=ANALYSED_DAYS - 1), last_day,
            ch=client, engine=engine, settings=settings, reprocess="all",
        )  # fmt: skip
    finally:
        client.disconnect()
