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
    """The analysis queries for one configuration of table and column names, and their floors.

    Each floor is a plain ``count() … GROUP BY supplier`` with the very same table and filter clause as
    the analysis query it stands for, so it touches the same rows: the engine's own floor for the
    benchmark (``bench/analysis``), never run by the jobs.
    """

    loads_by_day: str
    price_changes: str
    price_changes_where: str  # the same with WHERE, for a source table whose engine refuses PREWHERE
    loads_by_supplier_floor: str
    prices_by_supplier_floor: str
    prices_read_floor: str


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
    loads_window = f"WHERE {t} >= toDateTime(%(start_ts)s) AND {t} < toDateTime(%(end_ts)s)"
    # Times come back as UInt32 Unix seconds; 0 means "none that day". No ORDER BY: the caller files
    # the rows in dicts, and sorting ~30 k (String, Date) keys cost 40 % of this query's CPU.
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
{loads_window}
GROUP BY sup, load_day
"""

    # Parameters: prev_day, day (YYYY-MM-DD), change (relative change that counts, e.g. 0.3).
    #
    # PREWHERE, written out: 18.16 never moves a condition on a primary-key column (`day` is one) to
    # PREWHERE by itself, and with WHERE every column is read for every row of the table. With it only
    # `day` is read everywhere; supplier, sku and price only in granules holding D-1 or D.
    days = f"PREWHERE {p_day} IN (toDate(%(prev_day)s), toDate(%(day)s))"
    # One pass, grouped by supplier only (1 row per supplier; no self-JOIN, no 200 k-group hash table
    # per (supplier, SKU), which cost twice as much CPU here). Per supplier, every price row becomes a
    # key: the SKU's hash with its lowest bit replaced by "is day D" — so after sorting the keys, a SKU
    # priced on both days is an even key immediately followed by the same key + 1, and the prices sorted
    # along with the keys line up with them. A SKU listed more than once on a day (the schema says once)
    # is compared once, on its highest price of each day (prices of one key sort ascending on D-1 and
    # descending on D), so the answer does not depend on the order the rows were read in.
    price_changes = f"""
SELECT sup, compared, changed
FROM (
    SELECT
        sup,
        arraySum(arrayMap(
            (k0, k1) -> bitAnd(k0, 1) = 0 AND k1 = k0 + 1,
            arrayPopBack(k), arrayPopFront(k)
        )) AS compared,
        arraySum(arrayMap(
            (k0, k1, p0, p1) -> bitAnd(k0, 1) = 0 AND k1 = k0 + 1 AND abs(p1 - p0) > %(change)s * abs(p0),
            arrayPopBack(k), arrayPopFront(k), arrayPopBack(p), arrayPopFront(p)
        )) AS changed
    FROM (
        SELECT
            sup,
            arraySort(keys) AS k,
            arraySort((x, key) -> (key, if(bitAnd(key, 1) = 1, -x, x)), prices, keys) AS p
        FROM (
            SELECT
                toString({p_sup}) AS sup,
                groupArray(intDiv(cityHash64({sku}), 2) * 2 + ({p_day} = toDate(%(day)s))) AS keys,
                groupArray(toFloat64({price})) AS prices
            FROM {prices}
            {days}
            GROUP BY sup
        )
    )
)
WHERE compared > 0
"""

    loads_by_supplier_floor = f"""
SELECT toString({sup}) AS sup, count() AS n
FROM {loads}
{loads_window}
GROUP BY sup
"""
    prices_by_supplier_floor = f"""
SELECT toString({p_sup}) AS sup, count() AS n
FROM {prices}
{days}
GROUP BY sup
"""
    # A view (or any engine without PREWHERE) answers ILLEGAL_PREWHERE: the same query with WHERE then.
    price_changes_where = price_changes.replace(days, days.replace("PREWHERE", "WHERE", 1))
    # Not a floor of the goal, a yardstick: the same rows, reading every column price_changes needs, with
    # trivial per-supplier sums instead of the SKU pairing. What price_changes costs above this is pairing.
    prices_read_floor = f"""
SELECT toString({p_sup}) AS sup, count() AS n, sum(cityHash64({sku})) AS h, sum(toFloat64({price})) AS p
FROM {prices}
{days}
GROUP BY sup
"""
    return AnalysisSQL(
        loads_by_day,
        price_changes,
        price_changes_where,
        loads_by_supplier_floor,
        prices_by_supplier_floor,
        prices_read_floor,
    )
