"""The core on both dialects: deduplication, grouping, ordering, lifecycle, concurrency."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from collector.core import log_investigation_event, log_investigation_events
from collector.db import create_db_engine, session_scope
from collector.models import Activity, Event, Investigation
from collector.triage import change_status
from tests.factories import make_event

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@pytest.fixture(params=["postgres", "sqlite"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    url = (
        request.getfixturevalue("pg_url")
        if request.param == "postgres"
        else request.getfixturevalue("sqlite_url")
    )
    eng = create_db_engine(url)
    yield eng
    eng.dispose()


def _investigations(engine: sa.Engine) -> list[Investigation]:
    with Session(engine) as s:
        return list(s.exec(select(Investigation).order_by(Investigation.id)).all())  # type: ignore[arg-type]


def _count(engine: sa.Engine, model: type) -> int:
    with Session(engine) as s:
        return int(s.exec(select(sa.func.count()).select_from(model)).one())


def test_same_event_id_is_stored_once(engine: sa.Engine) -> None:
    event = make_event(event_id="dup-1")
    with session_scope(engine) as s:
        first = log_investigation_event(session=s, event=event)
    with session_scope(engine) as s:
        second = log_investigation_event(session=s, event=event)
    assert not first.duplicate and second.duplicate
    assert first.investigation_id == second.investigation_id
    assert _count(engine, Event) == 1
    assert [i.event_count for i in _investigations(engine)] == [1]


def test_varying_values_group_and_suppliers_split(engine: sa.Engine) -> None:
    events = [
        make_event(message="550 /outgoing/prices_20240301.csv: No such file or directory"),
        make_event(message="550 /outgoing/prices_20240302.csv: No such file or directory"),
        make_event(message="550 /outgoing/prices_20240302.csv: No such file or directory", supplier="GLOBEX"),
    ]
    with session_scope(engine) as s:
        outcome = log_investigation_events(session=s, events=events)
    assert (outcome.accepted, outcome.duplicates) == (3, 0)
    invs = _investigations(engine)
    assert sorted((i.supplier, i.event_count) for i in invs) == [("ACME", 2), ("GLOBEX", 1)]
    acme = next(i for i in invs if i.supplier == "ACME")
    assert acme.title == "ftplib.error_perm: 550 /outgoing/prices_20240301.csv: No such file or directory"
    assert acme.fingerprint_parts[:3] == ["load_ftp", "error", "ACME"]


def test_batch_with_repeated_ids_counts_each_once(engine: sa.Engine) -> None:
    events = [make_event(event_id="a"), make_event(event_id="a"), make_event(event_id="b")]
    with session_scope(engine) as s:
        outcome = log_investigation_events(session=s, events=events)
    assert (outcome.accepted, outcome.duplicates) == (2, 1)
    assert [o.duplicate for o in outcome.outcomes] == [False, True, False]
    assert [i.event_count for i in _investigations(engine)] == [2]


def test_last_seen_never_moves_backwards(engine: sa.Engine) -> None:
    with session_scope(engine) as s:
        log_investigation_event(session=s, event=make_event(timestamp=(T0 + timedelta(hours=2)).isoformat()))
    with session_scope(engine) as s:
        log_investigation_event(session=s, event=make_event(timestamp=T0.isoformat()))
    (inv,) = _investigations(engine)
    assert inv.last_seen == T0 + timedelta(hours=2)
    assert inv.first_seen == T0
    assert inv.event_count == 2


def test_custom_fingerprint_with_default_placeholder(engine: sa.Engine) -> None:
    with session_scope(engine) as s:
        a = log_investigation_event(session=s, event=make_event(fingerprint=["{{ default }}", "batch-7"]))
        b = log_investigation_event(session=s, event=make_event(fingerprint=["{{ default }}", "batch-8"]))
        c = log_investigation_event(session=s, event=make_event(fingerprint=["{{ default }}", "batch-7"]))
        d = log_investigation_event(session=s, event=make_event())
    assert a.investigation_id == c.investigation_id
    assert len({a.investigation_id, b.investigation_id, d.investigation_id}) == 3
    parts = {i.id: i.fingerprint_parts for i in _investigations(engine)}
    assert parts[a.investigation_id][-1] == "batch-7"
    assert parts[a.investigation_id][:-1] == parts[d.investigation_id]


def test_resolved_regresses_and_ignored_stays_ignored(engine: sa.Engine) -> None:
    with session_scope(engine) as s:
        resolved = log_investigation_event(session=s, event=make_event(supplier="R")).investigation_id
        ignored = log_investigation_event(session=s, event=make_event(supplier="I")).investigation_id
    with session_scope(engine) as s:
        change_status(session=s, investigation_id=resolved, status="resolved", actor="ops")
        change_status(session=s, investigation_id=ignored, status="ignored", actor="ops")
    with session_scope(engine) as s:
        log_investigation_events(session=s, events=[make_event(supplier="R"), make_event(supplier="I")])
    by_id = {i.id: i for i in _investigations(engine)}
    assert (by_id[resolved].status, by_id[resolved].regressed, by_id[resolved].event_count) == (
        "open",
        True,
        2,
    )
    assert by_id[resolved].resolved_at is None
    assert (by_id[ignored].status, by_id[ignored].regressed, by_id[ignored].event_count) == (
        "ignored",
        False,
        2,
    )
    with Session(engine) as s:
        history = s.exec(
            select(Activity).where(Activity.investigation_id == resolved).order_by(Activity.id)
        ).all()  # type: ignore[arg-type]
    assert [(a.action, a.old_value, a.new_value) for a in history] == [
        ("status", "open", "resolved"),
        ("regressed", "resolved", "open"),
    ]


def test_all_duplicate_batch_leaves_no_empty_investigation(engine: sa.Engine) -> None:
    with session_scope(engine) as s:
        log_investigation_event(session=s, event=make_event(event_id="x1"))
    with session_scope(engine) as s:
        out = log_investigation_event(session=s, event=make_event(event_id="x1", fingerprint=["other"]))
    assert out.duplicate
    assert [i.event_count for i in _investigations(engine)] == [1]


def test_event_without_id_gets_one_and_is_not_deduplicated(engine: sa.Engine) -> None:
    with session_scope(engine) as s:
        log_investigation_events(session=s, events=[make_event(event_id=None), make_event(event_id=None)])
    with Session(engine) as s:
        ids = s.exec(select(Event.event_id)).all()
    assert len(set(ids)) == 2


def _post_many(url: str, start: int, count: int, dup_every: int) -> None:
    engine = create_db_engine(url)
    for i in range(start, start + count):
        ids = [f"c-{i}"] + ([f"c-{i - 1}"] if i % dup_every == 0 and i > 0 else [])
        with session_scope(engine) as s:
            log_investigation_events(
                session=s,
                events=[
                    make_event(event_id=eid, timestamp=(T0 + timedelta(seconds=i)).isoformat()) for eid in ids
                ],
            )
    engine.dispose()


@pytest.mark.postgres
def test_concurrent_threads_share_one_investigation(pg_url: str) -> None:
    threads = [threading.Thread(target=_post_many, args=(pg_url, n * 40, 40, 3)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine = create_db_engine(pg_url)
    (inv,) = _investigations(engine)
    assert inv.event_count == _count(engine, Event) == 240
    assert inv.last_seen == T0 + timedelta(seconds=239)
    engine.dispose()


@pytest.mark.postgres
def test_concurrent_processes_share_one_investigation(pg_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    # Overlapping ranges: every process also re-sends ids another one owns.
    procs = [ctx.Process(target=_post_many, args=(pg_url, n * 30, 45, 4)) for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    engine = create_db_engine(pg_url)
    (inv,) = _investigations(engine)
    distinct = len({f"c-{i}" for i in range(0, 90 + 45)})
    assert inv.event_count == _count(engine, Event) == distinct
    engine.dispose()
