"""Benchmark of the ClickHouse analysis: ``python -m bench.analysis [--runs N]`` (~2.5 minutes a run).

Loads 1,000 suppliers x 90 days x 200 SKUs (18 M price rows, 90 k load rows) into a private ClickHouse
18.16, then times (a) the analysis SQL of one day against the engine's floor — a plain
``SELECT count() … GROUP BY supplier`` with the same table and the same filter clause as each analysis
query, so over the same rows (the prices of D-1 and D, the loads of the lookback window) — (b) one whole
daily analysis including the Pricelens writes (Postgres), and (c) a 90-day backfill.
Goal (issue 4): one day's analysis SQL within 2x the floor. Writes ``bench/results/analysis.md``.

Floor and analysis queries run interleaved (so load from other processes on the machine hits both
alike); rows read and CPU time come from the server's ``system.query_log``, wall time from the client.
The table is merged into one part before timing: a plain ``OPTIMIZE … FINAL`` is silently skipped while a
background merge runs, which left 1 or 3 parts and a different number of granules to read from run to run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from clickhouse_driver import Client
from clickhouse_driver import errors as ch_errors

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
REPEAT = 11
RESULTS = Path(__file__).resolve().parents[1] / "results" / "analysis.md"


def merge_into_one_part(client: Client, table: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.execute(f"OPTIMIZE TABLE {table} FINAL", settings={"optimize_throw_if_noop": 1})
        except ch_errors.ServerException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)  # a background merge holds the parts: wait for it
            continue
        db, name = table.split(".")
        parts = client.execute(
            "SELECT count() FROM system.parts WHERE database = %(db)s AND table = %(t)s AND active",
            {"db": db, "t": name},
        )[0][0]
        if parts == 1:
            return


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
    merge_into_one_part(client, "bench.prices")
    merge_into_one_part(client, "bench.pricelist_loads")


@dataclass(frozen=True)
class Timing:
    rows: int  # rows read (system.query_log)
    wall: float  # median seconds, client side
    cpu: float  # median CPU seconds of all the query's threads (OSCPUVirtualTimeMicroseconds)


def timed(client: Client, queries: dict[str, tuple[str, dict[str, Any]]]) -> dict[str, Timing]:
    """Each query REPEAT times, interleaved; medians per query."""
    ids: dict[str, list[str]] = {name: [] for name in queries}
    walls: dict[str, list[float]] = {name: [] for name in queries}
    for _ in range(REPEAT):
        for name, (query, params) in queries.items():
            query_id = str(uuid.uuid4())
            client.execute(query, params, settings={"log_queries": 1}, query_id=query_id)
            ids[name].append(query_id)
            walls[name].append(client.last_query.elapsed)
    client.execute("SYSTEM FLUSH LOGS")
    out = {}
    for name in queries:
        logged = client.execute(
            """SELECT read_rows,
                   ProfileEvents.Values[indexOf(ProfileEvents.Names, 'OSCPUVirtualTimeMicroseconds')]
               FROM system.query_log WHERE type = 2 AND query_id IN %(ids)s""",
            {"ids": tuple(ids[name])},
        )
        assert len(logged) == REPEAT, (name, len(logged))
        out[name] = Timing(
            rows=max(r[0] for r in logged),
            wall=statistics.median(walls[name]),
            cpu=statistics.median(r[1] for r in logged) / 1e6,
        )
    return out


def wall(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


@dataclass(frozen=True)
class Run:
    load_s: float
    parts: int
    t: dict[str, Timing]
    daily_s: float
    rerun_s: float
    backfill_s: float
    history_days: int

    def sum(self, *names: str) -> Timing:
        ts = [self.t[n] for n in names]
        return Timing(sum(x.rows for x in ts), sum(x.wall for x in ts), sum(x.cpu for x in ts))

    @property
    def floor(self) -> Timing:
        return self.sum("floor_prices", "floor_loads")

    @property
    def analysis(self) -> Timing:
        return self.sum("prices", "loads")

    @property
    def ratio_wall(self) -> float:
        return self.analysis.wall / self.floor.wall

    @property
    def ratio_cpu(self) -> float:
        return self.analysis.cpu / self.floor.cpu


def one_run() -> Run:
    with clickhouse_server.running() as server, fresh_database("pl_bench") as pg_url:
        client = server.client()
        load_s = wall(lambda: load(client))
        parts = client.execute("SELECT count() FROM system.parts WHERE table = 'prices' AND active")[0][0]
        upgrade(pg_url)
        engine = create_db_engine(pg_url)
        settings = Settings(database_url=pg_url, clickhouse_url=server.url("bench"), scheduler_timezone="UTC")
        sql = analysis_sql(settings)
        utc = ZoneInfo("UTC")
        prices_p = {"prev_day": DAY - timedelta(days=1), "day": DAY, "change": settings.price_jump_change}
        loads_p = {
            "start_ts": daily_analysis.day_start(DAY - timedelta(weeks=settings.stale_history_weeks), utc),
            "end_ts": daily_analysis.day_start(DAY + timedelta(days=1), utc),
            "tz": "UTC",
            "failed_status": settings.ch_loads_failed_status,
        }
        t = timed(
            server.client("bench"),
            {
                "floor_prices": (sql.prices_by_supplier_floor, prices_p),
                "prices": (sql.price_changes, prices_p),
                "floor_loads": (sql.loads_by_supplier_floor, loads_p),
                "loads": (sql.loads_by_day, loads_p),
                "read_prices": (sql.prices_read_floor, prices_p),
            },
        )
        with jobs.clickhouse(settings) as ch:
            assert ch is not None
            daily_s = wall(
                lambda: daily_analysis.daily_analysis(DAY, ch=ch, engine=engine, settings=settings)
            )
            rerun_s = wall(
                lambda: daily_analysis.daily_analysis(DAY, ch=ch, engine=engine, settings=settings)
            )
            fill = backfill.backfill(FIRST, FIRST + timedelta(days=DAYS - 1), ch=ch, engine=engine,
                                     settings=settings, reprocess="all")  # fmt: skip
        assert fill.status == "success", fill.error
        fill_s = (fill.finished_at - fill.started_at).total_seconds()  # type: ignore[operator]
        engine.dispose()
    return Run(load_s, parts, t, daily_s, rerun_s, fill_s, 7 * settings.stale_history_weeks + 1)


def report(runs: list[Run], cores: int) -> list[str]:
    median_run = sorted(runs, key=lambda r: r.ratio_cpu)[len(runs) // 2]

    def row(step: str, x: Timing, floor: Timing | None = None) -> str:
        rel = f"{x.wall / floor.wall:.2f}x / {x.cpu / floor.cpu:.2f}x" if floor else "1x"
        return (
            f"| {step} | {x.rows:,} | {x.wall:.4f} | {x.cpu:.4f} | "
            f"{x.rows / x.wall / cores / 1e6:,.1f} M | {x.rows / x.cpu / 1e6:,.1f} M | {rel} |"
        )

    m = median_run
    fp, fl = m.t["floor_prices"], m.t["floor_loads"]
    days = m.history_days
    lines = [
        "# Analysis benchmark (`python -m bench.analysis`)",
        "",
        f"{SUPPLIERS:,} suppliers x {DAYS} days x {SKUS} SKUs = {SUPPLIERS * DAYS * SKUS:,} price rows, "
        f"{SUPPLIERS * DAYS:,} load rows; ClickHouse 18.16 (private instance, `max_threads` = 2), {cores} cores; "
        f"Pricelens DB: Postgres. Day analysed: {DAY} (D-1 = {DAY - timedelta(days=1)}). "
        f"{len(runs)} run(s), each on a freshly started server and freshly loaded data (loading "
        f"{statistics.median(r.load_s for r in runs):.1f} s, merged into {m.parts} part); per query the "
        f"median of {REPEAT} executions, floor and analysis interleaved. Rows read and CPU seconds from "
        "`system.query_log`, wall seconds from the client.",
        "",
        f"## The run with the median CPU ratio (of {len(runs)})",
        "",
        "| step | rows read | wall s | CPU s | rows/s/core (wall) | rows per CPU-s | vs its floor (wall / CPU) |",
        "|---|---:|---:|---:|---:|---:|---:|",
        row("floor: prices `count() … GROUP BY supplier`, `PREWHERE day IN (D-1, D)`", fp),
        row(f"floor: loads `count() … GROUP BY supplier`, {days}-day window", fl),
        row("**floor total**", m.floor),
        row("analysis: price changes (D-1, D)", m.t["prices"], fp),
        row(f"analysis: loads by supplier and day ({days} days)", m.t["loads"], fl),
        row("**analysis SQL total for one day**", m.analysis, m.floor),
        row(
            "yardstick: price rows read with every column the analysis needs, no pairing",
            m.t["read_prices"],
            fp,
        ),
        "",
        f"- analysis SQL / floor: **{m.ratio_cpu:.2f}x in CPU time, {m.ratio_wall:.2f}x in wall time** "
        "(goal: within 2x)",
        f"- one daily analysis end to end (SQL + rules + {SUPPLIERS:,} `supplier_day` upserts + events): "
        f"{m.daily_s:.2f} s; rerun of the same day (nothing to write): {m.rerun_s:.2f} s",
        f"- {DAYS}-day backfill (reprocess=all): {m.backfill_s:.1f} s ({m.backfill_s / DAYS:.2f} s per day)",
        "- Python receives one row per supplier (per day); never raw rows.",
    ]
    if len(runs) > 1:
        lines += [
            "",
            "## All runs",
            "",
            "| run | ratio CPU | ratio wall | floor CPU s | analysis CPU s | daily s | backfill s |",
            "|---:|---:|---:|---:|---:|---:|---:|",
            *(
                f"| {i} | {r.ratio_cpu:.2f}x | {r.ratio_wall:.2f}x | {r.floor.cpu:.4f} | {r.analysis.cpu:.4f} | "
                f"{r.daily_s:.2f} | {r.backfill_s:.1f} |"
                for i, r in enumerate(runs, 1)
            ),
            "",
            f"Medians: ratio **{statistics.median(r.ratio_cpu for r in runs):.2f}x** CPU, "
            f"{statistics.median(r.ratio_wall for r in runs):.2f}x wall; daily analysis "
            f"{statistics.median(r.daily_s for r in runs):.2f} s; backfill "
            f"{statistics.median(r.backfill_s for r in runs):.1f} s.",
        ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.analysis")
    parser.add_argument("--runs", type=int, default=1, help="independent runs (fresh server and data)")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    runs = []
    for i in range(args.runs):
        runs.append(one_run())
        r = runs[-1]
        print(f"run {i + 1}: ratio {r.ratio_cpu:.2f}x CPU, {r.ratio_wall:.2f}x wall", flush=True)
    lines = report(runs, cores)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
