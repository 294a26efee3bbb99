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
travel as one JSON parameter (``json_to_recordset``) and step 3 is one ``UPDATE`` (see ``_PG_FOLD``);
SQLite runs the same steps through portable SQLAlchemy Core statements.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

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


def _from_json_rows(columns: Sequence[str], types: Sequence[str]) -> str:
    """``json_to_recordset(:rows) AS r(col type, …)``: a whole batch as one JSON parameter (Postgres).

    orjson serialises the rows in C and Postgres parses them in C; the statement text is the same for
    1 or 1,000 rows (one plan, no per-row placeholders for the driver to rewrite). Rows come out in
    array order.
    """
    typed = ", ".join(f"{c} {t}" for c, t in zip(columns, types, strict=True))
    return f"json_to_recordset(CAST(:rows AS json)) AS r({typed})"


def _json_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    return orjson.dumps(
        [dict(zip(columns, r, strict=True)) for r in rows], option=orjson.OPT_NON_STR_KEYS
    ).decode()


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


_EVENT = Event.__table__  # type: ignore[attr-defined]
_FIND_OWNERS = sa.select(_EVENT.c.event_id, _EVENT.c.investigation_id).where(
    _EVENT.c.event_id.in_(sa.bindparam("ids", expanding=True))
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
        found = session.connection().execute(_FIND_OWNERS, {"ids": duplicate_ids})
        owners = {event_id: inv_id for event_id, inv_id in found}
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


_INV = Investigation.__table__  # type: ignore[attr-defined]
_FIND_INVESTIGATIONS = sa.select(_INV.c.fingerprint, _INV.c.id).where(
    _INV.c.fingerprint.in_(sa.bindparam("fps", expanding=True))
)
# Postgres: one statement text whatever the number of fingerprints (prepared once per connection).
_PG_FIND_INVESTIGATIONS = sa.text(
    f"SELECT fingerprint, id FROM {Investigation.__tablename__} WHERE fingerprint = ANY(CAST(:fps AS text[]))"
)
_INV_COLUMNS = (
    "fingerprint", "fingerprint_parts", "kind", "service", "supplier", "title", "culprit", "status",
    "regressed", "level", "first_seen", "last_seen", "event_count",
)  # fmt: skip
_INV_TYPES = (
    "text", "jsonb", "text", "text", "text", "text", "text", "text",
    "boolean", "text", "timestamptz", "timestamptz", "bigint",
)  # fmt: skip
_PG_CREATE_INVESTIGATIONS = sa.text(
    f"INSERT INTO {Investigation.__tablename__} ({', '.join(_INV_COLUMNS)}) "
    f"SELECT {', '.join(_INV_COLUMNS)} FROM {_from_json_rows(_INV_COLUMNS, _INV_TYPES)} "
    "ON CONFLICT (fingerprint) DO NOTHING RETURNING fingerprint, id"
)


def _find_investigations(conn: sa.Connection, fingerprints: list[str]) -> dict[str, int]:
    if conn.dialect.name == "postgresql":
        return {
            fp: inv_id for fp, inv_id in conn.execute(_PG_FIND_INVESTIGATIONS, {"fps": fingerprints}).all()
        }
    return {fp: inv_id for fp, inv_id in conn.execute(_FIND_INVESTIGATIONS, {"fps": fingerprints})}


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
        params = {"rows": _json_rows(_INV_COLUMNS, [[r[c] for c in _INV_COLUMNS] for r in rows])}
        created_rows = conn.execute(_PG_CREATE_INVESTIGATIONS, params).all()
    else:
        stmt = _insert(session, _INV).on_conflict_do_nothing(index_elements=["fingerprint"])
        created_rows = conn.execute(stmt.returning(_INV.c.fingerprint, _INV.c.id), rows).all()
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


_EVENT_COLUMNS = (
    "event_id", "investigation_id", "received_at", "occurred_at", "service", "kind", "host", "level",
    "logger", "message", "error_type", "traceback", "supplier", "file", "fingerprint", "extra", "truncated",
)  # fmt: skip
_EVENT_TYPES = (
    "text", "bigint", "timestamptz", "timestamptz", "text", "text", "text", "text",
    "text", "text", "text", "text", "text", "text", "text", "jsonb", "boolean",
)  # fmt: skip


_PG_INSERT_EVENTS = sa.text(
    f"INSERT INTO {Event.__tablename__} ({', '.join(_EVENT_COLUMNS)}) "
    f"SELECT {', '.join(_EVENT_COLUMNS)} FROM {_from_json_rows(_EVENT_COLUMNS, _EVENT_TYPES)} "
    "ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
)


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
            conn.execute(_PG_INSERT_EVENTS, {"rows": _json_rows(_EVENT_COLUMNS, rows)}).scalars().all()
        )
    table = Event.__table__  # type: ignore[attr-defined]
    stmt = _insert(session, table).on_conflict_do_nothing(index_elements=["event_id"])
    dicts = [dict(zip(_EVENT_COLUMNS, r, strict=True)) for r in rows]
    return {r[0] for r in conn.execute(stmt.returning(table.c.event_id), dicts).all()}


