"""Charts drawn on the server as inline SVG.

No chart library: the series are small (14 to 90 points), SVG renders without JavaScript, works on a
closed network, survives a strict Content-Security-Policy (colours come from CSS classes, not inline
styles), and the page is complete the moment it arrives. Labels are escaped like any other text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from markupsafe import Markup, escape

from dashboard.formatting import compact


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def sparkline(counts: Sequence[int], *, width: int = 112, height: int = 22, label: str = "") -> Markup:
    """One bar per day; an empty day is a faint baseline tick so gaps read as gaps."""
    if not counts:
        return Markup("")
    top = max(counts) or 1
    step = width / len(counts)
    bar = max(1.0, step - 1.5)
    parts = []
    for i, count in enumerate(counts):
        x = i * step
        if count:
            h = max(2.0, (height - 2) * count / top)
            parts.append(
                f'<rect class="spark-bar" x="{_num(x)}" y="{_num(height - h)}" '
                f'width="{_num(bar)}" height="{_num(h)}"></rect>'
            )
        else:
            parts.append(
                f'<rect class="spark-empty" x="{_num(x)}" y="{height - 1}" '
                f'width="{_num(bar)}" height="1"></rect>'
            )
    total = sum(counts)
    title = escape(label or f"{total} events in {len(counts)} days")
    # Numbers only, and the one text (the title) is escaped above: safe to mark up.
    return Markup(  # noqa: S704
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{title}"><title>{title}</title>{"".join(parts)}</svg>'
    )


def series_chart(
    points: Sequence[tuple[date, float]],
    *,
    kind: str = "bar",
    fmt: Callable[[float], str] = compact,
    width: int = 640,
    height: int = 140,
    css: str = "",
) -> Markup:
    """A bar (counts) or line (shares) chart over days, with hover titles, top value and date range."""
    if not points:
        return Markup('<p class="muted chart-empty">No data for this period.</p>')
    pad_left, pad_bottom, pad_top = 44, 18, 8
    plot_w, plot_h = width - pad_left - 4, height - pad_bottom - pad_top
    top = max(v for _, v in points) or 1.0
    step = plot_w / len(points)
    body: list[str] = []
    coords: list[tuple[float, float]] = []
    for i, (day, value) in enumerate(points):
        x = pad_left + i * step
        h = plot_h * value / top
        y = pad_top + plot_h - h
        tip = escape(f"{day.isoformat()}: {fmt(value)}")
        if kind == "bar":
            body.append(
                f'<rect class="bar" x="{_num(x + 0.5)}" y="{_num(y)}" width="{_num(max(1.0, step - 1.5))}" '
                f'height="{_num(max(h, 0.0))}"><title>{tip}</title></rect>'
            )
        else:
            cx = x + step / 2
            coords.append((cx, y))
            body.append(
                f'<circle class="dot" cx="{_num(cx)}" cy="{_num(y)}" r="2.2"><title>{tip}</title></circle>'
            )
    if coords:
        path = " ".join(f"{_num(x)},{_num(y)}" for x, y in coords)
        body.insert(0, f'<polyline class="line" points="{path}"></polyline>')
    base_y = pad_top + plot_h
    axis = (
        f'<line class="axis" x1="{pad_left}" y1="{_num(base_y)}" x2="{width - 4}" y2="{_num(base_y)}"></line>'
        f'<line class="grid" x1="{pad_left}" y1="{pad_top}" x2="{width - 4}" y2="{pad_top}"></line>'
        f'<text class="tick" x="{pad_left - 4}" y="{pad_top + 4}" text-anchor="end">{escape(fmt(top))}</text>'
        f'<text class="tick" x="{pad_left - 4}" y="{_num(base_y)}" text-anchor="end">0</text>'
        f'<text class="tick" x="{pad_left}" y="{height - 4}">{points[0][0].isoformat()}</text>'
        f'<text class="tick" x="{width - 4}" y="{height - 4}" text-anchor="end">'
        f"{points[-1][0].isoformat()}</text>"
    )
    # Numbers and escaped labels only: safe to mark up.
    return Markup(  # noqa: S704
        f'<svg class="chart {escape(css)}" viewBox="0 0 {width} {height}" '
        f'role="img">{axis}{"".join(body)}</svg>'
    )
