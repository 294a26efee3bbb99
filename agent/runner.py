"""Wire the pipeline together and run it: sources → tailers/error dirs → spool → shipper.

The main thread reads (woken by the watcher, the quiet-time deadlines and the slow rescan); a second
thread ships and sends heartbeats. `stop` ends reading at once (everything read is already committed
with its offset) and gives the shipper `shutdown_timeout` seconds to deliver what is spooled.
"""

from __future__ import annotations

import importlib.metadata
import logging
import re
import threading
import time
from typing import Any

import httpx

from agent.config import AgentConfig, SourceConfig
from agent.errordirs import ErrorDirs
from agent.heartbeat import Heartbeat
from agent.metrics import MetricsServer
from agent.parsing import Parser, ParseSpec, layout_regex, level_number, line_format
from agent.shipper import Shipper
from agent.sources import Watcher
from agent.spool import Spool
from agent.status import snapshot, write_status_file
from agent.tailer import Tailer, Timing

log = logging.getLogger("pricelens_agent")
SPOOL_FILE = "spool.sqlite3"
BACKPRESSURE_PAUSE = 0.2
FORGET_AFTER = 7 * 24 * 3600.0
IDENTIFY_THROTTLE = 0.1


def version() -> str:
    try:
        return importlib.metadata.version("pricelens")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def make_parser(source: SourceConfig, host: str) -> Parser:
    first_line = None
    if source.format == "python":
        first_line = re.compile(layout_regex(source.layout))
    elif source.format == "regex" and source.pattern:
        first_line = re.compile(source.pattern)
    spec = ParseSpec(
        service=source.service,
        host=host,
        kind=source.format,
        first_line=first_line,
        supplier_pattern=re.compile(source.supplier_pattern) if source.supplier_pattern else None,
        supplier_from_path=re.compile(source.supplier_from_path) if source.supplier_from_path else None,
        file_pattern=re.compile(source.file_pattern) if source.file_pattern else None,
        default_level="ERROR",
    )
    return Parser(spec)


def make_client(config: AgentConfig) -> httpx.Client:
    return httpx.Client(
        timeout=httpx.Timeout(config.collector.timeout), verify=config.collector.verify_tls, trust_env=False
    )


