"""``python -m bench.dashboard``: how fast the dashboard renders with real volume.

Seeds 10,000 investigations and 1,000,000 events into a fresh Postgres database (COPY), starts
``pricelens serve --no-scheduler`` on it, logs in, and times each page over HTTP (server-side render
plus one local round trip). Then it runs the stream's and the detail page's queries in-process, times
each statement and prints ``EXPLAIN ANALYZE`` for the slowest. Goal: stream and detail < 300 ms.
Figures go to ``bench/results/dashboard.md``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlmodel import Session

from bench.dashboard.seed import seed
from collector import queries
from collector.db import create_db_engine, session_scope
from collector.migrate import upgrade
from collector.models import Investigation
from collector.users import create_user
from dashboard import queries as dq
from dashboard.stream import StreamQuery
from tests.live import LiveCollector
from tests.pg import fresh_database

RESULTS = Path(__file__).resolve().parents[1] / "results" / "dashboard.md"
GOAL_MS = 300.0
PASSWORD = "bench-password-1"


def csrf_from(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def time_page(client: httpx.Client, path: str, runs: int) -> dict[str, float]:
    for _ in range(3):
        assert client.get(path).status_code == 200, path
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, path
    samples.sort()
    return {
        "p50": statistics.median(samples),
        "p95": samples[int(len(samples) * 0.95) - 1],
        "max": samples[-1],
        "kb": len(response.content) / 1024,
    }


@contextmanager
def captured(engine: sa.Engine) -> Iterator[list[tuple[str, Any, float]]]:
    """Every statement run on ``engine`` in the block, with its parameters and duration (ms)."""
    log: list[tuple[str, Any, float]] = []

    def before(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        conn.info["t0"] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        log.append((statement, params, (time.perf_counter() - conn.info["t0"]) * 1000))

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        yield log
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)


def stream_queries(session: Session) -> None:
    view = StreamQuery()
    page = queries.list_investigations(session, view.to_filter(), per_page=50)
    dq.sparklines(session, [i.id for i in page.items if i.id is not None])
    for column in (Investigation.service, Investigation.supplier, Investigation.kind):
        queries.distinct_values(session, column)


def detail_queries(session: Session, inv_id: int) -> None:
    queries.get_investigation(session, inv_id)
    queries.latest_events(session, inv_id, limit=20)
    queries.activity(session, inv_id)
    dq.event_histogram(session, inv_id, days=30)


def explain(engine: sa.Engine, name: str, work: Callable[[Session], None], out: list[str]) -> None:
    with Session(engine) as session, captured(engine) as log:
        work(session)
    out.append(f"\n### {name}: {len(log)} statements, {sum(ms for *_, ms in log):.1f} ms in SQL\n")
    for statement, _, ms in log:
        out.append(f"- {ms:6.1f} ms  `{' '.join(statement.split())[:150]}`")
    statement, params, ms = max(log, key=lambda entry: entry[2])
    with engine.connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params).scalars().all()
    out.append(f"\nSlowest ({ms:.1f} ms):\n\n```\n" + "\n".join(plan) + "\n```")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard")
    parser.add_argument("--investigations", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    lines = [f"# Dashboard render times ({args.investigations:,} investigations, {args.events:,} events)\n"]
    with fresh_database("pl_bench") as url, tempfile.TemporaryDirectory() as tmp:
        upgrade(url)
        started = time.perf_counter()
        seed(
            url.replace("postgresql+psycopg://", "postgresql://"),
            investigations=args.investigations,
            events=args.events,
        )
        seeded = time.perf_counter() - started
        print(f"seeded in {seeded:.1f} s (COPY + VACUUM ANALYZE)")
        engine = create_db_engine(url)
        with session_scope(engine) as session:
            create_user(session=session, username="bench", password=PASSWORD, role="admin")
        with engine.connect() as conn:
            big = conn.execute(
                sa.text("SELECT id FROM pricelens_investigation ORDER BY event_count DESC LIMIT 1")
            ).scalar_one()
            median = conn.execute(
                sa.text("SELECT id FROM pricelens_investigation ORDER BY event_count LIMIT 1 OFFSET :n"),
                {"n": args.investigations // 2},
            ).scalar_one()
            big_count = conn.execute(
                sa.text("SELECT event_count FROM pricelens_investigation WHERE id = :i"), {"i": big}
            ).scalar_one()
        server = LiveCollector(url, Path(tmp))
        server.start()
        try:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                token = csrf_from(client.get("/login").text)
                client.post("/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token})
                pages = {
                    "stream (default: unresolved, last seen)": "/investigations",
                    "stream, free text `timed out`": "/investigations?q=timed+out&status=all",
                    "stream, sorted by events": "/investigations?sort=events&status=all",
                    "stream, supplier filter": "/investigations?supplier=SUP0042&status=all",
                    "stream, page 40": "/investigations?status=all&page=40",
                    f"detail, biggest investigation ({big_count:,} events)": f"/investigations/{big}",
                    "detail, median investigation": f"/investigations/{median}",
                    "suppliers (300)": "/suppliers",
                    "supplier page": "/suppliers/SUP0042",
                    "jobs": "/jobs",
                    "agents": "/agents",
                }
                lines += ["| page | p50 ms | p95 ms | max ms | KiB |", "|---|---:|---:|---:|---:|"]
                for name, path in pages.items():
                    r = time_page(client, path, args.runs)
                    row = f"| {name} | {r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} | {r['kb']:.0f} |"
                    print(row)
                    lines.append(row)
        finally:
            server.close()
        lines.append(
            f"\n{args.runs} requests per page after 3 warm-ups, over HTTP to `pricelens serve` (one worker); "
            f"goal {GOAL_MS:.0f} ms. Seeding took {seeded:.1f} s."
        )
        lines.append("\n## Where the time goes (queries run in-process, each timed, slowest explained)")
        explain(engine, "stream", stream_queries, lines)
        explain(engine, "detail (biggest)", lambda s: detail_queries(s, big), lines)
        engine.dispose()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print(
        "\n".join(
            lines[
                lines.index(
                    "\n## Where the time goes (queries run in-process, each timed, slowest explained)"
                ) :
            ]
        )
    )
    print(f"\nwritten to {RESULTS}")


if __name__ == "__main__":
    main()
