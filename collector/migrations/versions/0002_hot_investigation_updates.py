"""investigation: index only stable columns, leave room on pages (HOT updates for the fold)

Every ingested event folds into its investigation (``event_count``, ``last_seen``, ...). With those
columns indexed each fold wrote a new entry in all eight indexes of ``pricelens_investigation``; now only
the primary key, the unique fingerprint and ``supplier`` (which never changes) are indexed, and on
Postgres ``fillfactor`` keeps room on each page so the updated row version stays on its page: a
heap-only (HOT) update, no index touched. Existing pages get the room as they are rewritten (a
``VACUUM FULL`` applies it at once; not needed). The table holds groups, not events: the dashboard's
sorts and filters on the dropped columns scan it in milliseconds (``bench/dashboard``).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 16:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLE = "pricelens_investigation"
DROPPED = {
    "ix_pricelens_investigation_event_count": ["event_count"],
    "ix_pricelens_investigation_kind": ["kind"],
    "ix_pricelens_investigation_last_seen": ["last_seen"],
    "ix_pricelens_investigation_service": ["service"],
    "ix_pricelens_investigation_status_last_seen": ["status", "last_seen"],
    "ix_pricelens_investigation_supplier_last_seen": ["supplier", "last_seen"],
}
FILLFACTOR = 70


def upgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        for name in DROPPED:
            batch_op.drop_index(name)
        batch_op.create_index("ix_pricelens_investigation_supplier", ["supplier"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {TABLE} SET (fillfactor = {FILLFACTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {TABLE} RESET (fillfactor)")
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index("ix_pricelens_investigation_supplier")
        for name, columns in DROPPED.items():
            batch_op.create_index(name, columns, unique=False)
