"""Every ClickHouse query of the jobs, in one place, so one file shows what Pricelens asks of the team's
ClickHouse and one test suite proves it on 18.16 and on a current release.

Rules for this file: aggregate inside ClickHouse (Python receives one row per supplier per day, never raw
rows); only ``%(name)s`` client-side parameters; nothing newer than 18.16 understands (no window
functions, no DateTime64, no ``WITH x AS (SELECT …)``, tuples rather than lists for ``IN``). Table and
column names come from settings, so they are checked as identifiers and quoted, never interpolated raw.

Times travel as Unix seconds and days are cut in the analysis timezone with ``toDate(t, tz)``, so the
answer does not depend on the ClickHouse server's own timezone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from collector.settings import Settings

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def quote_identifier(name: str) -> str:
    """```name``` or ```db`.`table```; anything but plain identifiers is refused."""
    parts = name.split(".")
    if not 1 <= len(parts) <= 2 or not all(_IDENTIFIER.match(p) for p in parts):
        raise ValueError(f"not a valid ClickHouse table or column name: {name!r}")
    return ".".join(f"`{p}`" for p in parts)


@dataclass(frozen=True)
class AnalysisSQL:
    """The analysis queries for one configuration of table and column names."""

    loads_by_day: str
    price_changes: str
    prices_by_supplier_floor: str


def analysis_sql(settings: Settings) -> AnalysisSQL:
    q = quote_identifier
    loads = q(settings.ch_loads_table)
    t = q(settings.ch_loads_time_column)
    sup = q(settings.ch_loads_supplier_column)
    failed = f"{q(settings.ch_loads_status_column)} = %(failed_status)s"
    prices = q(settings.ch_prices_table)
    p_day, p_sup = q(settings.ch_prices_day_column), q(settings.ch_prices_supplier_column)
    sku, price = q(settings.ch_prices_sku_column), q(settings.ch_prices_price_column)

    # Parameters: start_ts, end_ts (Unix seconds, [start, end)), tz, failed_status.
    # Times come back as UInt32 Unix seconds; 0 means "none that day".
    loads_by_day = f"""
SELECT
    toString({sup}) AS sup,
    toDate({t}, %(tz)s) AS load_day,
    count() AS loads,
    countIf({failed}) AS loads_failed,
    toUInt64(sum({q(settings.ch_loads_rows_total_column)})) AS total,
    toUInt64(sum({q(settings.ch_loads_rows_loaded_column)})) AS loaded,
    toUInt64(sum({q(settings.ch_loads_rows_rejected_column)})) AS rejected,
    toUInt32(max({t})) AS last_load,
    toUInt32(maxIf({t}, NOT ({failed}))) AS last_success
FROM {loads}
WHERE {t} >= toDateTime(%(start_ts)s) AND {t} < toDateTime(%(end_ts)s)
GROUP BY sup, load_day
ORDER BY sup, load_day
"""

    # Parameters: prev_day, day (YYYY-MM-DD), change (relative change that counts, e.g. 0.3).
    # Inner query: one row per supplier and SKU priced on both days; outer: one row per supplier.
    price_changes = f"""
SELECT
    sup,
    count() AS compared,
    toUInt64(sum(abs(p1 - p0) > %(change)s * abs(p0))) AS changed
FROM (
    SELECT
        toString({p_sup}) AS sup,
        avgIf({price}, {p_day} = toDate(%(prev_day)s)) AS p0,
        avgIf({price}, {p_day} = toDate(%(day)s)) AS p1,
        countIf({p_day} = toDate(%(prev_day)s)) AS n0,
        countIf({p_day} = toDate(%(day)s)) AS n1
    FROM {prices}
    WHERE {p_day} IN (toDate(%(prev_day)s), toDate(%(day)s))
    GROUP BY sup, cityHash64({sku})
    HAVING n0 > 0 AND n1 > 0
)
GROUP BY sup
ORDER BY sup
"""

    # The engine's floor for the benchmark: touch the same price rows, aggregate as little as possible.
    prices_by_supplier_floor = f"""
SELECT toString({p_sup}) AS sup, count() AS n
FROM {prices}
WHERE {p_day} IN (toDate(%(prev_day)s), toDate(%(day)s))
GROUP BY sup
"""
    return AnalysisSQL(loads_by_day, price_changes, prices_by_supplier_floor)
