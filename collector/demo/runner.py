"""``pricelens demo``: the whole of Pricelens on one machine, on embedded defaults, in one command.

It migrates an SQLite database under the data directory, makes sure of a demo admin login and an ingest
token, starts ``pricelens serve``, optionally loads demo price history into ClickHouse and analyses it
(when ``PRICELENS_CLICKHOUSE_URL`` is set), starts a real ``pricelens-agent`` on a generated configuration
and the three demo services it tails, prints where to look — and on Ctrl-C (or SIGTERM) stops every
process it started, services first so the agent can deliver their last words.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Annotated, TextIO

import typer

from collector import migrate
from collector.db import engine_for
from collector.demo.agent_config import write_agent_config
from collector.demo.credentials import Credentials, ensure_credentials
from collector.demo.layout import SERVICES, DemoLayout
from collector.demo.processes import Child, Supervisor
from collector.settings import Settings

AGENT_MAIN = "import sys; from agent.cli import main; sys.exit(main())"


@dataclass(frozen=True)
class DemoOptions:
    data_dir: Path = Path("demo-data")
    host: str = "127.0.0.1"
    port: int = 8061
    seed: int = 1
    rate: float = 2.0
    clickhouse_url: str = ""
    duration: float = 0.0  # seconds; 0 runs until Ctrl-C


def child_env(layout: DemoLayout, credentials: Credentials, clickhouse_url: str) -> dict[str, str]:
    """The parent's environment without any PRICELENS_* (a production setting must not leak into the
    demo), plus the demo's own settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRICELENS_")}
    env.update(
        PRICELENS_ENVIRONMENT="development",
        PRICELENS_DATA_DIR=str(layout.root),
        PRICELENS_DATABASE_URL=layout.database_url,
        PRICELENS_SECRET_KEY=credentials.secret_key,
        PRICELENS_MIGRATE_ON_START="false",
        PYTHONUNBUFFERED="1",
    )
    if clickhouse_url:
        env["PRICELENS_CLICKHOUSE_URL"] = clickhouse_url
    return env


def server_argv(options: DemoOptions) -> list[str]:
    argv = [sys.executable, "-m", "collector", "serve", "--host", options.host, "--port", str(options.port)]
    return argv if options.clickhouse_url else [*argv, "--no-scheduler"]


def service_argv(layout: DemoLayout, service: str, options: DemoOptions, index: int) -> list[str]:
    return [
        sys.executable, "-m", f"collector.demo.services.{service}",
        "--log-dir", str(layout.log_dir(service)), "--error-dir", str(layout.error_dir(service)),
        "--work-dir", str(layout.work_dir(service)), "--seed", str(options.seed + index),
        "--rate", str(options.rate),
    ]  # fmt: skip


def agent_argv(layout: DemoLayout) -> list[str]:
    return [sys.executable, "-c", AGENT_MAIN, "run", "--config", str(layout.agent_config)]


