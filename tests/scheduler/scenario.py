"""Generated price-list history with planted anomalies, and the source tables it lives in.

February and March 2024 (UTC), seven suppliers, noise of ±20 % on volumes and reject shares and small
daily price moves (below the 30 % bar). Planted in March:

- ``quiet``     sends daily until 2024-03-09, then nothing → stale 03-10 … 03-23 (14 days; from 03-24
                fewer than 3 of the previous 4 same weekdays had a load, so none is expected any more);
- ``broken``    only a failed load on 03-05 → stale on 03-05;
- ``dropper``   30 % of its usual rows on 03-15 → row_drop on 03-15;
- ``rejecter``  20 % of rows rejected on 03-20 → reject_spike on 03-20;
- ``jumper``    30 of 200 SKUs up 50 % on 03-25 → price_jump on 03-25;
- ``weekdays``  Monday to Friday only, ``weekends`` Saturday and Sunday only: their gaps are normal;
- ``steady``    two loads a day (mail and ftp), nothing wrong.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

FIRST_DAY, LAST_DAY = date(2024, 2, 1), date(2024, 3, 31)
MARCH = [date(2024, 3, 1) + timedelta(days=i) for i in range(31)]
SKUS = 200

EXPECTED_FINDINGS = sorted(
    [("stale_supplier", "quiet", date(2024, 3, 10) + timedelta(days=i)) for i in range(14)]
    + [
        ("stale_supplier", "broken", date(2024, 3, 5)),
        ("row_drop", "dropper", date(2024, 3, 15)),
        ("reject_spike", "rejecter", date(2024, 3, 20)),
        ("price_jump", "jumper", date(2024, 3, 25)),
    ]
)

LOADS_DDL = """
CREATE TABLE {db}.pricelist_loads (
    loaded_at DateTime, supplier String, source String, file_name String, rows_total UInt64,
    rows_loaded UInt64, rows_rejected UInt64, status String, error String
) ENGINE = MergeTree ORDER BY (supplier, loaded_at)
"""
PRICES_DDL = """
CREATE TABLE {db}.prices (
    day Date, supplier String, sku String, price Float64, currency String, quantity UInt32
) ENGINE = MergeTree ORDER BY (supplier, day, sku)
"""


@dataclass
class Scenario:
    loads: list[tuple[Any, ...]] = field(default_factory=list)
    prices: list[tuple[Any, ...]] = field(default_factory=list)


def _sends(supplier: str, day: date) -> bool:
    if supplier == "weekdays":
        return day.weekday() < 5
    if supplier == "weekends":
        return day.weekday() >= 5
    if supplier == "quiet":
        return day <= date(2024, 3, 9)
    return True


def generate(seed: int = 7) -> Scenario:
    rnd = random.Random(seed)
    out = Scenario()
    suppliers = ["broken", "dropper", "jumper", "quiet", "rejecter", "steady", "weekdays", "weekends"]
    base_price = {(s, k): rnd.uniform(5, 500) for s in suppliers for k in range(SKUS)}
    day = FIRST_DAY
    while day <= LAST_DAY:
        for supplier in suppliers:
            if not _sends(supplier, day):
                continue
            failed = supplier == "broken" and day == date(2024, 3, 5)
            loads = 2 if supplier == "steady" else 1
            for n in range(loads):
                total = int(10_000 * rnd.uniform(0.8, 1.2))
                if supplier == "dropper" and day == date(2024, 3, 15):
                    total = 3_000
                share = 0.20 if supplier == "rejecter" and day == date(2024, 3, 20) else 0.01
                rejected = int(total * share * rnd.uniform(0.8, 1.2))
                at = datetime.combine(day, time(5 + 6 * n, rnd.randrange(60), rnd.randrange(60)), UTC)
                status = "failed" if failed else "ok"
                loaded = 0 if failed else total - rejected
                source, name, error = ("mail", "ftp")[n], f"{supplier}_{day}.csv", "bad zip" if failed else ""
                out.loads.append(
                    (at.replace(tzinfo=None), supplier, source, name, total, loaded, rejected, status, error)
                )
            if failed:
                continue
            for k in range(SKUS):
                if rnd.random() < 0.02:  # everyday movement, below the 30 % bar
                    base_price[supplier, k] *= rnd.uniform(0.8, 1.2)
                if supplier == "jumper" and day == date(2024, 3, 25) and k < 30:
                    base_price[supplier, k] *= 1.5
                out.prices.append(
                    (day, supplier, f"SKU-{k:04d}", round(base_price[supplier, k], 4), "EUR", 10)
                )
        day += timedelta(days=1)
    return out


def load_into(client: Any, db: str, scenario: Scenario) -> None:
    client.execute(f"CREATE DATABASE {db}")
    client.execute(LOADS_DDL.format(db=db))
    client.execute(PRICES_DDL.format(db=db))
    client.execute(f"INSERT INTO {db}.pricelist_loads VALUES", scenario.loads)
    client.execute(f"INSERT INTO {db}.prices VALUES", scenario.prices)


def reference_supplier_days(scenario: Scenario, days: list[date]) -> dict[tuple[str, date], dict[str, Any]]:
    """The figures ``supplier_day`` must hold, computed here from the raw rows, independently of SQL."""
    by_day: dict[tuple[str, date], list[tuple[Any, ...]]] = {}
    for row in scenario.loads:
        by_day.setdefault((row[1], row[0].date()), []).append(row)
    prices = {(s, d, k): p for d, s, k, p, *_ in scenario.prices}
    suppliers = {row[1] for row in scenario.loads}
    expected: dict[tuple[str, date], dict[str, Any]] = {}
    for day in days:
        for supplier in sorted(suppliers):
            window = [by_day.get((supplier, day - timedelta(days=i)), []) for i in range(29)]
            if not any(window):
                continue  # not seen in the four weeks before D: not analysed
            rows = by_day.get((supplier, day), [])
            ok = [r for r in rows if r[7] != "failed"]
            both = [
                (prices[supplier, day - timedelta(days=1), k], prices[supplier, day, k])
                for (s, d, k) in prices
                if s == supplier and d == day and (supplier, day - timedelta(days=1), k) in prices
            ]
            changed = sum(1 for p0, p1 in both if abs(p1 - p0) > 0.3 * abs(p0))
            expected[supplier, day] = {
                "loads": len(rows), "loads_failed": len(rows) - len(ok),
                "rows_total": sum(r[4] for r in rows), "rows_loaded": sum(r[5] for r in rows),
                "rows_rejected": sum(r[6] for r in rows),
                "last_load_at": max((r[0] for r in rows), default=None),
                "last_success_at": max((r[0] for r in ok), default=None),
                "skus_compared": len(both), "skus_changed": changed,
            }  # fmt: skip
    return expected
