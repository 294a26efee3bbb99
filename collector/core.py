"""``log_investigation_event``: the one core that turns events into investigations.

Every path that creates or updates an investigation comes through here: the ingest endpoint, services
posting directly, and the ClickHouse analysis (``service="analysis"``). Per batch, in one transaction:

1. make sure an investigation row exists for each fingerprint (``INSERT … ON CONFLICT DO NOTHING``);
2. insert the events, dropping known ``event_id``s (``ON CONFLICT DO NOTHING … RETURNING``);
3. lock the touched investigations in id order and fold the *new* events into them: count, first/last
   seen (never backwards), regression of a resolved one, an ignored one staying ignored;
4. remove investigations created in step 1 that received no new event (every event was a duplicate).

Two workers handling the same fingerprint at the same moment therefore share one row, and the counts
are increments under a row lock, so none is lost.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from collector.fingerprint import default_fingerprint, fingerprint_hash, make_title, resolve_fingerprint
from collector.models import Activity, Event, Investigation, InvestigationStatus
from collector.schemas import EventIn

SYSTEM_ACTOR = "pricelens"
LEVEL_RANK = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}


@dataclass
class EventOutcome:
    investigation_id: int
    duplicate: bool


@dataclass
class BatchOutcome:
    accepted: int = 0
    duplicates: int = 0
    investigation_ids: list[int] = field(default_factory=list)
    outcomes: list[EventOutcome] = field(default_factory=list)


@dataclass
class _Prepared:
    event: EventIn
    event_id: str
    fingerprint: str
    parts: list[str]
    occurred_at: datetime


def _insert(session: Session, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database dialect {dialect!r}")


def _culprit(event: EventIn) -> str | None:
    return event.file or event.logger or None


def _prepare(event: EventIn, received_at: datetime) -> _Prepared:
    default = default_fingerprint(
        service=event.service,
        kind=event.kind,
        supplier=event.supplier,
        error_type=event.error_type,
        message=event.message,
        traceback=event.traceback,
    )
    parts = resolve_fingerprint(event.fingerprint, default)
    return _Prepared(
        event=event,
        event_id=event.event_id or uuid.uuid4().hex,
        fingerprint=fingerprint_hash(parts),
        parts=parts,
        occurred_at=event.timestamp or received_at,
    )


def log_investigation_event(
    *, session: Session, event: EventIn, received_at: datetime | None = None
) -> EventOutcome:
    """Store one event and fold it into its investigation (see the module docstring)."""
    return log_investigation_events(session=session, events=[event], received_at=received_at).outcomes[0]


def log_investigation_events(
    *, session: Session, events: Sequence[EventIn], received_at: datetime | None = None
) -> BatchOutcome:
    """Batch form of :func:`log_investigation_event`; the caller's session commits."""
    if not events:
        return BatchOutcome()
    now = received_at or datetime.now(UTC)
    prepared = [_prepare(e, now) for e in events]
    inv_ids, created = _ensure_investigations(session, prepared)
    inserted = _insert_events(session, prepared, inv_ids, now)
    _fold_new_events(session, prepared, inserted, inv_ids, now)
    empty_new = created - {inv_ids[p.fingerprint] for p in prepared if p.event_id in inserted}
    if empty_new:
        session.execute(sa.delete(Investigation).where(col(Investigation.id).in_(sorted(empty_new))))

    duplicate_ids = [p.event_id for p in prepared if p.event_id not in inserted]
    owners: dict[str, int] = {}
    if duplicate_ids:
        owners = dict(
            session.exec(
                select(Event.event_id, Event.investigation_id).where(col(Event.event_id).in_(duplicate_ids))
            ).all()
        )
    outcome = BatchOutcome()
    stored: set[str] = set()
    for p in prepared:
        duplicate = p.event_id not in inserted or p.event_id in stored
        stored.add(p.event_id)
        inv_id = owners.get(p.event_id, inv_ids[p.fingerprint]) if duplicate else inv_ids[p.fingerprint]
        outcome.outcomes.append(EventOutcome(investigation_id=inv_id, duplicate=duplicate))
        if duplicate:
            outcome.duplicates += 1
            continue
        outcome.accepted += 1
        if inv_id not in outcome.investigation_ids:
            outcome.investigation_ids.append(inv_id)
    return outcome