class Agent:
    def __init__(self, config: AgentConfig, client: httpx.Client | None = None) -> None:
        self.config = config
        config.state_dir.mkdir(parents=True, exist_ok=True)
        self.spool = Spool(config.state_dir / SPOOL_FILE, config.spool.max_bytes)
        self.client = client or make_client(config)
        self.shipper = Shipper(
            client=self.client,
            spool=self.spool,
            url=config.collector.url,
            token=config.collector.token,
            config=config.shipping,
        )
        self.heartbeat = Heartbeat(
            client=self.client,
            url=config.collector.url,
            token=config.collector.token,
            interval=config.heartbeat_interval,
            snapshot=self.snapshot,
        )
        r = config.reading
        timing = Timing(r.chunk_bytes, r.max_record_bytes, r.quiet_time, r.traceback_wait, r.close_inactive)
        self.tailers: list[Tailer] = []
        self.error_dirs: list[ErrorDirs] = []
        for source in config.sources:
            parser = make_parser(source, config.hostname)
            min_level = level_number(source.min_level)
            if source.paths:
                fmt = line_format(
                    source.format, layout=source.layout, pattern=source.pattern, min_level=min_level
                )
                self.tailers.append(
                    Tailer(
                        service=source.service,
                        host=config.hostname,
                        patterns=source.paths,
                        start_at=source.start_at,
                        fmt=fmt,
                        min_level=min_level,
                        parser=parser,
                        spool=self.spool,
                        timing=timing,
                    )
                )
            if source.error_dirs:
                self.error_dirs.append(
                    ErrorDirs(
                        service=source.service,
                        host=config.hostname,
                        dirs=source.error_dirs,
                        reason_suffixes=source.reason_suffixes,
                        send_existing=source.send_existing,
                        parser=parser,
                        spool=self.spool,
                        settle=r.quiet_time,
                    )
                )
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.ship_wake = threading.Event()
        self.watcher = Watcher(self.wake)
        self.last_snapshot: dict[str, Any] | None = None
        self.metrics = (
            MetricsServer(config.metrics_host, config.metrics_port, lambda: self.last_snapshot)
            if config.metrics_port is not None
            else None
        )

    def snapshot(self) -> dict[str, Any]:
        return snapshot(
            hostname=self.config.hostname, version=version(), spool=self.spool, shipper=self.shipper.status
        )

    def request_stop(self) -> None:
        """Safe from a signal handler: end reading now, then let the shipper drain."""
        self.stopping.set()
        self.wake.set()

    def run(self) -> None:
        log.info("pricelens-agent %s starting; state in %s", version(), self.config.state_dir)
        shipping_stop = threading.Event()
        ship_thread = threading.Thread(
            target=self._ship, args=(shipping_stop,), name="pricelens-agent-shipper", daemon=True
        )
        self.watcher.start()
        ship_thread.start()
        if self.metrics is not None:
            self.metrics.start()
        try:
            self._read_loop(self.stopping)
        finally:
            for tailer in self.tailers:
                tailer.close()
            self.watcher.stop()
            if self.metrics is not None:
                self.metrics.stop()
            shipping_stop.set()
            self.ship_wake.set()
            ship_thread.join(self.config.shipping.shutdown_timeout + self.config.collector.timeout + 1)
            write_status_file(self.config.state_dir, self.snapshot())
            self.spool.close()
            self.client.close()
            log.info("pricelens-agent stopped; %d events left in the spool", self.spool.depth()[0])

    def _ship(self, stop: threading.Event) -> None:
        try:
            self.shipper.run(stop=stop, wake=self.ship_wake, tick=self.heartbeat.maybe_send)
        finally:
            self.spool.close()

    def _directories(self) -> set[str]:
        dirs: set[str] = set()
        for tailer in self.tailers:
            dirs |= tailer.directories()
        for errdir in self.error_dirs:
            dirs |= errdir.directories()
        return dirs

    def _read_loop(self, stop: threading.Event) -> None:
        cfg = self.config
        next_rescan = 0.0
        next_status = 0.0
        next_identify = 0.0
        while not stop.is_set():
            now = time.monotonic()
            full_rescan = now >= next_rescan
            if full_rescan:
                next_rescan = now + cfg.reading.rescan_interval
                self.watcher.refresh(self._directories())
                self.spool.forget_files(time.time() - FORGET_AFTER)
            structural = self.watcher.take_structural() or full_rescan
            self.wake.clear()
            deadlines = [next_rescan, next_status]
            spooled = 0
            backlog = False
            identify_due = now >= next_identify
            for tailer in self.tailers:
                if structural or (tailer.unidentified and identify_due):
                    next_identify = now + IDENTIFY_THROTTLE
                    tailer.discover()
                n, more = tailer.read()
                m, deadline = tailer.settle()
                spooled += n + m
                backlog = backlog or more
                if deadline is not None:
                    deadlines.append(deadline)
                if tailer.identify_at is not None:
                    deadlines.append(max(tailer.identify_at, next_identify))
            if structural:
                for errdir in self.error_dirs:
                    n, deadline = errdir.scan()
                    spooled += n
                    if deadline is not None:
                        deadlines.append(deadline)
                        next_rescan = min(next_rescan, deadline)
            if spooled:
                self.ship_wake.set()
            if now >= next_status:
                next_status = now + cfg.status_interval
                self.last_snapshot = self.snapshot()
                write_status_file(cfg.state_dir, self.last_snapshot)
            if backlog:
                if self.spool.is_full():
                    stop.wait(BACKPRESSURE_PAUSE)
                continue
            timeout = max(0.0, min(deadlines) - time.monotonic())
            self.wake.wait(timeout)
