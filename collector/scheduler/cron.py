"""Cron expressions as people write them, turned into APScheduler 3 triggers and back.

APScheduler 3 numbers weekdays from Monday = 0, crontab from Sunday = 0 (its own docs call this a
historical mistake). Expressions here mean what crontab means: numeric weekdays are translated to names
before APScheduler sees them, so ``0 2 * * 1-5`` runs Monday to Friday. Six fields (seconds first) are
accepted too, which tests use to schedule every second.
"""

from __future__ import annotations

from apscheduler.triggers.cron import CronTrigger

_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
FIELDS_5 = ("minute", "hour", "day", "month", "day_of_week")


class CronError(ValueError):
    """A cron expression that cannot be used; the message says why."""


def _weekday_item(item: str) -> list[str]:
    if any(c.isalpha() for c in item):
        return [item]
    body, _, step_text = item.partition("/")
    try:
        step = int(step_text) if step_text else 1
        if body == "*":
            low, high = 0, 6
        elif "-" in body:
            low, high = (int(x) for x in body.split("-", 1))
        else:
            low = int(body)
            high = 6 if step_text else low
    except ValueError:
        raise CronError(f"day of week {item!r} is not a number, name, range or step") from None
    if not (0 <= low <= 7 and 0 <= high <= 7) or low > high or step < 1:
        raise CronError(f"day of week {item!r} is out of range (0-7, 0 and 7 are Sunday)")
    return [_DAY_NAMES[n % 7] for n in range(low, high + 1, step)]


def _weekdays(field: str) -> str:
    if field in ("*", "?"):
        return "*"
    names: list[str] = []
    for item in field.split(","):
        names.extend(n for n in _weekday_item(item) if n not in names)
    return ",".join(names)


def parse_cron(expr: str, timezone: str) -> CronTrigger:
    """A trigger for a 5-field crontab expression (or 6 fields, seconds first); raises CronError."""
    values = expr.split()
    if len(values) not in (5, 6):
        raise CronError(
            f"a cron expression has 5 fields (minute hour day month weekday), got {len(values)}: {expr!r}"
        )
    second = values.pop(0) if len(values) == 6 else "0"
    fields = dict(zip(FIELDS_5, values, strict=True))
    fields["day_of_week"] = _weekdays(fields["day_of_week"])
    try:
        return CronTrigger(second=second, timezone=timezone, **fields)
    except ValueError as exc:
        raise CronError(f"invalid cron expression {expr!r}: {exc}") from None


def describe(trigger: object) -> str:
    """The expression a cron trigger runs on (weekdays by name), or ``str(trigger)`` for others."""
    if not isinstance(trigger, CronTrigger):
        return str(trigger)
    by_name = {f.name: str(f) for f in trigger.fields}
    text = " ".join(by_name[name] for name in FIELDS_5)
    return text if by_name["second"] == "0" else f"{by_name['second']} {text}"
