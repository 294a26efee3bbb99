"""Test data for the dashboard, written the way production writes it: events through the one core,
users through ``collector.users``, supplier days and agents as the analysis and heartbeats store them."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import select

from collector.core import log_investigation_events
from collector.db import session_scope
from collector.models import Agent, Investigation, JobRun, SupplierDay
from collector.schemas import EventIn
from collector.users import create_user

PASSWORD = "correct horse battery"

TRACEBACK = """Traceback (most recent call last):
  File "/srv/load_ftp/ftp.py", line 88, in fetch
    conn.retrbinary(cmd, out.write)
  File "/usr/lib/python3.11/ftplib.py", line 436, in retrbinary
    self.voidcmd('TYPE I')
ftplib.error_perm: 550 /outgoing/prices_20240301.csv: No such file
"""


def event(**overrides: Any) -> EventIn:
    data: dict[str, Any] = {
        "service": "load_ftp",
        "message": "550 /outgoing/prices_20240301.csv: No such file",
        "error_type": "ftplib.error_perm",
        "traceback": TRACEBACK,
        "supplier": "ACME",
        "file": "prices_20240301.csv",
        "host": "ftp-loader-1",
        "logger": "load_ftp.fetch",
        "event_id": uuid.uuid4().hex,
        "timestamp": datetime.now(UTC) - timedelta(minutes=5),
    }
    data.update(overrides)
    return EventIn.model_validate(data)


def log(engine: sa.Engine, *events: EventIn) -> list[int]:
    """Store events through the core; the ids of their investigations, in order."""
    with session_scope(engine) as session:
        outcome = log_investigation_events(session=session, events=list(events))
        return [o.investigation_id for o in outcome.outcomes]


def user(engine: sa.Engine, name: str, role: str) -> None:
    with session_scope(engine) as session:
        create_user(session=session, username=name, password=PASSWORD, role=role)


def investigation(engine: sa.Engine, investigation_id: int) -> Investigation:
    with session_scope(engine) as session:
        inv = session.get(Investigation, investigation_id)
        assert inv is not None
        return inv


def investigation_by_title(engine: sa.Engine, fragment: str) -> Investigation:
    with session_scope(engine) as session:
        inv = session.exec(select(Investigation).where(Investigation.title.contains(fragment))).first()  # type: ignore[attr-defined]
        assert inv is not None, fragment
        return inv


def supplier_days(engine: sa.Engine, supplier: str, *, days: int = 30, last: date | None = None) -> None:
    """A steady supplier whose last day lost most of its rows (a row drop the page should show)."""
    last = last or datetime.now(UTC).date() - timedelta(days=1)
    with session_scope(engine) as session:
        for n in range(days):
            day = last - timedelta(days=days - 1 - n)
            drop = n == days - 1
            loaded = 3_000 if drop else 10_000 + (n % 5) * 150
            session.add(
                SupplierDay(
                    supplier=supplier, day=day, loads=2, loads_failed=1 if drop else 0,
                    rows_total=loaded + 200, rows_loaded=loaded, rows_rejected=200 + (800 if drop else 0),
                    last_load_at=datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=6),
                    last_success_at=datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=6),
                    skus_compared=500, skus_changed=10 + n % 7, price_change_share=(10 + n % 7) / 500,
                    expected=True, findings=["row_drop"] if drop else [], computed_at=datetime.now(UTC),
                )
            )  # fmt: skip


def agent(engine: sa.Engine, hostname: str, *, seconds_ago: int, **fields: Any) -> None:
    with session_scope(engine) as session:
        session.add(
            Agent(
                hostname=hostname, version="0.1.0", token_name="test-ingest",
                last_heartbeat=datetime.now(UTC) - timedelta(seconds=seconds_ago),
                files=[{"path": f"/var/log/{hostname}/load.log"}], lag_bytes=1234, spool_depth=3, **fields,
            )
        )  # fmt: skip


def wait_for_runs(engine: sa.Engine, timeout: float = 15.0) -> list[JobRun]:
    """Wait until no job run is ``running``; all runs, newest first."""
    deadline = time.monotonic() + timeout
    while True:
        with session_scope(engine) as session:
            found = list(session.exec(select(JobRun).order_by(JobRun.id.desc())).all())  # type: ignore[union-attr]
        if all(r.status != "running" for r in found) or time.monotonic() > deadline:
            return found
        time.sleep(0.1)
