"""Event retention: old events are purged in batches, the newest 100 of each investigation stay, and
investigations with their counts are untouched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from collector.core import log_investigation_events
from collector.db import session_scope
from collector.models import Event, Investigation
from collector.scheduler.retention import purge_events
from tests.factories import make_event
from tests.scheduler.conftest import make_settings

pytestmark = pytest.mark.postgres
NOW = datetime.now(UTC)


def add(engine: sa.Engine, supplier: str, count: int, received_days_ago: int) -> None:
    events = [
        make_event(supplier=supplier, timestamp=(NOW - timedelta(days=200, minutes=count - i)).isoformat())
        for i in range(count)
    ]
    with session_scope(engine) as session:
        log_investigation_events(
            session=session, events=events, received_at=NOW - timedelta(days=received_days_ago)
        )


def state(engine: sa.Engine) -> dict[str, tuple[int, int]]:
    with Session(engine) as s:
        invs = s.exec(select(Investigation)).all()
        return {
            i.supplier or "": (
                i.event_count,
                s.exec(
                    select(sa.func.count()).select_from(Event).where(Event.investigation_id == i.id)
                ).one(),
            )
            for i in invs
        }


def test_purge_keeps_the_newest_per_investigation(pg_url: str, pg_engine: sa.Engine) -> None:
    add(pg_engine, "BIG", 150, received_days_ago=100)
    add(pg_engine, "SMALL", 10, received_days_ago=100)
    add(pg_engine, "FRESH", 130, received_days_ago=5)
    with Session(pg_engine) as s:
        newest_big = set(
            s.exec(
                select(Event.event_id)
                .where(Event.supplier == "BIG")
                .order_by(col(Event.occurred_at).desc())
                .limit(100)
            ).all()
        )

    run = purge_events(pg_engine, make_settings(pg_url, purge_batch_size=7))

    assert run.status == "success"
    assert run.figures == {"deleted": 50, "kept": 110, "batches": 23}
    assert state(pg_engine) == {"BIG": (150, 100), "SMALL": (10, 10), "FRESH": (130, 130)}
    with Session(pg_engine) as s:
        assert set(s.exec(select(Event.event_id).where(Event.supplier == "BIG")).all()) == newest_big
    again = purge_events(pg_engine, make_settings(pg_url, purge_batch_size=7))
    assert again.figures == {"deleted": 0, "kept": 110, "batches": 16}
