"""Jinja filters: relative times with the absolute one on hover, compact numbers, byte sizes, durations.

Pure functions of their inputs (``now`` is passed in where it matters) so they are tested without a
browser, and the templates stay free of arithmetic.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from markupsafe import Markup, escape

NO_VALUE = "\N{EN DASH}"  # shown for a missing figure


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def relative(value: datetime | None, now: datetime | None = None) -> str:
    """``42s ago``, ``5m ago``, ``3h ago``, ``2d ago``, ``in 4h``; ``never`` for nothing."""
    if value is None:
        return "never"
    now = now or datetime.now(UTC)
    seconds = (now - _aware(value)).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 45:
        text = "just now" if not future else "in a moment"
        return text
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            amount = int(seconds // size)
            return f"in {amount}{unit}" if future else f"{amount}{unit} ago"
    return "just now"  # pragma: no cover - unreachable, kept for the type checker


def absolute(value: datetime | None) -> str:
    if value is None:
        return ""
    return _aware(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def timeago(value: datetime | None, now: datetime | None = None) -> Markup:
    """A ``<time>`` element: relative text, absolute UTC time on hover, ISO for scripts."""
    if value is None:
        return Markup('<span class="muted">never</span>')
    iso = _aware(value).astimezone(UTC).isoformat()
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        iso, absolute(value), relative(value, now)
    )


def compact(value: int | float | None) -> str:
    """``999``, ``1.2k``, ``3.4M``: dense tables need short numbers."""
    if value is None:
        return NO_VALUE
    n = float(value)
    for suffix, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            text = f"{n / size:.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    return f"{int(n)}" if n == int(n) else f"{n:.1f}"


def size(value: int | None) -> str:
    if value is None:
        return NO_VALUE
    n = float(value)
    for suffix in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or suffix == "GiB":
            return f"{n:.0f} {suffix}" if suffix == "B" else f"{n:.1f} {suffix}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover


def duration(start: datetime | None, end: datetime | None, now: datetime | None = None) -> str:
    if start is None:
        return NO_VALUE
    end = end or now or datetime.now(UTC)
    seconds = max(0.0, (_aware(end) - _aware(start)).total_seconds())
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return str(timedelta(seconds=int(seconds)))


def percent(value: float | None) -> str:
    return NO_VALUE if value is None else f"{value * 100:.1f} %"


def urlpart(value: str | None) -> str:
    """One path segment, fully quoted: a supplier named ``../x`` or ``javascript:`` stays a segment."""
    return quote(value or "", safe="")


def status_badge(status: str, regressed: bool = False) -> Markup:
    label = "regressed" if regressed and status == "open" else status
    return Markup('<span class="badge st-{}">{}</span>').format(escape(label), escape(label))


def pretty_json(value: object) -> str:
    """Indented JSON as plain text (autoescaped by the template like everything else)."""
    import json

    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)
