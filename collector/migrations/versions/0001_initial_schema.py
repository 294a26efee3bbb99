"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 15:11:43.161838
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import collector.models

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "pricelens_agent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=True),
        sa.Column("token_name", sa.String(length=100), nullable=True),
        sa.Column("last_heartbeat", collector.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "files",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("lag_bytes", sa.BigInteger(), nullable=False),
        sa.Column("spool_depth", sa.Integer(), nullable=False),
        sa.Column("dead_letters", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hostname"),
    )
    op.create_table(
        "pricelens_api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("service", sa.String(length=64), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", collector.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", collector.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", collector.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "pricelens_investigation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column(
            "fingerprint_parts",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("service", sa.String(length=64), nullable=False),
        sa.Column("supplier", sa.String(length=200), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("culprit", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("regressed", sa.Boolean(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("first_seen", collector.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen", collector.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("event_count", sa.BigInteger(), nullable=False),
        sa.Column("assignee", sa.String(length=100), nullable=True),
        sa.Column("resolved_at", collector.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fingerprint"),
    )
    with op.batch_alter_table("pricelens_investigation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pricelens_investigation_event_count"), ["event_count"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_pricelens_investigation_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_pricelens_investigation_last_seen"), ["last_seen"], unique=False)
        batch_op.create_index(batch_op.f("ix_pricelens_investigation_service"), ["service"], unique=False)
        batch_op.create_index(
            "ix_pricelens_investigation_status_last_seen", ["status", "last_seen"], unique=False
        )
        batch_op.create_index(
            "ix_pricelens_investigation_supplier_last_seen", ["supplier", "last_seen"], unique=False
        )

    op.create_table(
        "pricelens_job_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("started_at", collector.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", collector.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "params",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "figures",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_total", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "investigations",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pricelens_job_run", schema=None) as batch_op:
        batch_op.create_index("ix_pricelens_job_run_job_started", ["job_id", "started_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_pricelens_job_run_status"), ["status"], unique=False)

    op.create_table(
        "pricelens_supplier_day",
        sa.Column("supplier", sa.String(length=200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("loads", sa.Integer(), nullable=False),
        sa.Column("loads_failed", sa.Integer(), nullable=False),
        sa.Column("rows_total", sa.BigInteger(), nullable=False),
        sa.Column("rows_loaded", sa.BigInteger(), nullable=False),
        sa.Column("rows_rejected", sa.BigInteger(), nullable=False),
        sa.Column("last_load_at", collector.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", collector.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("skus_compared", sa.Integer(), nullable=False),
        sa.Column("skus_changed", sa.Integer(), nullable=False),
        sa.Column("price_change_share", sa.Float(), nullable=False),
        sa.Column("expected", sa.Boolean(), nullable=False),
        sa.Column(
            "findings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("computed_at", collector.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("supplier", "day"),
    )
    op.create_table(
        "pricelens_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", collector.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "pricelens_activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("investigation_id", sa.Integer(), nullable=False),
        sa.Column("at", collector.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("old_value", sa.String(length=100), nullable=True),
        sa.Column("new_value", sa.String(length=100), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["investigation_id"], ["pricelens_investigation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pricelens_activity", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pricelens_activity_investigation_id"), ["investigation_id"], unique=False
        )

    op.create_table(
        "pricelens_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("investigation_id", sa.Integer(), nullable=False),
        sa.Column("received_at", collector.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("occurred_at", collector.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("service", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("logger", sa.String(length=255), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("error_type", sa.String(length=255), nullable=True),
        sa.Column("traceback", sa.Text(), nullable=True),
        sa.Column("supplier", sa.String(length=200), nullable=True),
        sa.Column("file", sa.String(length=1024), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column(
            "extra",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["investigation_id"], ["pricelens_investigation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    with op.batch_alter_table("pricelens_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_pricelens_event_investigation_occurred", ["investigation_id", "occurred_at"], unique=False
        )
        batch_op.create_index("ix_pricelens_event_received_at", ["received_at"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("pricelens_event", schema=None) as batch_op:
        batch_op.drop_index("ix_pricelens_event_received_at")
        batch_op.drop_index("ix_pricelens_event_investigation_occurred")

    op.drop_table("pricelens_event")
    with op.batch_alter_table("pricelens_activity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pricelens_activity_investigation_id"))

    op.drop_table("pricelens_activity")
    op.drop_table("pricelens_user")
    op.drop_table("pricelens_supplier_day")
    with op.batch_alter_table("pricelens_job_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pricelens_job_run_status"))
        batch_op.drop_index("ix_pricelens_job_run_job_started")

    op.drop_table("pricelens_job_run")
    with op.batch_alter_table("pricelens_investigation", schema=None) as batch_op:
        batch_op.drop_index("ix_pricelens_investigation_supplier_last_seen")
        batch_op.drop_index("ix_pricelens_investigation_status_last_seen")
        batch_op.drop_index(batch_op.f("ix_pricelens_investigation_service"))
        batch_op.drop_index(batch_op.f("ix_pricelens_investigation_last_seen"))
        batch_op.drop_index(batch_op.f("ix_pricelens_investigation_kind"))
        batch_op.drop_index(batch_op.f("ix_pricelens_investigation_event_count"))

    op.drop_table("pricelens_investigation")
    op.drop_table("pricelens_api_token")
    op.drop_table("pricelens_agent")
