"""The pieces ``pricelens demo`` assembles: the agent configuration it generates, its credentials."""

from __future__ import annotations

import io
import re
import socket
from pathlib import Path

import pytest
import yaml

from agent.config import load_config
from collector.db import engine_for, session_scope
from collector.demo import runner
from collector.demo.agent_config import (
    FILE_PATTERN,
    SUPPLIER_FROM_PATH,
    SUPPLIER_PATTERN,
    to_yaml,
    write_agent_config,
)
from collector.demo.credentials import DEMO_USER, ensure_credentials
from collector.demo.layout import SERVICES, DemoLayout
from collector.migrate import upgrade
from collector.tokens import authenticate, revoke_token
from collector.users import verify_login


@pytest.fixture
def layout(tmp_path: Path) -> DemoLayout:
    layout = DemoLayout.at(tmp_path / "demo")
    layout.create()
    upgrade(layout.database_url)
    return layout


def test_generated_agent_config_is_accepted_by_the_agent(layout: DemoLayout) -> None:
    layout.agent_token.write_text("pl_demo\n")
    path = write_agent_config(layout, "http://127.0.0.1:18061")
    config = load_config(path, environ={})
    assert config.collector.token == "pl_demo" and config.collector.url == "http://127.0.0.1:18061"
    assert [s.service for s in config.sources] == list(SERVICES)
    for source in config.sources:
        assert source.paths == (str(layout.log_dir(source.service) / "*.log"),)
        assert source.error_dirs == (str(layout.error_dir(source.service)),)
        assert source.min_level == "WARNING" and source.format == "python"
    assert config.state_dir == layout.agent_state


@pytest.mark.parametrize(
    ("text", "pattern", "group", "expected"),
    [
        ("FTP connection failed supplier=ACME host=127.0.0.1:4021", SUPPLIER_PATTERN, "supplier", "ACME"),
        ("no price list from supplier=VEGA since 2024-05-01 06:00:00", SUPPLIER_PATTERN, "supplier", "VEGA"),
        ("/x/services/load_ftp/errors/NORDTEX_20240501-060000_0007.xlsx", SUPPLIER_FROM_PATH, "supplier", "NORDTEX"),
        ("cannot open price list supplier=ORBIS file=ORBIS_20240501-0600_0001.xlsx", FILE_PATTERN, "file",
         "ORBIS_20240501-0600_0001.xlsx"),
        ('File "/usr/lib/python3.11/zipfile.py", line 1369', FILE_PATTERN, "file", None),
    ],
)  # fmt: skip
def test_the_agent_regexes_read_what_the_services_write(
    text: str, pattern: str, group: str, expected: str
) -> None:
    m = re.search(pattern, text)
    assert (m[group] if m else None) == expected


def test_yaml_emitter_round_trips_awkward_values() -> None:
    value = {
        "a": 'quote " and \\ backslash',
        "b": ["x: y", "# not a comment", "ümlaut", ""],
        "c": {"n": 1, "f": 0.5, "t": True, "none": None, "empty": [], "nested": [{"k": "v", "l": ["*"]}]},
    }
    assert yaml.safe_load(to_yaml(value)) == value


def test_credentials_are_created_once_and_reused(layout: DemoLayout) -> None:
    engine = engine_for(layout.database_url)
    first = ensure_credentials(layout, engine)
    again = ensure_credentials(layout, engine)
    assert again == first
    assert layout.login_file.stat().st_mode & 0o777 == 0o600
    assert layout.agent_token.stat().st_mode & 0o777 == 0o600
    with session_scope(engine) as session:
        user = verify_login(session=session, username=DEMO_USER, password=first.password)
        assert user is not None and user.role == "admin"
        principal = authenticate(session=session, token=first.ingest_token)
        assert principal is not None and principal.scope == "ingest"
        revoke_token(session=session, name=principal.name)
    # A revoked token and a lost password file are replaced, not trusted.
    layout.login_file.unlink()
    renewed = ensure_credentials(layout, engine)
    assert renewed.ingest_token != first.ingest_token and renewed.password != first.password
    assert renewed.secret_key == first.secret_key
    with session_scope(engine) as session:
        assert authenticate(session=session, token=renewed.ingest_token) is not None
        assert verify_login(session=session, username=DEMO_USER, password=renewed.password) is not None


def test_children_get_no_pricelens_setting_from_the_parent(
    layout: DemoLayout, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRICELENS_DATABASE_URL", "postgresql://prod/pricelens")
    monkeypatch.setenv("PRICELENS_AGENT_COLLECTOR__URL", "http://prod:8061")
    credentials = ensure_credentials(layout, engine_for(layout.database_url))
    env = runner.child_env(layout, credentials, "")
    assert env["PRICELENS_DATABASE_URL"] == layout.database_url
    assert "PRICELENS_AGENT_COLLECTOR__URL" not in env and "PRICELENS_CLICKHOUSE_URL" not in env
    assert env["PRICELENS_ENVIRONMENT"] == "development"


def test_a_busy_port_is_refused_before_anything_starts(tmp_path: Path) -> None:
    out = io.StringIO()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = runner.run_demo(runner.DemoOptions(data_dir=tmp_path / "d", port=port), out=out)
    assert code == 2 and f"port {port} on 127.0.0.1 is in use" in out.getvalue()
    assert not (tmp_path / "d").exists()


def test_pricelens_demo_is_a_command() -> None:
    from typer.testing import CliRunner

    from collector.cli import app

    result = CliRunner().invoke(app, ["demo", "--help"])
    assert result.exit_code == 0, result.output
    assert "--data-dir" in result.output and "Ctrl-C" in result.output
