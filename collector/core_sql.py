"""The SQL of `collector.core`: Postgres statements (one text each, whatever the batch size), and the
portable statements SQLite runs instead.

Rows travel as one JSON parameter (``json_to_recordset``): orjson writes them in C, Postgres parses them
in C, and the driver has no per-row placeholders to rewrite (psycopg's text-array dumping and its
rewriting of thousands of ``%s`` were ~25 % of the collector's time).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from collector.models import Event, Investigation, InvestigationStatus

INV = Investigation.__table__  # type: ignore[attr-defined]
EVENT = Event.__table__  # type: ignore[attr-defined]
FIND_OWNERS = sa.select(EVENT.c.event_id, EVENT.c.investigation_id).where(
    EVENT.c.event_id.in_(sa.bindparam("ids", expanding=True))
)
PG_FIND_OWNERS = sa.text(
    f"SELECT event_id, investigation_id FROM {Event.__tablename__} WHERE event_id = ANY(CAST(:ids AS text[]))"
)
FIND_INVESTIGATIONS = sa.select(INV.c.fingerprint, INV.c.id).where(
    INV.c.fingerprint.in_(sa.bindparam("fps", expanding=True))
)
# (investigation id, new events, first seen, last seen, highest level, message of the newest)
FoldRow = tuple[int, int, datetime, datetime, str, str]
LEVEL_RANK = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}


def from_json_rows(columns: Sequence[str], types: Sequence[str]) -> str:
    """``json_to_recordset(:rows) AS r(col type, …)``: a whole batch as one JSON parameter (Postgres).

    orjson serialises the rows in C and Postgres parses them in C; the statement text is the same for
    1 or 1,000 rows (one plan, no per-row placeholders for the driver to rewrite). Rows come out in
    array order.
    """
    typed = ", ".join(f"{c} {t}" for c, t in zip(columns, types, strict=True))
    return f"json_to_recordset(CAST(:rows AS json)) AS r({typed})"


def json_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    return orjson.dumps(
        [dict(zip(columns, r, strict=True)) for r in rows], option=orjson.OPT_NON_STR_KEYS
    ).decode()


def pg_text_array(values: Sequence[str]) -> str:
    """A ``text[]`` literal (to ``CAST(:p AS text[])``): psycopg's list dumper is pure Python, a join is not."""
    if not values:
        return "{}"
    if any('"' in v or "\\" in v for v in values):
        values = [v.replace("\\", "\\\\").replace('"', '\\"') for v in values]
    return '{"' + '","'.join(values) + '"}'


def pg_bigint_array(values: Sequence[int]) -> str:
    """A ``bigint[]`` literal (to ``CAST(:p AS bigint[])``)."""
    return "{" + ",".join(map(str, values)) + "}"


# Postgres: one statement text whatever the number of fingerprints (prepared once per connection).
PG_FIND_INVESTIGATIONS = sa.text(
    f"SELECT fingerprint, id FROM {Investigation.__tablename__} WHERE fingerprint = ANY(CAST(:fps AS text[]))"
)
INV_COLUMNS = (
    "fingerprint", "fingerprint_parts", "kind", "service", "supplier", "title", "culprit", "status",
    "regressed", "level", "first_seen", "last_seen", "event_count",
)  # fmt: skip
INV_TYPES = (
    "text", "jsonb", "text", "text", "text", "text", "text", "text",
    "boolean", "text", "timestamptz", "timestamptz", "bigint",
)  # fmt: skip
PG_CREATE_INVESTIGATIONS = sa.text(
    f"INSERT INTO {Investigation.__tablename__} ({', '.join(INV_COLUMNS)}) "
    f"SELECT {', '.join(INV_COLUMNS)} FROM {from_json_rows(INV_COLUMNS, INV_TYPES)} "
    "ON CONFLICT (fingerprint) DO NOTHING RETURNING fingerprint, id"
)


EVENT_COLUMNS = (
    "event_id", "investigation_id", "received_at", "occurred_at", "service", "kind", "host", "level",
    "logger", "message", "error_type", "traceback", "supplier", "file", "fingerprint", "extra", "truncated",
)  # fmt: skip
EVENT_TYPES = (
    "text", "bigint", "timestamptz", "timestamptz", "text", "text", "text", "text",
    "text", "text", "text", "text", "text", "text", "text", "jsonb", "boolean",
)  # fmt: skip


PG_INSERT_EVENTS = sa.text(
    f"INSERT INTO {Event.__tablename__} ({', '.join(EVENT_COLUMNS)}) "
    f"SELECT {', '.join(EVENT_COLUMNS)} FROM {from_json_rows(EVENT_COLUMNS, EVENT_TYPES)} "
    "ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
)


