"""The ``pricelens`` command line on the embedded default (SQLite under a data directory)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from collector.tokens import hash_token


def run(tmp_path: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRICELENS_DATA_DIR": str(tmp_path / "data")}
    env.pop("PRICELENS_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "collector", *args],
        env=env,
        capture_output=True,
        text=True,
        input=input,
        timeout=60,
    )


def test_migrate_tokens_and_users(tmp_path: Path) -> None:
    assert run(tmp_path, "migrate").returncode == 0
    db = tmp_path / "data" / "pricelens.db"
    assert db.exists()

    created = run(
        tmp_path, "token", "create", "--name", "agent-ftp01", "--scope", "ingest", "--service", "load_ftp"
    )
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("pl_") and len(token) > 30
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT token_hash, service, scope FROM pricelens_api_token")).one()
        assert tuple(row) == (hash_token(token), "load_ftp", "ingest")
        assert token not in str(conn.execute(sa.text("SELECT * FROM pricelens_api_token")).all())

    listing = run(tmp_path, "token", "list")
    assert "agent-ftp01" in listing.stdout and token not in listing.stdout
    dup = run(tmp_path, "token", "create", "--name", "agent-ftp01")
    assert dup.returncode == 2 and "already exists" in dup.stderr
    bad = run(tmp_path, "token", "create", "--name", "x", "--scope", "root")
    assert bad.returncode == 2 and "--scope" in bad.stderr
    assert run(tmp_path, "token", "revoke", "agent-ftp01").returncode == 0
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT revoked_at FROM pricelens_api_token")).scalar() is not None
    assert run(tmp_path, "token", "revoke", "nope").returncode == 2

    assert (
        run(tmp_path, "user", "create", "maria", "--role", "admin", "--password", "s3cret-pass").returncode
        == 0
    )
    short = run(tmp_path, "user", "create", "ivan", "--password", "short")
    assert short.returncode == 2 and "at least 8" in short.stderr
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT username, role, password_hash FROM pricelens_user")).all()
    assert [(r[0], r[1]) for r in rows] == [("maria", "admin")]
    assert rows[0][2].startswith("$argon2")
    engine.dispose()


def test_production_refuses_placeholder_secret(tmp_path: Path) -> None:
    env_run = subprocess.run(
        [sys.executable, "-m", "collector", "migrate"],
        env={**os.environ, "PRICELENS_DATA_DIR": str(tmp_path), "PRICELENS_ENVIRONMENT": "production"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert env_run.returncode != 0 and "PRICELENS_SECRET_KEY" in env_run.stderr
