"""The analysis rules, table-driven, without any server."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from collector.scheduler.rules import LoadDay, PriceChange, Thresholds, evaluate, weekday_loads
from collector.settings import Settings

D = date(2024, 3, 12)  # a Tuesday
T = Thresholds.from_settings(Settings())


def ok(rows: int = 1000, rejected: int = 10) -> LoadDay:
    return LoadDay(loads=1, rows_total=rows + rejected, rows_loaded=rows, rows_rejected=rejected)


def daily(days: int = 28, **today: int) -> dict[date, LoadDay]:
    history = {D - timedelta(days=i): ok() for i in range(1, days + 1)}
    if today:
        history[D] = ok(**today)
    return history


def only_weekdays(weekdays: set[int], with_today: bool) -> dict[date, LoadDay]:
    history = {
        D - timedelta(days=i): ok() for i in range(1, 29) if (D - timedelta(days=i)).weekday() in weekdays
    }
    if with_today:
        history[D] = ok()
    return history


FAILED_TODAY = {**daily(), D: LoadDay(loads=2, loads_failed=2, rows_total=5)}
TWO_TUESDAYS = {d: v for d, v in daily().items() if d not in (D - timedelta(weeks=1), D - timedelta(weeks=2))}


@pytest.mark.parametrize(
    ("case", "history", "prices", "expected"),
    [
        ("daily supplier, loaded", daily(rows=1000), PriceChange(), []),
        ("daily supplier, silent", daily(), PriceChange(), [("stale_supplier", 0, 4, 3)]),
        ("only failed loads count as silent", FAILED_TODAY, PriceChange(), [("stale_supplier", 0, 4, 3)]),
        ("weekend-only supplier on a Tuesday", only_weekdays({5, 6}, False), PriceChange(), []),
        (
            "3 of the last 4 Tuesdays is a cadence",
            {**daily(), D - timedelta(weeks=2): LoadDay()},
            PriceChange(),
            [("stale_supplier", 0, 3, 3)],
        ),
        ("2 of 4 is not", TWO_TUESDAYS, PriceChange(), []),
        ("brand-new supplier", {}, PriceChange(), []),
        (
            "row drop just below half the median",
            daily(rows=499),
            PriceChange(),
            [("row_drop", 499, 1000, 500)],
        ),
        ("exactly half is not a drop", daily(rows=500), PriceChange(), []),
        ("too little history for a drop", daily(days=2, rows=10, rejected=0), PriceChange(), []),
        (
            "reject spike above 5 %",
            daily(rows=900, rejected=100),
            PriceChange(),
            [("reject_spike", 0.1, 10 / 1010, 0.05)],
        ),
        ("rejects at 5 % are not a spike", daily(rows=950, rejected=50), PriceChange(), []),
        (
            "price jump: 6 % of 100 SKUs",
            daily(rows=1000),
            PriceChange(100, 6),
            [("price_jump", 0.06, 100, 0.05)],
        ),
        ("5 % exactly is not a jump", daily(rows=1000), PriceChange(100, 5), []),
        ("under 20 SKUs compared is never a jump", daily(rows=1000), PriceChange(19, 19), []),
    ],
)
def test_rules(
    case: str, history: dict[date, LoadDay], prices: PriceChange, expected: list[tuple[object, ...]]
) -> None:
    found = [(f.rule, f.value, f.baseline, f.threshold) for f in evaluate("acme", D, history, prices, T)]
    assert found == [pytest.approx(e) for e in expected], case


def test_reject_spike_bar_follows_a_high_baseline() -> None:
    history = {D - timedelta(days=i): ok(rows=900, rejected=100) for i in range(1, 8)}  # 10 % is normal
    history[D] = ok(rows=750, rejected=250)  # 25 %: below 3 times 10 %
    assert evaluate("acme", D, history, PriceChange(), T) == []
    history[D] = ok(rows=650, rejected=350)  # 35 %: above 30 %
    assert [f.rule for f in evaluate("acme", D, history, PriceChange(), T)] == ["reject_spike"]


def test_messages_carry_the_figures() -> None:
    [stale] = evaluate("acme", D, daily(), PriceChange(), T)
    assert stale.message == (
        "No successful price-list load from acme on 2024-03-12 (Tuesday), although it loaded on 4 of the "
        "previous 4 Tuesdays"
    )
    [drop] = evaluate("acme", D, daily(rows=100, rejected=1), PriceChange(), T)
    assert drop.message == (
        "acme loaded 100 rows on 2024-03-12, below 500 "
        "(50% of its median of 1000 over the previous 7 loading days)"
    )


def test_weekday_loads_counts_same_weekdays_only() -> None:
    assert weekday_loads(D, only_weekdays({1}, False), 4) == 4
    assert weekday_loads(D, only_weekdays({0, 2}, False), 4) == 0