RANK_SQL = "coalesce(array_position(ARRAY[{}], {{}}), 0)".format(", ".join(f"'{lv}'" for lv in LEVEL_RANK))
RESOLVED = f"i.status = '{InvestigationStatus.RESOLVED}'"
# Postgres: lock and fold in one statement. The MATERIALIZED CTE takes the row locks in id order (a
# LockRows node above the sort), and the UPDATE only reaches rows the CTE has already locked, so the
# lock order is the same as a separate SELECT … ORDER BY id FOR NO KEY UPDATE. The SET expressions
# read the row as locked (the newest committed version), so concurrent increments are never lost.
PG_FOLD = sa.text(
    "WITH r AS MATERIALIZED (SELECT * FROM "
    + from_json_rows(
        ("id", "n", "first_seen", "last_seen", "level", "message"),
        ("bigint", "bigint", "timestamptz", "timestamptz", "text", "text"),
    )
    + f"), locked AS MATERIALIZED (SELECT i.id, i.status FROM {Investigation.__tablename__} AS i"
    " WHERE i.id = ANY(CAST(:ids AS bigint[])) ORDER BY i.id FOR NO KEY UPDATE OF i)"
    f", folded AS (UPDATE {Investigation.__tablename__} AS i SET"
    " event_count = i.event_count + r.n,"
    " first_seen = LEAST(i.first_seen, r.first_seen),"
    " last_seen = GREATEST(i.last_seen, r.last_seen),"
    f" level = CASE WHEN {RANK_SQL.format('r.level')} > {RANK_SQL.format('i.level')}"
    " THEN r.level ELSE i.level END,"
    f" status = CASE WHEN {RESOLVED} THEN '{InvestigationStatus.OPEN}' ELSE i.status END,"
    f" regressed = i.regressed OR {RESOLVED},"
    f" resolved_at = CASE WHEN {RESOLVED} THEN NULL ELSE i.resolved_at END"
    # the id list (not the JSON rows, whose size the planner cannot know) lets it use the primary key
    " FROM r, locked WHERE i.id = ANY(CAST(:ids AS bigint[])) AND i.id = r.id AND locked.id = r.id"
    " RETURNING i.id, locked.status AS old_status, r.message)"
    # only the regressed ones come back (they need an activity row)
    f" SELECT id, message FROM folded WHERE old_status = '{InvestigationStatus.RESOLVED}'"
)


FOLD_COLUMNS = ("id", "event_count", "first_seen", "last_seen", "level", "status", "regressed", "resolved_at")  # fmt: skip
GENERIC_FOLD = (
    sa.update(INV)
    .where(INV.c.id == sa.bindparam("b_id"))
    .values({c: sa.bindparam(f"b_{c}") for c in FOLD_COLUMNS[1:]})
)


def fold_generic(conn: sa.Connection, rows: list[FoldRow]) -> list[tuple[int, str]]:
    """Lock, compute in Python, update: the same fold for databases without the one-statement form."""
    folds = {row[0]: row for row in rows}
    locked = conn.execute(
        sa.select(INV.c.id, INV.c.event_count, INV.c.first_seen, INV.c.last_seen, INV.c.level,
                  INV.c.status, INV.c.regressed, INV.c.resolved_at)
        .where(INV.c.id.in_(sorted(folds)))
        .order_by(INV.c.id)
        # NO KEY UPDATE: does not conflict with the KEY SHARE locks our own event inserts' foreign keys take.
        .with_for_update(key_share=True)
    ).all()  # fmt: skip
    updates: list[dict[str, Any]] = []
    regressed: list[tuple[int, str]] = []
    for inv_id, count, first_seen, last_seen, level, status, was_regressed, resolved_at in locked:
        _, n, f_first, f_last, f_level, f_message = folds[inv_id]
        if LEVEL_RANK.get(f_level, 0) > LEVEL_RANK.get(level, 0):
            level = f_level
        if status == InvestigationStatus.RESOLVED:
            regressed.append((inv_id, f_message))
            status, was_regressed, resolved_at = InvestigationStatus.OPEN, True, None
        values = (count + n, min(first_seen, f_first), max(last_seen, f_last), level, status,
                  was_regressed, resolved_at)  # fmt: skip
        updates.append(
            {"b_id": inv_id, **{f"b_{c}": v for c, v in zip(FOLD_COLUMNS[1:], values, strict=True)}}
        )
    conn.execute(GENERIC_FOLD, updates)
    return regressed


def insert_for(session: Session, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database dialect {dialect!r}")
