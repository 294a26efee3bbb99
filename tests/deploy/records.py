"""Reading the demo services' log files back as records, the way a person (or the agent) sees them."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

FIRST_LINE = re.compile(
    r"^(?P<asctime>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) - (?P<logger>\S+) - (?P<level>[A-Z]+) - (?P<message>.*)$"
)


@dataclass
class Record:
    logger: str
    level: str
    message: str
    lines: list[str] = field(default_factory=list)

    @property
    def error_type(self) -> str | None:
        """The exception type on the traceback's last line, as ``logger.exception`` writes it."""
        if not any(line.startswith("Traceback (most recent call last):") for line in self.lines):
            return None
        return self.lines[-1].split(":", 1)[0]


def read_records(path: Path) -> list[Record]:
    records: list[Record] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = FIRST_LINE.match(line)
        if m:
            records.append(Record(m["logger"], m["level"], m["message"]))
        else:
            assert records, f"{path} starts with a line that is not a record: {line!r}"
            records[-1].lines.append(line)
    return records


def all_records(log_dir: Path, service: str) -> list[Record]:
    """Records of the live file and every rotated one, oldest file first."""
    files = sorted(log_dir.glob(f"{service}.log*"), key=lambda p: p.stat().st_mtime_ns)
    return [r for f in files for r in read_records(f)]


def service_argv(service: str, root: Path, *args: str) -> list[str]:
    argv = [sys.executable, "-m", f"collector.demo.services.{service}", "--net-timeout", "0.2"]
    for flag, sub in (("--log-dir", "logs"), ("--error-dir", "errors"), ("--work-dir", "inbox")):
        argv += [flag, str(root / sub)]
    return [*argv, *args]


def run_service(
    service: str, root: Path, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    argv = service_argv(service, root, *args)
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
