"""Benchmark of the ClickHouse analysis: ``python -m bench.analysis`` (one command, ~2 minutes).

Loads 1,000 suppliers x 90 days x 200 SKUs (18 M price rows, 90 k load rows) into a private ClickHouse
18.16, then times (a) the analysis SQL of one day against the engine's floor — a plain
``SELECT count() … GROUP BY supplier`` over the same price rows — in rows scanned per second per core,
(b) one whole daily analysis including the Pricelens writes (Postgres), and (c) a 90-day backfill.
Goal (issue 4): one day's analysis SQL within 2x the floor. Writes ``bench/results/analysis.md``.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from clickhouse_driver import Client

from collector.db import create_db_engine
from collector.migrate import upgrade
from collector.scheduler import backfill, daily_analysis, jobs
from collector.scheduler.sql import analysis_sql
from collector.settings import Settings
from tests import clickhouse_server
from tests.pg import fresh_database
from tests.scheduler.scenario import LOADS_DDL, PRICES_DDL

SUPPLIERS, DAYS, SKUS = 1_000, 90, 200
FIRST = date(2024, 1, 1)
DAY = FIRST + timedelta(days=60)
RESULTS = Path(__file__).resolve().parents[1] / "results" / "analysis.md"


def load(client: Client) -> None:
    client.execute("CREATE DATABASE bench")
    client.execute(LOADS_DDL.format(db="bench"))
    client.execute(PRICES_DDL.format(db="bench"))
    per_day = SUPPLIERS * SKUS
    client.execute(
        f"""INSERT INTO bench.prices SELECT
            toDate('{FIRST}') + intDiv(number, {per_day}) AS day,
            concat('S', toString(intDiv(number % {per_day}, {SKUS}))) AS supplier,
            concat('SKU-', toString(number % {SKUS})) AS sku,
            (10 + cityHash64(number % {per_day}) % 1000) * (1 + (rand() % 21 - 10) / 100) AS price,
            'EUR', 10
        FROM numbers({per_day * DAYS})"""
    )
    client.execute(
        f"""INSERT INTO bench.pricelist_loads SELECT
            toDateTime('{FIRST} 06:00:00') + intDiv(number, {SUPPLIERS}) * 86400 + rand() % 3600,
            concat('S', toString(number % {SUPPLIERS})), 'ftp', 'prices.csv',
            10000 + rand() % 4000 AS total, total - 100, 100, 'ok', ''
        FROM numbers({SUPPLIERS * DAYS})"""
    )
    client.execute("OPTIMIZE TABLE bench.prices FINAL")


def timed(client: Client, query: str, params: dict[str, Any], repeat: int = 7) -> tuple[float, int]:
    """Median server-side seconds and rows read of ``query``."""
    seconds, rows = [], 0
    for _ in range(repeat):
        client.execute(query, params)
        seconds.append(client.last_query.elapsed)
        rows = client.last_query.progress.rows
    return statistics.median(seconds), rows


def wall(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    cores = os.cpu_count() or 1
    with clickhouse_server.running() as server, fresh_database("pl_bench") as pg_url:
        client = server.client()
        load_seconds = wall(lambda: load(client))
        upgrade(pg_url)
        engine = create_db_engine(pg_url)
        settings = Settings(database_url=pg_url, clickhouse_url=server.url("bench"), scheduler_timezone="UTC")
        bench = server.client("bench")
        sql = analysis_sql(settings)
        price_params = {"prev_day": DAY - timedelta(days=1), "day": DAY, "change": 0.3}
        floor_s, floor_rows = timed(bench, sql.prices_by_supplier_floor, price_params)
        prices_s, prices_rows = timed(bench, sql.price_changes, price_params)
        utc = ZoneInfo("UTC")
        loads_params = {
            "start_ts": daily_analysis.day_start(DAY - timedelta(days=28), utc),
            "end_ts": daily_analysis.day_start(DAY + timedelta(days=1), utc),
            "tz": "UTC",
            "failed_status": "failed",
        }
        loads_s, loads_rows = timed(bench, sql.loads_by_day, loads_params)

        with jobs.clickhouse(settings) as ch:
            assert ch is not None
            run_s = wall(lambda: daily_analysis.daily_analysis(DAY, ch=ch, engine=engine, settings=settings))
            rerun_s = wall(
                lambda: daily_analysis.daily_analysis(DAY, ch=ch, engine=engine, settings=settings)
            )
            fill = backfill.backfill(FIRST, FIRST + timedelta(days=DAYS - 1), ch=ch, engine=engine,
                                     settings=settings, reprocess="all")  # fmt: skip
        assert fill.status == "success", fill.error
        fill_s = (fill.finished_at - fill.started_at).total_seconds()  # type: ignore[operator]
        engine.dispose()

    def row(step: str, rows: int, seconds: float) -> str:
        return f"| {step} | {rows:,} | {seconds:.4f} | {rows / seconds / cores / 1e6:,.1f} M |"

    sql_s = prices_s + loads_s
    lines = [
        "# Analysis benchmark (`python -m bench.analysis`)",
        "",
        f"{SUPPLIERS:,} suppliers x {DAYS} days x {SKUS} SKUs = {SUPPLIERS * DAYS * SKUS:,} price rows, "
        f"{SUPPLIERS * DAYS:,} load rows; ClickHouse 18.16 (private instance), {cores} cores; "
        f"Pricelens DB: Postgres. Loading took {load_seconds:.1f} s. Server-side medians of 7 runs.",
        "",
        "| step | rows read | seconds | rows/s/core |",
        "|---|---:|---:|---:|",
        row("floor: `SELECT count() … GROUP BY supplier` (D-1, D)", floor_rows, floor_s),
        row("analysis: price changes (D-1, D)", prices_rows, prices_s),
        row("analysis: loads by day (29 days)", loads_rows, loads_s),
        row("analysis SQL total for one day", prices_rows + loads_rows, sql_s),
        "",
        f"- analysis SQL / floor: **{sql_s / floor_s:.2f}x** (goal: within 2x)",
        "- one daily analysis end to end (SQL + rules + 1,000 `supplier_day` upserts + events): "
        f"{run_s:.2f} s; rerun of the same day (nothing to write): {rerun_s:.2f} s",
        f"- {DAYS}-day backfill (reprocess=all): {fill_s:.1f} s ({fill_s / DAYS:.2f} s per day)",
        "- Python receives one row per supplier (per day); never raw rows.",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
