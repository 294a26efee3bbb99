"""Shared fixtures: throwaway Postgres databases and a real collector process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from collector.db import create_db_engine
from collector.migrate import upgrade
from tests.live import LiveCollector
from tests.pg import fresh_database


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, migrated Postgres database (SQLAlchemy URL)."""
    with fresh_database() as url:
        upgrade(url)
        yield url


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[sa.Engine]:
    engine = create_db_engine(pg_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'pricelens.db'}"
    upgrade(url)
    return url


@pytest.fixture
def collector(pg_url: str, tmp_path: Path) -> Iterator[LiveCollector]:
    """A running ``pricelens serve`` on a fresh Postgres database, with an ingest and an admin token."""
    live = LiveCollector(pg_url, tmp_path)
    live.create_tokens()
    live.start()
    try:
        yield live
    finally:
        live.close()
