"""Alembic environment: only ``pricelens_*`` tables are ours; the version table is prefixed too."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlmodel import SQLModel

import collector.models  # noqa: F401  (registers the tables on the metadata)

VERSION_TABLE = "pricelens_alembic_version"
SCHEDULER_TABLE = "pricelens_apscheduler_jobs"


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Autogenerate must never propose changes to other applications' tables or APScheduler's own."""
    if type_ == "table":
        return name is not None and name.startswith("pricelens_") and name != SCHEDULER_TABLE
    return True


def run_migrations_online() -> None:
    connectable = context.config.attributes.get("connection")
    if connectable is None:
        from collector.db import create_db_engine

        engine = create_db_engine(context.config.get_main_option("sqlalchemy.url") or "")
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connectable)


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        version_table=VERSION_TABLE,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
