"""``log_investigation_event``: the one core that turns events into investigations.

Every path that creates or updates an investigation comes through here: the ingest endpoint, services
posting directly, and the ClickHouse analysis (``service="analysis"``). Per batch, in one transaction:

1. find the investigation of each fingerprint; create the missing ones (``INSERT … ON CONFLICT DO
   NOTHING``, then look up those another transaction created meanwhile);
2. insert the events, dropping known ``event_id``s (``ON CONFLICT DO NOTHING … RETURNING``);
3. lock the touched investigations in id order and fold the *new* events into them: count, first/last
   seen (never backwards), regression of a resolved one, an ignored one staying ignored;
4. remove investigations created in step 1 that received no new event (every event was a duplicate).

Two workers handling the same fingerprint at the same moment therefore share one row, and the counts
are increments under a row lock, so none is lost.

Speed (``bench/ingest``): a batch costs a handful of statements whatever its size. On Postgres the rows
travel as one JSON parameter (``json_to_recordset``) and step 3 is one ``UPDATE`` (see ``core_sql.PG_FOLD``);
SQLite runs the same steps through portable SQLAlchemy Core statements.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from collector import core_sql as sql
from collector.core_sql import LEVEL_RANK
from collector.fingerprint import default_fingerprint, fingerprint_hash, make_title, resolve_fingerprint
from collector.models import Activity, Event, Investigation, InvestigationStatus
from collector.schemas import EventIn

SYSTEM_ACTOR = "pricelens"


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
    session.flush()  # the statements below bypass the ORM: write the caller's pending objects first
    inv_ids, created = _ensure_investigations(session, prepared)
    inserted = _insert_events(session, prepared, inv_ids, now)
    _fold_new_events(session, prepared, inserted, inv_ids, now)
    empty_new = created - {inv_ids[p.fingerprint] for p in prepared if p.event_id in inserted}
    if empty_new:
        session.execute(sa.delete(Investigation).where(col(Investigation.id).in_(sorted(empty_new))))
    _expire_loaded(session, set(inv_ids.values()))

    duplicate_ids = [p.event_id for p in prepared if p.event_id not in inserted]
    owners: dict[str, int] = {}
    if duplicate_ids:
        conn = session.connection()
        if conn.dialect.name == "postgresql":
            found = conn.execute(sql.PG_FIND_OWNERS, {"ids": sql.pg_text_array(duplicate_ids)})
        else:
            found = conn.execute(sql.FIND_OWNERS, {"ids": duplicate_ids})
        owners = {event_id: inv_id for event_id, inv_id in found}
    outcome = BatchOutcome()
    stored: set[str] = set()
    touched: dict[int, None] = {}  # investigations with new events, in order of first appearance
    for p in prepared:
        duplicate = p.event_id not in inserted or p.event_id in stored
        stored.add(p.event_id)
        inv_id = owners.get(p.event_id, inv_ids[p.fingerprint]) if duplicate else inv_ids[p.fingerprint]
        outcome.outcomes.append(EventOutcome(investigation_id=inv_id, duplicate=duplicate))
        if duplicate:
            outcome.duplicates += 1
            continue
        outcome.accepted += 1
        touched[inv_id] = None
    outcome.investigation_ids = list(touched)
    return outcome


def _find_investigations(conn: sa.Connection, fingerprints: list[str]) -> dict[str, int]:
    if conn.dialect.name == "postgresql":
        return {
            fp: inv_id
            for fp, inv_id in conn.execute(
                sql.PG_FIND_INVESTIGATIONS, {"fps": sql.pg_text_array(fingerprints)}
            ).all()
        }
    return {fp: inv_id for fp, inv_id in conn.execute(sql.FIND_INVESTIGATIONS, {"fps": fingerprints})}


def _expire_loaded(session: Session, inv_ids: set[int]) -> None:
    """Investigations the caller already loaded in this session were changed behind the ORM's back."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Investigation) and obj.id in inv_ids:
            session.expire(obj)


