"""Where the demo keeps everything under its data directory, so a rerun finds its own state again.

::

    demo-data/
      pricelens.db              the embedded database (SQLite)
      demo-login.txt            the demo admin's password, readable only by you
      secret-key                the dashboard's session secret
      agent/agent.yaml          the generated agent configuration
      agent/agent.token         the agent's ingest token
      agent/state/              the agent's spool and offsets
      services/<name>/logs/     what each demo service writes (rotated files beside it)
      services/<name>/errors/   its rejected price lists, each with a .err reason
      services/<name>/inbox/    its staging area
      output/<process>.out      stdout/stderr of every process the demo started
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SERVICES: tuple[str, ...] = ("load_mail", "load_ftp", "consolidate")


@dataclass(frozen=True)
class DemoLayout:
    root: Path

    @classmethod
    def at(cls, data_dir: Path) -> DemoLayout:
        return cls(data_dir.resolve())

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.root / 'pricelens.db'}"

    @property
    def login_file(self) -> Path:
        return self.root / "demo-login.txt"

    @property
    def secret_key_file(self) -> Path:
        return self.root / "secret-key"

    @property
    def agent_dir(self) -> Path:
        return self.root / "agent"

    @property
    def agent_config(self) -> Path:
        return self.agent_dir / "agent.yaml"

    @property
    def agent_token(self) -> Path:
        return self.agent_dir / "agent.token"

    @property
    def agent_state(self) -> Path:
        return self.agent_dir / "state"

    def service_dir(self, service: str) -> Path:
        return self.root / "services" / service

    def log_dir(self, service: str) -> Path:
        return self.service_dir(service) / "logs"

    def error_dir(self, service: str) -> Path:
        return self.service_dir(service) / "errors"

    def work_dir(self, service: str) -> Path:
        return self.service_dir(service) / "inbox"

    @property
    def output_dir(self) -> Path:
        return self.root / "output"

    def create(self) -> None:
        for path in (self.root, self.agent_dir, self.agent_state, self.output_dir):
            path.mkdir(parents=True, exist_ok=True)
        for service in SERVICES:
            for path in (self.log_dir(service), self.error_dir(service), self.work_dir(service)):
                path.mkdir(parents=True, exist_ok=True)