_FOLD_COLUMNS = ("id", "event_count", "first_seen", "last_seen", "level", "status", "regressed", "resolved_at")  # fmt: skip
_GENERIC_FOLD = (
    sa.update(_INV)
    .where(_INV.c.id == sa.bindparam("b_id"))
    .values({c: sa.bindparam(f"b_{c}") for c in _FOLD_COLUMNS[1:]})
)
_RANK_SQL = "coalesce(array_position(ARRAY[{}], {{}}), 0)".format(", ".join(f"'{lv}'" for lv in LEVEL_RANK))
_RESOLVED = f"i.status = '{InvestigationStatus.RESOLVED}'"
# Postgres: lock and fold in one statement. The MATERIALIZED CTE takes the row locks in id order (a
# LockRows node above the sort), and the UPDATE only reaches rows the CTE has already locked, so the
# lock order is the same as a separate SELECT … ORDER BY id FOR NO KEY UPDATE. The SET expressions
# read the row as locked (the newest committed version), so concurrent increments are never lost.
_PG_FOLD = sa.text(
    "WITH r AS MATERIALIZED (SELECT * FROM "
    + _from_json_rows(
        ("id", "n", "first_seen", "last_seen", "level", "message"),
        ("bigint", "bigint", "timestamptz", "timestamptz", "text", "text"),
    )
    + f"), locked AS MATERIALIZED (SELECT i.id, i.status FROM {Investigation.__tablename__} AS i"
    " WHERE i.id = ANY(CAST(:ids AS bigint[])) ORDER BY i.id FOR NO KEY UPDATE OF i)"
    f", folded AS (UPDATE {Investigation.__tablename__} AS i SET"
    " event_count = i.event_count + r.n,"
    " first_seen = LEAST(i.first_seen, r.first_seen),"
    " last_seen = GREATEST(i.last_seen, r.last_seen),"
    f" level = CASE WHEN {_RANK_SQL.format('r.level')} > {_RANK_SQL.format('i.level')}"
    " THEN r.level ELSE i.level END,"
    f" status = CASE WHEN {_RESOLVED} THEN '{InvestigationStatus.OPEN}' ELSE i.status END,"
    f" regressed = i.regressed OR {_RESOLVED},"
    f" resolved_at = CASE WHEN {_RESOLVED} THEN NULL ELSE i.resolved_at END"
    # the id list (not the JSON rows, whose size the planner cannot know) lets it use the primary key
    " FROM r, locked WHERE i.id = ANY(CAST(:ids AS bigint[])) AND i.id = r.id AND locked.id = r.id"
    " RETURNING i.id, locked.status AS old_status, r.message)"
    # only the regressed ones come back (they need an activity row)
    f" SELECT id, message FROM folded WHERE old_status = '{InvestigationStatus.RESOLVED}'"
)


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
    if conn.dialect.name == "postgresql":
        rows = [(i, f.count, f.first_seen, f.last_seen, f.level, f.message) for i, f in folds.items()]
        params = {
            "rows": _json_rows(("id", "n", "first_seen", "last_seen", "level", "message"), rows),
            "ids": sorted(folds),
        }
        regressed = [(inv_id, message) for inv_id, message in conn.execute(_PG_FOLD, params)]
    else:
        regressed = _fold_generic(conn, folds)
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


def _fold_generic(conn: sa.Connection, folds: dict[int, _Fold]) -> list[tuple[int, str]]:
    """Lock, compute in Python, update: the same fold for databases without the one-statement form."""
    locked = conn.execute(
        sa.select(_INV.c.id, _INV.c.event_count, _INV.c.first_seen, _INV.c.last_seen, _INV.c.level,
                  _INV.c.status, _INV.c.regressed, _INV.c.resolved_at)
        .where(_INV.c.id.in_(sorted(folds)))
        .order_by(_INV.c.id)
        # NO KEY UPDATE: does not conflict with the KEY SHARE locks our own event inserts' foreign keys take.
        .with_for_update(key_share=True)
    ).all()  # fmt: skip
    updates: list[dict[str, Any]] = []
    regressed: list[tuple[int, str]] = []
    for inv_id, count, first_seen, last_seen, level, status, was_regressed, resolved_at in locked:
        f = folds[inv_id]
        if LEVEL_RANK.get(f.level, 0) > LEVEL_RANK.get(level, 0):
            level = f.level
        if status == InvestigationStatus.RESOLVED:
            regressed.append((inv_id, f.message))
            status, was_regressed, resolved_at = InvestigationStatus.OPEN, True, None
        values = (count + f.count, min(first_seen, f.first_seen), max(last_seen, f.last_seen), level, status,
                  was_regressed, resolved_at)  # fmt: skip
        updates.append(
            {"b_id": inv_id, **{f"b_{c}": v for c, v in zip(_FOLD_COLUMNS[1:], values, strict=True)}}
        )
    conn.execute(_GENERIC_FOLD, updates)
    return regressed