def _ensure_investigations(session: Session, prepared: list[_Prepared]) -> tuple[dict[str, int], set[int]]:
    """The investigation id of every fingerprint in the batch, and which of them this call created.

    Known fingerprints (the usual case) cost one indexed lookup; only the missing ones are inserted.
    """
    first_by_fp: dict[str, _Prepared] = {}
    for p in prepared:
        first_by_fp.setdefault(p.fingerprint, p)
    conn = session.connection()
    found = _find_investigations(conn, list(first_by_fp))
    missing = sorted(fp for fp in first_by_fp if fp not in found)
    if not missing:
        return found, set()
    rows = [_investigation_row(fp, first_by_fp[fp]) for fp in missing]
    if conn.dialect.name == "postgresql":
        params = {"rows": sql.json_rows(sql.INV_COLUMNS, [[r[c] for c in sql.INV_COLUMNS] for r in rows])}
        created_rows = conn.execute(sql.PG_CREATE_INVESTIGATIONS, params).all()
    else:
        stmt = sql.insert_for(session, sql.INV).on_conflict_do_nothing(index_elements=["fingerprint"])
        created_rows = conn.execute(stmt.returning(sql.INV.c.fingerprint, sql.INV.c.id), rows).all()
    created = {inv_id for _, inv_id in created_rows}
    found.update({fp: inv_id for fp, inv_id in created_rows})
    raced = [fp for fp in missing if fp not in found]  # another transaction inserted them meanwhile
    if raced:
        found.update(_find_investigations(conn, raced))
    return found, created


def _investigation_row(fingerprint: str, p: _Prepared) -> dict[str, Any]:
    return {
        "fingerprint": fingerprint,
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


def _insert_events(
    session: Session, prepared: list[_Prepared], inv_ids: dict[str, int], now: datetime
) -> set[str]:
    rows: list[tuple[Any, ...]] = []
    seen: set[str] = set()
    for p in prepared:
        if p.event_id in seen:
            continue
        seen.add(p.event_id)
        e = p.event
        row = (
            p.event_id, inv_ids[p.fingerprint], now, p.occurred_at, e.service, e.kind, e.host, e.level,
            e.logger, e.message, e.error_type, e.traceback, e.supplier, e.file, p.fingerprint, e.extra,
            e.truncated,
        )  # fmt: skip
        rows.append(row)
    rows.sort(key=lambda r: r[0])  # one insertion order everywhere: no deadlock between batches
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        return set(
            conn.execute(sql.PG_INSERT_EVENTS, {"rows": sql.json_rows(sql.EVENT_COLUMNS, rows)})
            .scalars()
            .all()
        )
    table = Event.__table__  # type: ignore[attr-defined]
    stmt = sql.insert_for(session, table).on_conflict_do_nothing(index_elements=["event_id"])
    dicts = [dict(zip(sql.EVENT_COLUMNS, r, strict=True)) for r in rows]
    return {r[0] for r in conn.execute(stmt.returning(table.c.event_id), dicts).all()}


@dataclass
class _Fold:
    """What one batch adds to one investigation."""

    count: int
    first_seen: datetime
    last_seen: datetime
    level: str
    message: str  # of the newest event


def _fold_new_events(
    session: Session,
    prepared: list[_Prepared],
    inserted: set[str],
    inv_ids: dict[str, int],
    now: datetime,
) -> None:
    folds: dict[int, _Fold] = {}
    counted: set[str] = set()
    for p in prepared:
        if p.event_id not in inserted or p.event_id in counted:
            continue
        counted.add(p.event_id)
        inv_id = inv_ids[p.fingerprint]
        f = folds.get(inv_id)
        if f is None:
            folds[inv_id] = _Fold(1, p.occurred_at, p.occurred_at, p.event.level, p.event.message)
            continue
        f.count += 1
        f.first_seen = min(f.first_seen, p.occurred_at)
        if p.occurred_at > f.last_seen:
            f.last_seen, f.message = p.occurred_at, p.event.message
        if LEVEL_RANK.get(p.event.level, 0) > LEVEL_RANK.get(f.level, 0):
            f.level = p.event.level
    if not folds:
        return
    conn = session.connection()
    rows = [(i, f.count, f.first_seen, f.last_seen, f.level, f.message) for i, f in folds.items()]
    if conn.dialect.name == "postgresql":
        params = {
            "rows": sql.json_rows(("id", "n", "first_seen", "last_seen", "level", "message"), rows),
            "ids": sql.pg_bigint_array(sorted(folds)),
        }
        regressed = [(inv_id, message) for inv_id, message in conn.execute(sql.PG_FOLD, params)]
    else:
        regressed = sql.fold_generic(conn, rows)
    if regressed:
        activities = [
            {
                "investigation_id": inv_id,
                "at": now,
                "actor": SYSTEM_ACTOR,
                "action": "regressed",
                "old_value": InvestigationStatus.RESOLVED,
                "new_value": InvestigationStatus.OPEN,
                "text": f"New event after resolution: {message[:200]}",
            }
            for inv_id, message in sorted(regressed)
        ]
        conn.execute(sa.insert(Activity.__table__), activities)  # type: ignore[attr-defined]
