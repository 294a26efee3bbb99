"""agent.md "File identity and rotation": each scenario with real files, a real agent process and the
real collector; the test counts the error records it wrote and the collector must hold exactly those."""

from __future__ import annotations

import gzip
import logging
import logging.handlers
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.agent.harness import (
    AgentRun,
    assert_exactly,
    log_error,
    python_logger,
    rotating_handler,
    timed_handler,
    wait_until,
)
from tests.live import LiveCollector

pytestmark = [pytest.mark.postgres]


class Scenario:
    """Writes tagged error records (every other one with a chained traceback) and INFO noise."""

    def __init__(self, tmp_path: Path, collector: LiveCollector, **source: Any) -> None:
        self.logdir = tmp_path / "logs"
        self.logdir.mkdir()
        self.path = self.logdir / "app.log"
        self.collector = collector
        self.expected: set[str] = set()
        self.tracebacks: set[str] = set()
        self.n = 0
        src = {"service": "load_ftp", "paths": [str(self.logdir / "*.log")], **source}
        self.agent = AgentRun(tmp_path, collector.url, collector.ingest_token, [src])

    def errors(self, logger: logging.Logger, count: int, info_between: int = 2) -> None:
        for _ in range(count):
            tag = f"rec-{self.n}"
            with_tb = self.n % 2 == 1
            for _ in range(info_between):
                logger.info("processed rows for supplier=acme nothing to see")
            log_error(logger, tag, with_tb)
            self.expected.add(tag)
            if with_tb:
                self.tracebacks.add(tag)
            self.n += 1

    def raw(self, text: str, path: Path | None = None) -> None:
        with open(path or self.path, "a") as f:
            f.write(text)

    def line(self, tag: str) -> str:
        self.expected.add(tag)
        return f"2024-05-01 12:00:00,{self.n % 1000:03d} - raw - ERROR - load failed {tag} supplier=acme\n"

    def events(self) -> list[dict[str, Any]]:
        return self.collector.events("load_ftp")

    def check(self, timeout: float = 40.0) -> None:
        try:
            wait_until(
                lambda: self.expected <= {_tag(e) for e in self.events()},
                timeout,
                f"{len(self.expected)} records in the collector",
            )
        except AssertionError:
            assert_exactly(self.events(), self.expected)
            raise
        time.sleep(0.8)
        assert_exactly(self.events(), self.expected, self.tracebacks)
        assert "DATA LOST" not in self.agent.log()


def _tag(event: dict[str, Any]) -> str:
    return next((w for w in str(event["message"]).split() if w.startswith("rec-")), "")


@pytest.fixture
def scenario(tmp_path: Path, collector: LiveCollector) -> Any:
    made: list[Scenario] = []

    def make(**source: Any) -> Scenario:
        made.append(Scenario(tmp_path, collector, **source))
        return made[-1]

    yield make
    for s in made:
        if s.agent.running():
            s.agent.stop()


def test_append_while_running_and_while_stopped(scenario: Any) -> None:
    s = scenario()
    log = python_logger("t.append", logging.FileHandler(s.path))
    s.errors(log, 10)
    s.agent.start()
    s.check()
    s.errors(log, 10)
    s.check()
    assert s.agent.stop() == 0
    s.errors(log, 10)
    s.agent.start()
    s.check()
    status = s.agent.status()
    assert [f["lag_bytes"] for f in status["files"]] == [0]
    assert status["spool"]["events"] == 0 and status["dead_letters"]["count"] == 0


def test_rotating_file_handler_many_quick_rotations(scenario: Any) -> None:
    s = scenario()
    s.agent.start()
    log = python_logger("t.rfh", rotating_handler(s.path, max_bytes=3000, backups=100))
    s.errors(log, 120, info_between=1)
    s.check()
    assert len(list(s.logdir.glob("app.log.*"))) > 10


def test_rotations_while_collector_down_and_agent_stopped(scenario: Any) -> None:
    s = scenario()
    log = python_logger("t.rfh.down", rotating_handler(s.path, max_bytes=4000, backups=100))
    s.agent.start()
    s.errors(log, 10)
    s.check()
    s.collector.stop()
    s.errors(log, 40, info_between=1)
    time.sleep(1.5)
    s.agent.stop()
    s.errors(log, 40, info_between=1)
    s.agent.start()
    time.sleep(1.0)
    s.collector.start()
    s.check(60)