def agent_installed() -> bool:
    try:
        import agent.cli  # noqa: F401
    except ImportError:
        return False
    return True


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def wait_until_up(url: str, child: Child, stop: threading.Event, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and child.running and not stop.is_set():
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:  # noqa: S310 - our URL
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    return False


def _load_clickhouse(options: DemoOptions, layout: DemoLayout, out: TextIO) -> None:
    from collector.demo.clickhouse_data import load_and_analyse

    settings = Settings(
        data_dir=layout.root, database_url=layout.database_url, clickhouse_url=options.clickhouse_url
    )
    print("loading demo price history into ClickHouse and analysing the last two weeks…", file=out)
    try:
        run = load_and_analyse(settings, engine_for(layout.database_url), options.seed)
    except Exception as exc:  # the demo goes on without history; say why
        print(f"  skipped: {type(exc).__name__}: {exc}", file=out)
        return
    print(f"  analysis {run.status}: {run.figures.get('findings', {})} {run.error or ''}", file=out)


def banner(options: DemoOptions, layout: DemoLayout, credentials: Credentials, with_agent: bool) -> str:
    url = f"http://{options.host}:{options.port}/"
    lines = [
        "",
        "Pricelens demo is running.",
        f"  dashboard   {url}",
        f"  login       {credentials.username} / {credentials.password}",
        f"  API token   {layout.agent_token}  (ingest scope; e.g. for your own POSTs)",
        f"  services    {', '.join(SERVICES)}: logs and error directories under {layout.root / 'services'}",
        f"  output      {layout.output_dir}",
    ]
    if not with_agent:
        lines.append("  agent       NOT STARTED: install it with  pip install 'pricelens[agent]'")
    lines += ["Investigations appear within a minute. Press Ctrl-C to stop everything.", ""]
    return "\n".join(lines)


def run_demo(options: DemoOptions, out: TextIO = sys.stdout) -> int:
    """Run the demo until Ctrl-C, SIGTERM or ``options.duration``; returns the exit code."""
    if not port_free(options.host, options.port):
        print(f"port {options.port} on {options.host} is in use; choose another with --port", file=out)
        return 2
    layout = DemoLayout.at(options.data_dir)
    layout.create()
    migrate.upgrade(layout.database_url)
    credentials = ensure_credentials(layout, engine_for(layout.database_url))
    env = child_env(layout, credentials, options.clickhouse_url)

    stop = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    supervisor = Supervisor(layout.output_dir)
    try:
        return _run(options, layout, credentials, env, supervisor, stop, out)
    finally:
        supervisor.stop(SERVICES, timeout=10)
        supervisor.stop(["agent"], timeout=15)
        supervisor.stop_all(timeout=15)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        print(f"stopped {len(supervisor.children)} processes; data kept in {layout.root}", file=out)


def _run(
    options: DemoOptions,
    layout: DemoLayout,
    credentials: Credentials,
    env: dict[str, str],
    supervisor: Supervisor,
    stop: threading.Event,
    out: TextIO,
) -> int:
    server = supervisor.start("serve", server_argv(options), env, cwd=layout.root)
    if not wait_until_up(f"http://{options.host}:{options.port}", server, stop):
        if stop.is_set():
            return 0
        print(f"the server did not start; its output:\n{server.tail()}", file=out)
        return 1
    if options.clickhouse_url:
        _load_clickhouse(options, layout, out)
    with_agent = agent_installed()
    if with_agent:
        write_agent_config(layout, f"http://{options.host}:{options.port}")
        supervisor.start("agent", agent_argv(layout), {k: v for k, v in env.items() if "_AGENT_" not in k})
    for index, service in enumerate(SERVICES):
        supervisor.start(service, service_argv(layout, service, options, index), env)
    print(banner(options, layout, credentials, with_agent), file=out, flush=True)
    deadline = time.monotonic() + options.duration if options.duration > 0 else None
    while not stop.wait(0.5):
        dead = supervisor.exited()
        if dead:
            for child in dead:
                print(f"{child.name} exited with code {child.process.returncode}:\n{child.tail()}", file=out)
            return 1
        if deadline is not None and time.monotonic() >= deadline:
            break
    print("stopping…", file=out, flush=True)
    return 0


def demo_command(
    data_dir: Annotated[Path, typer.Option(help="where the demo keeps its database, logs and state")] = Path(
        "demo-data"
    ),
    host: Annotated[str, typer.Option(help="interface for the dashboard and API")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port for the dashboard and API")] = 8061,
    seed: Annotated[int, typer.Option(help="same seed, same story")] = 1,
    rate: Annotated[float, typer.Option(help="cycles per second of each demo service")] = 2.0,
    duration: Annotated[float, typer.Option(help="stop after this many seconds; 0 runs until Ctrl-C")] = 0.0,
) -> None:
    """Run Pricelens with demo services and an agent on embedded defaults; Ctrl-C stops everything.

    With PRICELENS_CLICKHOUSE_URL set, demo price history is loaded there and analysed first.
    """
    options = DemoOptions(
        data_dir=data_dir, host=host, port=port, seed=seed, rate=rate, duration=duration,
        clickhouse_url=os.environ.get("PRICELENS_CLICKHOUSE_URL", ""),
    )  # fmt: skip
    code = run_demo(options)
    if code:
        raise typer.Exit(code)
