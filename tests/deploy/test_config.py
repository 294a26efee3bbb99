"""The example configuration is complete and correct: env file vs. Settings, systemd units, logrotate."""

from __future__ import annotations

import getpass
import grp
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from collector.settings import Settings

CONFIG = Path(__file__).resolve().parents[2] / "config"
ENV_EXAMPLE = CONFIG / "server.env.example"
LINE = re.compile(r"^(?P<commented># )?PRICELENS_(?P<key>[A-Z0-9_]+)=(?P<value>.*)$")
UNITS = ("pricelens-serve.service", "pricelens-scheduler.service")


def env_lines(path: Path) -> dict[str, tuple[bool, str]]:
    """``field -> (commented, value)`` for every PRICELENS_ line, set or commented."""
    found: dict[str, tuple[bool, str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = LINE.match(line)
        if m:
            assert m["key"].lower() not in found, f"{m['key']} appears twice"
            found[m["key"].lower()] = (bool(m["commented"]), m["value"])
    return found


def _plain(value: object) -> object:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def test_env_example_documents_every_setting() -> None:
    documented = env_lines(ENV_EXAMPLE)
    assert set(documented) == set(Settings.model_fields), "config/server.env.example and Settings differ"


def test_commented_lines_show_the_real_defaults() -> None:
    for key, (commented, value) in env_lines(ENV_EXAMPLE).items():
        if commented:
            parsed = getattr(Settings(**{key: value}), key)  # type: ignore[arg-type]
            assert _plain(parsed) == _plain(Settings.model_fields[key].default), key


def test_env_example_loads_and_refuses_its_placeholder_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("PRICELENS_"):
            monkeypatch.delenv(name)
    settings = Settings(_env_file=ENV_EXAMPLE)
    assert settings.environment == "production"
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.migrate_on_start is False
    with pytest.raises(ValueError, match="PRICELENS_SECRET_KEY"):
        settings.check_production_ready()


def test_compose_env_example_sets_only_real_settings() -> None:
    keys = [
        m["key"].lower()
        for m in map(LINE.match, (CONFIG / "compose.env.example").read_text().splitlines())
        if m
    ]
    assert keys and set(keys) <= set(Settings.model_fields)


@pytest.mark.parametrize("unit", UNITS)
def test_systemd_unit_is_hardened(unit: str) -> None:
    text = (CONFIG / unit).read_text(encoding="utf-8")
    settings = dict(re.findall(r"^(\w+)=(.*)$", text, re.M))
    assert settings["User"] == "pricelens" and settings["ProtectSystem"] == "strict"
    assert settings["Restart"] == "on-failure" and settings["NoNewPrivileges"] == "yes"
    assert settings["EnvironmentFile"] == "/etc/pricelens/server.env"
    assert settings["ReadWritePaths"] == "/var/lib/pricelens"
    assert settings["CapabilityBoundingSet"] == ""


def test_systemd_units_verify(tmp_path: Path) -> None:
    """``systemd-analyze verify`` with the ExecStart paths pointed at this venv's real commands."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    bindir = str(Path(sys.executable).parent) + "/"
    assert (Path(bindir) / "pricelens").exists(), "the pricelens command is not installed in this venv"
    units = sorted(p.name for p in CONFIG.glob("*.service"))  # the agent's unit too
    assert set(UNITS) < set(units)
    for unit in units:
        text = (CONFIG / unit).read_text(encoding="utf-8")
        text = re.sub(r"/opt/pricelens[\w-]*/venv/bin/", bindir, text)
        (tmp_path / unit).write_text(text, encoding="utf-8")
    done = subprocess.run(
        [analyze, "verify", "--man=no", *(str(tmp_path / u) for u in units)],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )  # fmt: skip
    # verify exits 0 on unknown keys and bad values; it only warns. Any output is a finding.
    assert done.returncode == 0 and done.stderr.strip() == "" and done.stdout.strip() == "", done.stderr


def test_logrotate_example_parses_and_rotates_both_ways(tmp_path: Path) -> None:
    logrotate = shutil.which("logrotate") or "/usr/sbin/logrotate"
    if not Path(logrotate).exists():
        pytest.skip("logrotate is not installed")
    text = (CONFIG / "logrotate.pricelens-services.example").read_text(encoding="utf-8")
    user, group = getpass.getuser(), grp.getgrgid(os.getgid()).gr_name
    text = text.replace("/var/log/", f"{tmp_path}/").replace("loader pricelens-agent", f"{user} {group}")
    conf = tmp_path / "logrotate.conf"
    conf.write_text(text, encoding="utf-8")
    for service in ("load_mail", "load_ftp", "consolidate"):
        (tmp_path / service).mkdir()
        (tmp_path / service / f"{service}.log").write_text("2024-01-01 00:00:00,000 - x - ERROR - boom\n")
    state = str(tmp_path / "state")
    debug = subprocess.run(
        [logrotate, "-d", "-s", state, str(conf)], capture_output=True, text=True, check=False
    )
    assert debug.returncode == 0 and "error" not in debug.stderr.lower(), debug.stderr
    forced = subprocess.run(
        [logrotate, "-f", "-s", state, str(conf)], capture_output=True, text=True, check=False
    )
    assert forced.returncode == 0, forced.stderr
    for service in ("load_mail", "load_ftp"):  # rename + create: a new, empty file under the old name
        assert (tmp_path / service / f"{service}.log.1").read_text().endswith("boom\n")
        assert (tmp_path / service / f"{service}.log").stat().st_size == 0
    copy = tmp_path / "consolidate" / "consolidate.log"  # copytruncate: same inode, emptied
    assert copy.stat().st_size == 0 and (tmp_path / "consolidate" / "consolidate.log.1").exists()