def test_timed_rotating_file_handler(scenario: Any) -> None:
    s = scenario()
    s.agent.start()
    log = python_logger("t.timed", timed_handler(s.path))
    for _ in range(6):
        s.errors(log, 5)
        time.sleep(0.45)
    s.check()
    assert len(list(s.logdir.glob("app.log.*"))) >= 2


def test_logrotate_rename_and_create(scenario: Any) -> None:
    s = scenario()
    log = python_logger("t.watched", logging.handlers.WatchedFileHandler(s.path))
    s.agent.start()
    for i in range(4):
        s.errors(log, 8)
        for k in range(i, 0, -1):
            os.rename(f"{s.path}.{k}", f"{s.path}.{k + 1}")
        os.rename(s.path, f"{s.path}.1")
    s.errors(log, 8)
    s.check()


def test_copytruncate_while_running(scenario: Any) -> None:
    s = scenario()
    log = python_logger("t.ct", logging.FileHandler(s.path))
    s.agent.start()
    for k in range(3):
        s.errors(log, 10)
        shutil.copyfile(s.path, f"{s.path}.{k + 1}")
        os.truncate(s.path, 0)
    s.errors(log, 10)
    s.check()


def test_copytruncate_while_stopped(scenario: Any) -> None:
    s = scenario()
    log = python_logger("t.ct.stopped", logging.FileHandler(s.path))
    s.agent.start()
    s.errors(log, 10)
    s.check()
    s.agent.stop()
    s.errors(log, 10)
    shutil.copyfile(s.path, f"{s.path}.1")
    os.truncate(s.path, 0)
    s.errors(log, 10)
    s.agent.start()
    s.check()


