"""``pip install 'pricelens[agent]'`` alone gives a working ``pricelens-agent`` (no server packages)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVER_ONLY = ("fastapi", "sqlmodel", "sqlalchemy", "psycopg", "apscheduler", "clickhouse_driver", "jinja2")


@pytest.mark.slow
def test_agent_extra_installs_and_runs_alone(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run(
        [str(venv / "bin/pip"), "install", "-q", f"{ROOT}[agent]"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert pip.returncode == 0, pip.stderr[-3000:]
    py = str(venv / "bin/python")
    for module in SERVER_ONLY:
        probe = subprocess.run([py, "-c", f"import {module}"], capture_output=True)
        assert probe.returncode != 0, f"{module} was installed by the agent extra"
    config = tmp_path / "agent.yaml"
    config.write_text(
        f"collector:\n  url: http://127.0.0.1:9\n  token: t\nstate_dir: {tmp_path / 'state'}\n"
        f"sources:\n  - service: load_ftp\n    paths: ['{tmp_path}/*.log']\n"
    )
    check = subprocess.run(
        [str(venv / "bin/pricelens-agent"), "check-config", "--config", str(config)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    bad = subprocess.run(
        [str(venv / "bin/pricelens-agent"), "check-config", "--config", str(tmp_path / "missing.yaml")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode != 0 and "missing.yaml" in (bad.stdout + bad.stderr)
