"""The agent installs alone: importing it pulls in nothing from the server side."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import agent.cli, agent.runner
bad = sorted(m for m in sys.modules if m.split('.')[0] in {'collector', 'dashboard', 'pydantic', 'fastapi',
             'sqlalchemy', 'sqlmodel', 'psycopg', 'typer'})
print(','.join(bad))
"""


def test_agent_imports_nothing_from_the_server_side() -> None:
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_version_and_help() -> None:
    result = subprocess.run([sys.executable, "-m", "agent.cli", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "check-config" in result.stdout and "status" in result.stdout
