"""Migrations create only ``pricelens_*`` tables, on Postgres and SQLite, beside other apps' tables."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import collector.models  # noqa: F401
from collector.db import create_db_engine
from collector.migrate import downgrade, upgrade
from tests.pg import fresh_database

EXPECTED = {
    "pricelens_alembic_version", "pricelens_investigation", "pricelens_event", "pricelens_activity",
    "pricelens_api_token", "pricelens_user", "pricelens_agent", "pricelens_supplier_day", "pricelens_job_run",
}  # fmt: skip

OTHER_APP = [
    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
    "INSERT INTO alembic_version VALUES ('f00dcafe1234')",
    "CREATE TABLE supplier (id INTEGER PRIMARY KEY, code VARCHAR(20), name VARCHAR(100))",
    "INSERT INTO supplier VALUES (1, 'ACME', 'Acme Corp'), (2, 'GLOBEX', 'Globex')",
    "CREATE TABLE event (id INTEGER PRIMARY KEY, payload TEXT)",
    "INSERT INTO event VALUES (7, 'not ours')",
]


@pytest.fixture(params=["postgres", "sqlite"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgres":
        with fresh_database() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'admin2.db'}"


def _snapshot(engine: sa.Engine) -> dict[str, object]:
    inspector = sa.inspect(engine)
    with engine.connect() as conn:
        return {
            "alembic_version": conn.execute(sa.text("SELECT version_num FROM alembic_version")).all(),
            "supplier": conn.execute(sa.text("SELECT * FROM supplier ORDER BY id")).all(),
            "event": conn.execute(sa.text("SELECT * FROM event ORDER BY id")).all(),
            "columns": {t: [c["name"] for c in inspector.get_columns(t)] for t in ("supplier", "event")},
        }


def test_migrations_leave_other_tables_untouched(empty_url: str) -> None:
    engine = create_db_engine(empty_url)
    with engine.begin() as conn:
        for statement in OTHER_APP:
            conn.execute(sa.text(statement))
    before = _snapshot(engine)

    upgrade(empty_url)
    tables = set(sa.inspect(engine).get_table_names())
    assert tables - {"alembic_version", "supplier", "event"} == EXPECTED
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM pricelens_alembic_version")).scalar() == "0002"
    assert _snapshot(engine) == before

    upgrade(empty_url)  # idempotent
    downgrade(empty_url, "base")
    assert set(sa.inspect(engine).get_table_names()) == {"alembic_version", "supplier", "event",
                                                          "pricelens_alembic_version"}  # fmt: skip
    assert _snapshot(engine) == before
    engine.dispose()


def test_models_match_migrations(empty_url: str) -> None:
    upgrade(empty_url)
    engine = create_db_engine(empty_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = [
            d
            for d in compare_metadata(ctx, SQLModel.metadata)
            if not (isinstance(d, tuple) and d[0] == "remove_table")
        ]
    engine.dispose()
    assert diff == []
