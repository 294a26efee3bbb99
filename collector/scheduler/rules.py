"""The four analysis rules of analysis.md as pure functions over one supplier's daily figures.

No I/O here: :mod:`collector.scheduler.daily_analysis` fetches the figures from ClickHouse and records
what these functions find, so the rules can be tested table-driven, day by day, without a server.

Every :class:`Finding` carries ``value`` (what day D showed), ``baseline`` (what the supplier's own
history says is normal) and ``threshold`` (the bar ``value`` crossed); for ``price_jump`` the baseline is
the number of SKUs compared.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from collector.settings import Settings

STALE_SUPPLIER = "stale_supplier"
ROW_DROP = "row_drop"
REJECT_SPIKE = "reject_spike"
PRICE_JUMP = "price_jump"
RULES = (STALE_SUPPLIER, ROW_DROP, REJECT_SPIKE, PRICE_JUMP)


@dataclass(frozen=True)
class LoadDay:
    """One supplier's price-list loads on one day, aggregated by ClickHouse."""

    loads: int = 0
    loads_failed: int = 0
    rows_total: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    last_load_at: datetime | None = None
    last_success_at: datetime | None = None

    @property
    def succeeded(self) -> bool:
        return self.loads > self.loads_failed

    @property
    def reject_share(self) -> float:
        return self.rows_rejected / self.rows_total if self.rows_total else 0.0


@dataclass(frozen=True)
class PriceChange:
    """SKUs priced on both D-1 and D, and how many of them moved by more than the change threshold."""

    compared: int = 0
    changed: int = 0

    @property
    def share(self) -> float:
        return self.changed / self.compared if self.compared else 0.0


@dataclass(frozen=True)
class Thresholds:
    """The rules' thresholds; their defaults and documentation live in :class:`Settings`."""

    stale_history_weeks: int
    stale_min_weekday_loads: int
    row_drop_ratio: float
    row_drop_history_days: int
    row_drop_min_history_days: int
    reject_spike_min_share: float
    reject_spike_factor: float
    price_jump_min_skus: int
    price_jump_change: float
    price_jump_share: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Thresholds:
        return cls(**{name: getattr(settings, name) for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Finding:
    rule: str
    value: float
    baseline: float
    threshold: float
    message: str


def weekday_loads(day: date, history: Mapping[date, LoadDay], weeks: int) -> int:
    """On how many of the previous ``weeks`` same weekdays the supplier loaded successfully."""
    return sum(1 for w in range(1, weeks + 1) if history.get(day - timedelta(weeks=w), LoadDay()).succeeded)


def _previous_loading_days(day: date, history: Mapping[date, LoadDay], count: int) -> list[LoadDay]:
    earlier = sorted((d for d, load in history.items() if d < day and load.succeeded), reverse=True)
    return [history[d] for d in earlier[:count]]


def evaluate(
    supplier: str,
    day: date,
    history: Mapping[date, LoadDay],
    prices: PriceChange,
    t: Thresholds,
) -> list[Finding]:
    """All findings for ``supplier`` on ``day``; ``history`` holds day D and the days before it."""
    today = history.get(day, LoadDay())
    findings: list[Finding] = []
    weekday = day.strftime("%A")

    seen = weekday_loads(day, history, t.stale_history_weeks)
    if not today.succeeded and seen >= t.stale_min_weekday_loads:
        failed = f" ({today.loads_failed} failed load(s) that day)" if today.loads_failed else ""
        findings.append(Finding(
            STALE_SUPPLIER, 0, seen, t.stale_min_weekday_loads,
            f"No successful price-list load from {supplier} on {day} ({weekday}), although it loaded on "
            f"{seen} of the previous {t.stale_history_weeks} {weekday}s{failed}",
        ))  # fmt: skip

    if today.succeeded:
        previous = _previous_loading_days(day, history, t.row_drop_history_days)
        if len(previous) >= t.row_drop_min_history_days:
            median_rows = statistics.median(p.rows_loaded for p in previous)
            bar = (1 - t.row_drop_ratio) * median_rows
            if today.rows_loaded < bar:
                findings.append(Finding(
                    ROW_DROP, today.rows_loaded, median_rows, bar,
                    f"{supplier} loaded {today.rows_loaded} rows on {day}, below {bar:.0f} "
                    f"({1 - t.row_drop_ratio:.0%} of its median of {median_rows:.0f} over the previous "
                    f"{len(previous)} loading days)",
                ))  # fmt: skip

        with_rows = [p.reject_share for p in previous if p.rows_total]
        median_share = statistics.median(with_rows) if with_rows else 0.0
        bar = max(t.reject_spike_min_share, t.reject_spike_factor * median_share)
        if today.rows_total and today.reject_share > bar:
            findings.append(Finding(
                REJECT_SPIKE, today.reject_share, median_share, bar,
                f"{supplier} rejected {today.reject_share:.1%} of rows on {day} ({today.rows_rejected} of "
                f"{today.rows_total}), above {bar:.1%} (its median share is {median_share:.1%})",
            ))  # fmt: skip

    if prices.compared >= t.price_jump_min_skus and prices.share > t.price_jump_share:
        findings.append(Finding(
            PRICE_JUMP, prices.share, prices.compared, t.price_jump_share,
            f"{prices.changed} of {prices.compared} SKUs of {supplier} ({prices.share:.1%}) changed price "
            f"by more than {t.price_jump_change:.0%} from {day - timedelta(days=1)} to {day}, "
            f"above {t.price_jump_share:.0%}",
        ))  # fmt: skip
    return findings
