"""A seeded random walk of writes, rotations, truncations, agent kill -9 and collector outages; at the end
the collector must hold exactly the error records written. Set AGENT_TEST_SEED to replay a run."""

from __future__ import annotations

import logging
import logging.handlers
import os
import random
import shutil
import time
from pathlib import Path

import pytest

from tests.agent.harness import AgentRun, assert_exactly, log_error, python_logger, tags_of, wait_until
from tests.live import LiveCollector

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
DURATION = 45.0


def test_random_walk(tmp_path: Path, collector: LiveCollector) -> None:
    seed = int(os.environ.get("AGENT_TEST_SEED", "20261126"))
    rng = random.Random(seed)
    logdir = tmp_path / "logs"
    logdir.mkdir()
    path = logdir / "app.log"
    agent = AgentRun(
        tmp_path,
        collector.url,
        collector.ingest_token,
        [{"service": "load_ftp", "paths": [str(logdir / "*.log")]}],
    )
    log = python_logger(f"t.random.{seed}", logging.handlers.WatchedFileHandler(path))
    expected: set[str] = set()
    tracebacks: set[str] = set()
    history: list[str] = []
    n = 0
    rotated = 0

    def shift() -> None:
        nonlocal rotated
        for k in range(rotated, 0, -1):
            os.rename(f"{path}.{k}", f"{path}.{k + 1}")
        rotated += 1

    def delivered() -> bool:
        return expected <= set(tags_of(collector.events("load_ftp")))

    agent.start()
    try:
        deadline = time.monotonic() + DURATION
        while time.monotonic() < deadline:
            action = rng.choices(
                ["write", "rename", "copytruncate", "truncate", "kill", "term", "outage"],
                weights=[8, 1, 1, 0.5, 1, 0.5, 0.7],
            )[0]
            if action == "write":
                for _ in range(rng.randint(1, 25)):
                    tag = f"rec-{n}"
                    for _ in range(rng.randint(0, 3)):
                        log.info("row batch ok for supplier=acme")
                    with_tb = rng.random() < 0.5
                    log_error(log, tag, with_tb)
                    expected.add(tag)
                    if with_tb:
                        tracebacks.add(tag)
                    n += 1
            elif action == "rename" and path.exists():
                shift()
                os.rename(path, f"{path}.1")
            elif action == "copytruncate" and path.exists():
                shift()
                shutil.copyfile(path, f"{path}.1")
                os.truncate(path, 0)
            elif action == "truncate":
                if collector.proc is None or not agent.running() or not path.exists():
                    continue
                wait_until(delivered, 30, "delivery before a plain truncation")
                os.truncate(path, 0)
            elif action == "kill":
                agent.kill9()
                if rng.random() < 0.7:
                    agent.start(wait=False)
            elif action == "term":
                if agent.running():
                    agent.stop()
                agent.start(wait=False)
            elif action == "outage":
                if collector.proc is None:
                    collector.start()
                else:
                    collector.stop()
            if action in ("kill", "term", "outage", "rename", "copytruncate", "truncate"):
                history.append(action)
            if not agent.running() and rng.random() < 0.5:
                agent.start(wait=False)
            time.sleep(rng.random() * 0.3)
        if collector.proc is None:
            collector.start()
        if not agent.running():
            agent.start()
        try:
            wait_until(delivered, 120, f"{len(expected)} records (seed {seed})")
        except AssertionError:
            assert_exactly(collector.events("load_ftp"), expected)
            raise
        time.sleep(1.5)
        assert_exactly(collector.events("load_ftp"), expected, tracebacks)
        assert "DATA LOST" not in agent.log()
        assert len(history) >= 10, history
    finally:
        if agent.running():
            agent.stop()
