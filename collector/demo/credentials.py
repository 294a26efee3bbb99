"""The demo's secrets: a dashboard login, an ingest token for the agent, a session key.

Each is created on the first run and kept in the data directory (mode 0600), so a second
``pricelens demo`` on the same directory logs in with the same password and the agent keeps its token.
A saved value that no longer matches the database (someone revoked the token, reset the database) is
replaced rather than trusted.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from collector.db import session_scope
from collector.demo.layout import DemoLayout
from collector.tokens import authenticate, create_token
from collector.users import UserError, create_user, set_password, verify_login

DEMO_USER = "demo"


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    ingest_token: str
    secret_key: str


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return ""


def ensure_credentials(layout: DemoLayout, engine: Engine) -> Credentials:
    secret_key = _read(layout.secret_key_file)
    if not secret_key:
        secret_key = secrets.token_urlsafe(32)
        _write_private(layout.secret_key_file, secret_key + "\n")
    saved = _read(layout.login_file).rpartition("password: ")[2]
    with session_scope(engine) as session:
        password = saved
        if not saved or verify_login(session=session, username=DEMO_USER, password=saved) is None:
            password = secrets.token_urlsafe(12)
            try:
                create_user(session=session, username=DEMO_USER, password=password, role="admin")
            except UserError:  # the user exists with another password
                set_password(session=session, username=DEMO_USER, password=password)
            _write_private(layout.login_file, f"user: {DEMO_USER}\npassword: {password}\n")
        token = _read(layout.agent_token)
        if not token or authenticate(session=session, token=token) is None:
            name = f"demo-agent-{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
            token = create_token(session=session, name=name, scope="ingest")[1]
            _write_private(layout.agent_token, token + "\n")
    return Credentials(DEMO_USER, password, token, secret_key)
