"""Cron expressions: crontab meaning (Sunday = 0), seconds for tests, clear refusals."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from collector.scheduler.cron import CronError, describe, parse_cron

TZ = "Europe/Berlin"


@pytest.mark.parametrize(
    ("expr", "shown", "next_after_friday_noon"),
    [
        ("30 2 * * *", "30 2 * * *", "2024-03-09 02:30"),
        ("0 6 * * 1-5", "0 6 * * mon,tue,wed,thu,fri", "2024-03-11 06:00"),
        ("0 6 * * 0", "0 6 * * sun", "2024-03-10 06:00"),
        ("0 6 * * 7", "0 6 * * sun", "2024-03-10 06:00"),
        ("0 6 * * sat,sun", "0 6 * * sat,sun", "2024-03-09 06:00"),
        ("0 6 * * */3", "0 6 * * sun,wed,sat", "2024-03-09 06:00"),
        ("*/5 * * * * *", "*/5 * * * * *", "2024-03-08 12:00"),
    ],
)
def test_crontab_semantics(expr: str, shown: str, next_after_friday_noon: str) -> None:
    trigger = parse_cron(expr, TZ)
    assert describe(trigger) == shown
    friday_noon = datetime(2024, 3, 8, 11, 59, 59, tzinfo=ZoneInfo(TZ))
    fire = trigger.get_next_fire_time(None, friday_noon)
    assert fire.strftime("%Y-%m-%d %H:%M") == next_after_friday_noon


@pytest.mark.parametrize(
    ("expr", "reason"),
    [
        ("* * *", "a cron expression has 5 fields (minute hour day month weekday), got 3: '* * *'"),
        (
            "61 * * * *",
            "invalid cron expression '61 * * * *': Error validating expression '61': the last value (61) "
            "is higher than the maximum value (59)",
        ),
        ("0 0 * * 8", "day of week '8' is out of range (0-7, 0 and 7 are Sunday)"),
        ("0 0 * * x-y", "invalid cron expression '0 0 * * x-y': Invalid weekday name \"x\""),
        ("0 0 * * 1-", "day of week '1-' is not a number, name, range or step"),
    ],
)
def test_malformed_cron_is_refused_with_the_reason(expr: str, reason: str) -> None:
    with pytest.raises(CronError) as info:
        parse_cron(expr, TZ)
    assert str(info.value) == reason
