"""The compose topology as plain processes on this machine, for the end-to-end test.

Postgres and ClickHouse are the test suite's private instances; the collector is ``tests.live``'s;
the scheduler, the agent and the demo services are started here with the same commands the compose file
and ``pricelens demo`` use. ``expected_*`` compute, from the files the services wrote, what the
collector must end up holding — the ground truth the test compares against.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from collector.demo.agent_config import agent_config, to_yaml
from collector.demo.layout import SERVICES, DemoLayout
from collector.demo.runner import AGENT_MAIN
from tests.deploy.records import all_records, service_argv

LEVELS_SHIPPED = ("WARNING", "ERROR", "CRITICAL")
# What the demo history (collector/demo/clickhouse_data.py) was built to contain over its last 14 days:
# findings by rule, and events per (rule, supplier) investigation.
ANALYSIS_FINDINGS = {"stale_supplier": 3, "row_drop": 2, "reject_spike": 1, "price_jump": 3}
ANALYSIS_INVESTIGATIONS = {
    ("stale_supplier", "VEGA"): 2,
    ("stale_supplier", "NORDTEX"): 1,
    ("row_drop", "ORBIS"): 2,
    ("reject_spike", "KRONA"): 1,
    ("price_jump", "ELBE"): 3,
}


def start(argv: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def server_env(database_url: str, clickhouse_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRICELENS_")}
    env.update(
        PRICELENS_DATABASE_URL=database_url,
        PRICELENS_CLICKHOUSE_URL=clickhouse_url,
        PRICELENS_DATA_DIR=str(data_dir),
        PRICELENS_LEADER_POLL_SECONDS="0.5",
    )
    return env


def scheduler(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return start([sys.executable, "-m", "collector", "scheduler"], log, env)


def agent(layout: DemoLayout, collector_url: str, token: str, log: Path) -> subprocess.Popen[bytes]:
    layout.agent_token.write_text(token + "\n", encoding="utf-8")
    config = agent_config(layout, collector_url)
    config["hostname"] = "e2e-host"
    layout.agent_config.write_text(to_yaml(config) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRICELENS_")}
    return start([sys.executable, "-c", AGENT_MAIN, "run", "--config", str(layout.agent_config)], log, env)


def run_services(layout: DemoLayout, cycles: dict[str, int]) -> None:
    """The three demo services side by side for a fixed number of cycles, at 10 per second (so the
    time-rotated log of ``consolidate`` turns over too), size-rotated logs turning over every 4 KiB."""
    running = []
    for index, service in enumerate(SERVICES):
        argv = service_argv(
            service, layout.service_dir(service), "--cycles", str(cycles[service]), "--seed", str(index)
        )
        argv += ["--rate", "10", "--max-bytes", "4096", "--backup-count", "100", "--rotate-seconds", "1"]
        running.append(subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    for process in running:
        output, _ = process.communicate(timeout=120)
        assert process.returncode == 0, output


def _supplier(text: str) -> str:
    m = re.search(r"supplier=([A-Za-z0-9-]+)", text)
    assert m, text
    return m[1]


def expected_investigations(layout: DemoLayout) -> dict[str, set[tuple[str, str, str]]]:
    """Per service, the groups its records must fall into: (kind, supplier, error type or message shape)."""
    groups: dict[str, set[tuple[str, str, str]]] = {}
    for service in SERVICES:
        found = groups.setdefault(service, set())
        for r in all_records(layout.log_dir(service), service):
            if r.level in LEVELS_SHIPPED:
                shape = r.error_type or re.sub(r"\d+", "N", r.message.split(" supplier=")[0])
                found.add(("error", _supplier(r.message), shape))
        for reason in layout.error_dir(service).glob("*.err"):
            text = reason.read_text(encoding="utf-8")
            found.add(("file_rejected", _supplier(text), text.split(":", 1)[0]))
    return groups


def expected_events(layout: DemoLayout) -> Counter[str]:
    """Per service: every WARNING-or-worse record in its logs plus every rejected file, exactly once."""
    counts: Counter[str] = Counter()
    for service in SERVICES:
        counts[service] += sum(
            1 for r in all_records(layout.log_dir(service), service) if r.level in LEVELS_SHIPPED
        )
        counts[service] += len([p for p in layout.error_dir(service).iterdir() if p.suffix != ".err"])
    return counts