def _ensure_investigations(session: Session, prepared: list[_Prepared]) -> tuple[dict[str, int], set[int]]:
    first_by_fp: dict[str, _Prepared] = {}
    for p in prepared:
        first_by_fp.setdefault(p.fingerprint, p)
    rows = [
        {
            "fingerprint": fp,
            "fingerprint_parts": p.parts,
            "kind": p.event.kind,
            "service": p.event.service,
            "supplier": p.event.supplier,
            "title": make_title(p.event.error_type, p.event.message),
            "culprit": (_culprit(p.event) or "")[:300] or None,
            "status": InvestigationStatus.OPEN,
            "regressed": False,
            "level": p.event.level,
            "first_seen": p.occurred_at,
            "last_seen": p.occurred_at,
            "event_count": 0,
        }
        for fp, p in sorted(first_by_fp.items())
    ]
    table = Investigation.__table__  # type: ignore[attr-defined]
    stmt = _insert(session, table).on_conflict_do_nothing(index_elements=["fingerprint"])
    created_rows = session.execute(stmt.returning(table.c.id), rows).all()
    created = {r[0] for r in created_rows}
    found = session.execute(
        sa.select(table.c.fingerprint, table.c.id).where(table.c.fingerprint.in_(list(first_by_fp)))
    ).all()
    return {fp: inv_id for fp, inv_id in found}, created


def _insert_events(
    session: Session, prepared: list[_Prepared], inv_ids: dict[str, int], now: datetime
) -> set[str]:
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for p in prepared:
        if p.event_id in seen:
            continue
        seen.add(p.event_id)
        e = p.event
        rows.append(
            {
                "event_id": p.event_id,
                "investigation_id": inv_ids[p.fingerprint],
                "received_at": now,
                "occurred_at": p.occurred_at,
                "service": e.service,
                "kind": e.kind,
                "host": e.host,
                "level": e.level,
                "logger": e.logger,
                "message": e.message,
                "error_type": e.error_type,
                "traceback": e.traceback,
                "supplier": e.supplier,
                "file": e.file,
                "fingerprint": p.fingerprint,
                "extra": e.extra,
                "truncated": e.truncated,
            }
        )
    rows.sort(key=lambda r: r["event_id"])  # one insertion order everywhere: no deadlock between batches
    table = Event.__table__  # type: ignore[attr-defined]
    stmt = _insert(session, table).on_conflict_do_nothing(index_elements=["event_id"])
    return {r[0] for r in session.execute(stmt.returning(table.c.event_id), rows).all()}


def _fold_new_events(
    session: Session,
    prepared: list[_Prepared],
    inserted: set[str],
    inv_ids: dict[str, int],
    now: datetime,
) -> None:
    new_by_inv: dict[int, list[_Prepared]] = defaultdict(list)
    counted: set[str] = set()
    for p in prepared:
        if p.event_id in inserted and p.event_id not in counted:
            counted.add(p.event_id)
            new_by_inv[inv_ids[p.fingerprint]].append(p)
    if not new_by_inv:
        return
    locked = session.exec(
        select(Investigation)
        .where(col(Investigation.id).in_(sorted(new_by_inv)))
        .order_by(col(Investigation.id))
        # NO KEY UPDATE: does not conflict with the KEY SHARE locks our own event inserts' foreign keys take.
        .with_for_update(key_share=True)
    ).all()
    for inv in locked:
        assert inv.id is not None
        news = new_by_inv[inv.id]
        newest = max(news, key=lambda p: p.occurred_at)
        inv.event_count += len(news)
        inv.first_seen = min(inv.first_seen, min(p.occurred_at for p in news))
        if newest.occurred_at >= inv.last_seen:
            inv.last_seen = newest.occurred_at
        top_level = max((p.event.level for p in news), key=lambda lv: LEVEL_RANK.get(lv, 0))
        if LEVEL_RANK.get(top_level, 0) > LEVEL_RANK.get(inv.level, 0):
            inv.level = top_level
        if inv.status == InvestigationStatus.RESOLVED:
            session.add(
                Activity(
                    investigation_id=inv.id,
                    at=now,
                    actor=SYSTEM_ACTOR,
                    action="regressed",
                    old_value=InvestigationStatus.RESOLVED,
                    new_value=InvestigationStatus.OPEN,
                    text=f"New event after resolution: {newest.event.message[:200]}",
                )
            )
            inv.status = InvestigationStatus.OPEN
            inv.regressed = True
            inv.resolved_at = None
        session.add(inv)
    session.flush()