def test_delaycompress_is_not_read_again(scenario: Any) -> None:
    s = scenario()
    log = python_logger("t.gz", logging.handlers.WatchedFileHandler(s.path))
    s.agent.start()
    s.errors(log, 10)
    os.rename(s.path, f"{s.path}.1")
    s.errors(log, 10)
    s.check()
    os.rename(f"{s.path}.1", f"{s.path}.2")
    os.rename(s.path, f"{s.path}.1")
    with open(f"{s.path}.2", "rb") as src, gzip.open(f"{s.path}.2.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    os.unlink(f"{s.path}.2")
    s.errors(log, 5)
    s.check()
    time.sleep(1.0)
    assert not [f for f in s.agent.status()["files"] if f["path"].endswith(".gz")]
    assert all(not str(e["extra"]).count(".gz") for e in s.events())


def test_deleted_while_open_with_unread_data_and_recreated(scenario: Any) -> None:
    s = scenario()
    s.raw(s.line("rec-start"))
    s.agent.start()
    s.check()
    s.raw("".join(s.line(f"rec-bulk{i}") for i in range(3000)))
    os.unlink(s.path)
    s.raw(s.line("rec-recreated"))
    s.check()


def test_inode_reuse(scenario: Any) -> None:
    s = scenario()
    s.raw("2024-05-01 11:00:00,000 - raw - INFO - first file\n" + s.line("rec-a1"))
    s.agent.start()
    s.check()
    s.agent.stop()
    inode = os.stat(s.path).st_ino
    os.unlink(s.path)
    s.raw("2024-05-01 11:30:00,000 - raw - INFO - second file\n" + s.line("rec-b1") + s.line("rec-b2"))
    reused = os.stat(s.path).st_ino == inode
    s.agent.start()
    s.check()
    os.unlink(s.path)
    s.raw("2024-05-01 11:45:00,000 - raw - INFO - third file\n" + s.line("rec-c1"))
    s.check()
    assert reused or os.stat(s.path).st_ino != inode


def test_last_line_without_newline_waits(scenario: Any) -> None:
    s = scenario()
    s.agent.start()
    s.raw(s.line("rec-0"))
    s.check()
    s.raw(s.line("rec-1").rstrip("\n"))
    time.sleep(1.5)
    assert {_tag(e) for e in s.events()} == {"rec-0"}
    s.raw("\n")
    s.check()


def test_traceback_written_in_pieces_with_pauses(scenario: Any) -> None:
    s = scenario()
    s.agent.start()
    head = s.line("rec-slow")
    pieces = [
        head[:30],
        head[30:] + 'Traceback (most recent call last):\n  File "/srv/a.py"',
        ", line 3, in load\n    book = open_book(path)\n",
        "KeyError: 'missing'\n\nThe above exception was the direct cause of the following exception:\n\n",
        'Traceback (most recent call last):\n  File "/srv/b.py", line 9, in run\n',
        "    load()\nValueError: bad sheet in rec-slow",
        "\n",
    ]
    for piece in pieces:
        s.raw(piece)
        time.sleep(0.5)
    s.tracebacks.add("rec-slow")
    s.check()


def test_long_lines_and_invalid_utf8(scenario: Any) -> None:
    s = scenario()
    s.agent.start()
    big = "2024-05-01 12:00:00,000 - raw - ERROR - load failed rec-big " + "x" * (3 << 20) + "\n"
    s.expected.add("rec-big")
    s.raw(big + "2024-05-01 12:00:00,000 - raw - INFO - " + "y" * (2 << 20) + "\n")
    with open(s.path, "ab") as f:
        f.write(b"2024-05-01 12:00:00,000 - raw - ERROR - load failed rec-utf8 caf\xe9 \xff\xfe\n")
        f.write(b"\x00\x01\x02 binary garbage \xff\n")
    s.expected.add("rec-utf8")
    s.raw(s.line("rec-after"))
    s.check()
    by_tag = {_tag(e): e for e in s.events()}
    assert "caf\ufffd" in by_tag["rec-utf8"]["message"]
    assert by_tag["rec-big"]["truncated"] is True


@pytest.mark.slow
def test_kill_9_during_steady_writing(scenario: Any) -> None:
    s = scenario()
    log = python_logger("t.kill", rotating_handler(s.path, max_bytes=20000, backups=200))
    s.agent.start()
    done = threading.Event()

    def writer() -> None:
        while not done.is_set():
            s.errors(log, 3, info_between=3)
            time.sleep(0.01)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for pause in (0.7, 1.1, 0.3, 1.6, 0.9):
            time.sleep(pause)
            s.agent.kill9()
            time.sleep(0.2)
            s.agent.start()
    finally:
        done.set()
        thread.join()
    s.check(60)


def test_collector_outage(scenario: Any) -> None:
    s = scenario()
    log = python_logger("t.outage", logging.FileHandler(s.path))
    s.agent.start()
    s.errors(log, 5)
    s.check()
    s.collector.stop()
    s.errors(log, 20)
    time.sleep(3.0)
    assert "cannot reach the collector" in (s.agent.status()["last_error"] or "")
    s.collector.start()
    s.check()


def test_start_at_end_and_beginning(scenario: Any, tmp_path: Path) -> None:
    s = scenario(start_at="end")
    s.raw("2024-05-01 12:00:00,000 - raw - ERROR - old record rec-old-should-not-ship\n")
    s.agent.start()
    wait_until(lambda: (s.agent.state_dir / "status.json").exists(), 20, "the agent to start")
    time.sleep(0.5)
    s.raw(s.line("rec-new"))
    newfile = s.logdir / "second.log"
    s.raw(s.line("rec-new-file"), newfile)
    s.check()


def test_check_config_and_heartbeat_against_the_collector(scenario: Any, collector: LiveCollector) -> None:
    import sqlalchemy as sa

    s = scenario()
    ok = s.agent.command("check-config", "--collector")
    assert ok.returncode == 0 and "accepts the token" in ok.stdout, ok.stderr
    s.raw(s.line("rec-hb"))
    s.agent.start()
    s.check()

    def heartbeat() -> dict[str, Any] | None:
        with collector.engine.connect() as conn:
            row = conn.execute(sa.text("SELECT * FROM pricelens_agent WHERE hostname = 'test-host'")).first()
        return None if row is None else dict(row._mapping)

    wait_until(lambda: bool((heartbeat() or {}).get("files")), 10, "a heartbeat with files")
    row = heartbeat()
    assert row is not None and row["files"][0]["path"].endswith("app.log")
    (s.agent.dir.parent / "bad").mkdir()
    bad = AgentRun(s.agent.dir.parent / "bad", collector.url, "pl_wrong", [{"service": "x", "paths": ["/x"]}])
    refused = bad.command("check-config", "--collector")
    assert refused.returncode == 1 and "refused the token" in refused.stderr
