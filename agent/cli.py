"""`pricelens-agent run | check-config | status` — the command line.

`check-config --collector` proves, like `filebeat test output`, that the collector answers at the
configured URL and accepts the token, without storing an event.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import types
from pathlib import Path

import httpx
import orjson

from agent.config import AgentConfig, ConfigError, load_config
from agent.heartbeat import HEARTBEAT_PATH
from agent.runner import SPOOL_FILE, Agent, make_client, version
from agent.shipper import ingest_url
from agent.spool import Spool
from agent.status import read_status_file, render, snapshot


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pricelens-agent", description="Ship error records to Pricelens.")
    parser.add_argument("--version", action="version", version=version())
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="tail, spool and ship until stopped")
    check = sub.add_parser("check-config", help="validate the configuration")
    check.add_argument("--collector", action="store_true", help="also prove the collector accepts the token")
    status = sub.add_parser("status", help="files, offsets, lag, spool, dead letters, last delivery")
    status.add_argument("--json", action="store_true", help="print the snapshot as JSON")
    for p in (run, check, status):
        p.add_argument("--config", required=True, type=Path, help="YAML configuration file")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if args.command == "run":
        return _run(config)
    if args.command == "check-config":
        return _check(config, args.collector)
    return _status(config, args.json)


def _run(config: AgentConfig) -> int:
    logging.basicConfig(
        level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    agent = Agent(config)

    def on_signal(signum: int, frame: types.FrameType | None) -> None:
        logging.getLogger("pricelens_agent").info("received %s; shutting down", signal.Signals(signum).name)
        agent.request_stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    agent.run()
    return 0


def _check(config: AgentConfig, collector: bool) -> int:
    sources = ", ".join(s.service for s in config.sources)
    print(f"configuration OK: {len(config.sources)} source(s) ({sources}), state in {config.state_dir}")
    if not collector:
        return 0
    with make_client(config) as client:
        ok, message = probe_collector(client, config)
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def probe_collector(client: httpx.Client, config: AgentConfig) -> tuple[bool, str]:
    """Reach the collector with the token: a heartbeat, or an empty batch where heartbeats are unknown."""
    base = config.collector.url.rstrip("/")
    headers = {"Authorization": f"Bearer {config.collector.token}", "Content-Type": "application/json"}
    body = orjson.dumps(
        {
            "hostname": config.hostname,
            "version": version(),
            "files": [],
            "lag_bytes": 0,
            "spool_depth": 0,
            "dead_letters": 0,
            "last_error": None,
        }
    )
    try:
        response = client.post(base + HEARTBEAT_PATH, content=body, headers=headers)
        if response.status_code == 404:
            response = client.post(ingest_url(base), content=b'{"events": []}', headers=headers)
    except httpx.HTTPError as exc:
        return False, f"collector at {base} cannot be reached: {type(exc).__name__}: {exc}"
    code = response.status_code
    if code in (401, 403):
        return False, f"collector at {base} refused the token ({code})"
    if code < 300 or code in (400, 422):
        return True, f"collector at {base} answers and accepts the token"
    return False, f"collector at {base} answered {code}"


def _status(config: AgentConfig, as_json: bool) -> int:
    db = config.state_dir / SPOOL_FILE
    if not db.exists():
        print(f"no agent state in {config.state_dir} yet (has the agent run?)", file=sys.stderr)
        return 1
    spool = Spool(db, config.spool.max_bytes)
    try:
        snap = snapshot(hostname=config.hostname, version=version(), spool=spool, shipper=None)
    finally:
        spool.close()
    live = read_status_file(config.state_dir)
    if live:
        for key in ("last_delivery", "last_error", "paused", "updated_at"):
            snap[key] = live.get(key)
    print(orjson.dumps(snap, option=orjson.OPT_INDENT_2).decode() if as_json else render(snap))
    return 0


if __name__ == "__main__":
    sys.exit(main())
