"""Run the real `pricelens-agent` as a subprocess against a real HTTP endpoint, with short timings."""

from __future__ import annotations

import json
import logging
import logging.handlers
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

AGENT = [sys.executable, "-m", "agent.cli"]
FAST = {
    "reading": {"quiet_time": 0.2, "traceback_wait": 1.0, "rescan_interval": 0.5, "close_inactive": 1.0},
    "shipping": {
        "batch_age": 0.05,
        "backoff_initial": 0.05,
        "backoff_max": 0.5,
        "auth_retry": 0.5,
        "shutdown_timeout": 2.0,
    },
    "heartbeat_interval": 1.0,
    "status_interval": 0.2,
}


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class AgentRun:
    def __init__(
        self, tmp_path: Path, url: str, token: str, sources: list[dict[str, Any]], **overrides: Any
    ) -> None:
        self.dir = tmp_path / "agent"
        self.dir.mkdir(exist_ok=True)
        self.state_dir = self.dir / "state"
        config: dict[str, Any] = {
            "collector": {"url": url, "token": token, "timeout": 2.0},
            "state_dir": str(self.state_dir),
            "hostname": "test-host",
            "sources": sources,
            **json.loads(json.dumps(FAST)),
        }
        for key, value in overrides.items():
            if isinstance(value, dict) and isinstance(config.get(key), dict):
                config[key].update(value)
            else:
                config[key] = value
        self.config_path = self.dir / "agent.yaml"
        self.config_path.write_text(yaml.safe_dump(config))
        self.log_path = self.dir / "agent.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.wrapper: list[str] = []

    def start(self, wait: bool = True) -> AgentRun:
        """Start the agent; by default wait until its first pass over the files is done."""
        assert self.proc is None or self.proc.poll() is not None
        status_file = self.state_dir / "status.json"
        status_file.unlink(missing_ok=True)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [*self.wrapper, *AGENT, "run", "--config", str(self.config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parents[2],
        )
        if wait:
            wait_until(lambda: status_file.exists() or not self.running(), 30, "the agent to start")
            assert self.running(), self.log()[-3000:]
        return self

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self, timeout: float = 20.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*AGENT, *args, "--config", str(self.config_path)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=Path(__file__).resolve().parents[2],
        )

    def status(self) -> dict[str, Any]:
        result = self.command("status", "--json")
        assert result.returncode == 0, result.stderr
        return dict(json.loads(result.stdout))

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def python_logger(name: str, handler: logging.Handler) -> logging.Logger:
    """A real logging.Logger writing the default layout through `handler` only."""
    handler.setFormatter(logging.Formatter("%(asctime)s - %(name)s - %(levelname)s - %(message)s"))
    logger = logging.getLogger(name)
    logger.handlers.clear()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    return logger


def log_error(logger: logging.Logger, tag: str, with_traceback: bool) -> None:
    """An ERROR record tagged `tag`, with a really raised, chained exception when asked."""
    if not with_traceback:
        logger.error("load failed %s supplier=acme file=prices_%s.xlsx", tag, tag)
        return
    try:
        try:
            {}["missing"]
        except KeyError as exc:
            raise ValueError(f"bad sheet in {tag}") from exc
    except ValueError:
        logger.exception("load failed %s supplier=acme file=prices_%s.xlsx", tag, tag)


def tags_of(events: list[dict[str, Any]]) -> list[str]:
    """The `rec-N` tag of each stored event (duplicates show up twice)."""
    out = []
    for event in events:
        words = [w for w in str(event["message"]).split() if w.startswith("rec-")]
        out.append(words[0] if words else f"<untagged:{str(event['message'])[:60]}>")
    return out


def assert_exactly(
    events: list[dict[str, Any]], expected: set[str], tracebacks: set[str] | None = None
) -> None:
    tags = tags_of(events)
    missing = expected - set(tags)
    extra = set(tags) - expected
    dupes = sorted({t for t in tags if tags.count(t) > 1})
    assert not missing and not extra and not dupes, (
        f"missing {sorted(missing)[:10]} ({len(missing)}), extra {sorted(extra)[:10]}, duplicated {dupes[:10]}"
    )
    for event, tag in zip(events, tags, strict=True):
        if tracebacks is not None and tag in tracebacks:
            tb = event["traceback"] or ""
            assert tb.startswith("Traceback (most recent call last):"), (tag, tb)
            assert "The above exception was the direct cause" in tb and tb.rstrip().endswith(
                f"bad sheet in {tag}"
            )
            assert event["error_type"] == "ValueError"


def rotating_handler(path: Path, max_bytes: int, backups: int) -> logging.handlers.RotatingFileHandler:
    return logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups)


def timed_handler(path: Path) -> logging.handlers.TimedRotatingFileHandler:
    return logging.handlers.TimedRotatingFileHandler(path, when="S", interval=1, backupCount=50)
