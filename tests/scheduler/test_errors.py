"""What the jobs do when things go wrong: each case ends in a clear status and writes nothing half-way."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import date

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from collector.models import Event, JobRun, SupplierDay
from collector.scheduler import backfill, control, jobs, runs
from collector.scheduler.service import SchedulerService
from tests.clickhouse_server import ClickHouseServer
from tests.scheduler.conftest import make_settings

pytestmark = pytest.mark.postgres
DAY = date(2024, 3, 15)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word (a hung ClickHouse)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def nothing_written(engine: sa.Engine) -> bool:
    with Session(engine) as s:
        return not s.exec(select(SupplierDay)).first() and not s.exec(select(Event)).first()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_clickhouse_not_configured_is_a_status_not_a_failure(pg_url: str, pg_engine: sa.Engine) -> None:
    settings = make_settings(pg_url)
    run = jobs.run_job("daily_analysis", settings=settings, engine=pg_engine, trigger="schedule", day=DAY)
    assert (run.status, run.error) == ("not_configured", "ClickHouse not configured")
    with jobs.clickhouse(settings) as ch:
        filled = backfill.backfill(DAY, DAY, ch=ch, engine=pg_engine, settings=settings)
    assert (filled.status, filled.error) == ("not_configured", "ClickHouse not configured")
    assert nothing_written(pg_engine)


def test_clickhouse_down(pg_url: str, pg_engine: sa.Engine) -> None:
    settings = make_settings(pg_url, f"clickhouse://default:@127.0.0.1:{closed_port()}/default")
    run = jobs.run_job("daily_analysis", settings=settings, engine=pg_engine, trigger="manual", day=DAY)
    assert run.status == "failed"
    assert run.error is not None and run.error.startswith("ClickHouse unreachable: ")
    assert "Connection refused" in run.error
    assert nothing_written(pg_engine)


def test_clickhouse_hung_times_out(pg_url: str, pg_engine: sa.Engine, silent_server: int) -> None:
    settings = make_settings(
        pg_url, f"clickhouse://default:@127.0.0.1:{silent_server}/default", ch_query_timeout_seconds=1
    )
    started = time.monotonic()
    run = jobs.run_job("daily_analysis", settings=settings, engine=pg_engine, trigger="manual", day=DAY)
    assert time.monotonic() - started < 10
    assert run.status == "failed"
    assert run.error is not None and run.error.startswith("ClickHouse did not answer in time: ")
    assert nothing_written(pg_engine)


@pytest.mark.clickhouse
def test_query_over_the_time_limit_is_cancelled(
    pg_url: str, pg_engine: sa.Engine, clickhouse: ClickHouseServer
) -> None:
    client = clickhouse.client()
    client.execute("CREATE DATABASE IF NOT EXISTS pl_endless")
    client.execute(
        "CREATE VIEW IF NOT EXISTS pl_endless.prices AS SELECT toDate('2024-03-15') - (number % 2) AS day, "
        "toString(number % 1000) AS supplier, toString(number) AS sku, toFloat64(number) AS price "
        "FROM system.numbers"
    )
    client.execute(
        "CREATE TABLE IF NOT EXISTS pl_endless.pricelist_loads (loaded_at DateTime, supplier String, "
        "rows_total UInt64, rows_loaded UInt64, rows_rejected UInt64, status String) ENGINE = Memory"
    )
    settings = make_settings(pg_url, clickhouse.url("pl_endless"), ch_query_timeout_seconds=1)
    run = jobs.run_job("daily_analysis", settings=settings, engine=pg_engine, trigger="manual", day=DAY)
    assert (run.status, run.error) == (
        "failed",
        "ClickHouse query exceeded the time limit of 1 s (PRICELENS_CH_QUERY_TIMEOUT_SECONDS)",
    )
    assert nothing_written(pg_engine)


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [
        (
            date(2024, 3, 2),
            date(2024, 3, 1),
            "backfill range is reversed: start 2024-03-02 is after end 2024-03-01",
        ),
        (
            date(2021, 1, 1),
            date(2024, 1, 1),
            "backfill range of 1096 days is longer than the limit of 400 "
            "(PRICELENS_BACKFILL_MAX_DAYS); split it into smaller ranges",
        ),
    ],
)
def test_bad_backfill_ranges_are_refused_before_anything_runs(
    pg_url: str, pg_engine: sa.Engine, start: date, end: date, reason: str
) -> None:
    settings = make_settings(pg_url, "clickhouse://default:@127.0.0.1:9/default")
    with pytest.raises(ValueError) as info:
        backfill.backfill(start, end, ch=None, engine=pg_engine, settings=settings)
    assert str(info.value) == reason
    with Session(pg_engine) as s:
        assert s.exec(select(JobRun)).all() == []


def test_second_run_now_while_one_runs_is_refused(
    pg_url: str, pg_engine: sa.Engine, silent_server: int
) -> None:
    settings = make_settings(
        pg_url, f"clickhouse://default:@127.0.0.1:{silent_server}/default", ch_query_timeout_seconds=1
    )
    service = SchedulerService(settings, lead=False).start()
    try:
        first = control.run_now(service, "daily_analysis", DAY)
        with pytest.raises(runs.RunInProgressError) as info:
            control.run_now(service, "daily_analysis", DAY)
        assert str(info.value).startswith(f"daily_analysis is already running (run {first.id}, started ")
        assert control.run_now(service, "purge_events").status == "running"  # other jobs are not blocked
        deadline = time.monotonic() + 15
        while True:
            with Session(pg_engine) as s:
                done = s.get(JobRun, first.id)
                assert done is not None
                if done.status != "running" or time.monotonic() > deadline:
                    break
            time.sleep(0.1)
        assert done.status == "failed" and (done.error or "").startswith("ClickHouse did not answer in time")
        with Session(pg_engine) as s:
            assert [r.status for r in s.exec(select(JobRun).where(JobRun.job_id == "daily_analysis"))] == [
                "failed"
            ]
        assert control.run_now(service, "daily_analysis", DAY).id != first.id  # free again
    finally:
        service.shutdown()
