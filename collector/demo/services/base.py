"""What the three demo services share: their command line, rotating log files, a paced, stoppable loop.

Each service is a :class:`DemoService` whose *round* is a fixed mix of scenarios (mostly successful
loads, every failure at least once) shuffled by a seeded ``random.Random``: any seed gives every failure
within one round, and the same seed gives the same story. ``--rate`` paces cycles per second, so the
dashboard fills within a minute at the default and tests can run a few rounds in a blink with ``--rate 0``.
Logging is the standard library's, in the default layout, with size- or time-based rotation kept small
so the agent's rotation handling is exercised within minutes.
"""

from __future__ import annotations

import argparse
import logging
import random
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from logging.handlers import RotatingFileHandler, TimedRotatingFileHandler
from pathlib import Path
from types import FrameType
from typing import ClassVar

LOG_FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"

Scenario = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    log_dir: Path
    error_dir: Path
    work_dir: Path
    seed: int
    rate: float
    cycles: int
    max_bytes: int
    backup_count: int
    rotate_seconds: int
    stale_after: int
    net_timeout: float


def parse_args(service: str, description: str, argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog=f"python -m collector.demo.services.{service}", description=description
    )
    parser.add_argument("--log-dir", type=Path, required=True, help=f"where {service}.log is written")
    parser.add_argument("--error-dir", type=Path, required=True, help="where rejected price lists are moved")
    parser.add_argument(
        "--work-dir", type=Path, help="staging area for incoming files (default: beside log dir)"
    )
    parser.add_argument("--seed", type=int, default=1, help="same seed, same sequence of events")
    parser.add_argument(
        "--rate", type=float, default=2.0, help="cycles per second; 0 means as fast as possible"
    )
    parser.add_argument(
        "--cycles", type=int, default=0, help="stop after this many cycles; 0 runs until stopped"
    )
    parser.add_argument("--max-bytes", type=int, default=64 * 1024, help="size at which the log file rotates")
    parser.add_argument("--backup-count", type=int, default=5, help="rotated log files to keep")
    parser.add_argument("--rotate-seconds", type=int, default=60, help="time-based rotation interval")
    parser.add_argument(
        "--stale-after", type=int, default=2, help="rounds without a file before a supplier is stale"
    )
    parser.add_argument("--net-timeout", type=float, default=0.5, help="seconds to wait for a silent server")
    args = parser.parse_args(argv)
    if args.rate < 0 or args.cycles < 0 or args.max_bytes < 1024 or args.rotate_seconds < 1:
        parser.error("--rate and --cycles must not be negative, --max-bytes >= 1024, --rotate-seconds >= 1")
    return Options(
        log_dir=args.log_dir,
        error_dir=args.error_dir,
        work_dir=args.work_dir or args.log_dir.parent / f"{service}-work",
        seed=args.seed,
        rate=args.rate,
        cycles=args.cycles,
        max_bytes=args.max_bytes,
        backup_count=args.backup_count,
        rotate_seconds=args.rotate_seconds,
        stale_after=args.stale_after,
        net_timeout=args.net_timeout,
    )


def setup_logging(service: str, options: Options, *, timed: bool) -> logging.Logger:
    """The service's logger, writing ``<log_dir>/<service>.log`` with rotation, in the default layout."""
    options.log_dir.mkdir(parents=True, exist_ok=True)
    path = options.log_dir / f"{service}.log"
    handler: logging.Handler
    if timed:
        handler = TimedRotatingFileHandler(
            path,
            when="S",
            interval=options.rotate_seconds,
            backupCount=options.backup_count,
            encoding="utf-8",
        )
    else:
        handler = RotatingFileHandler(
            path, maxBytes=options.max_bytes, backupCount=options.backup_count, encoding="utf-8"
        )
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logger = logging.getLogger(service)
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    logger.propagate = False
    return logger


class DemoService:
    """A service's scenarios and the round-robin of shuffled rounds that drives them."""

    name: ClassVar[str]
    description: ClassVar[str]
    timed_rotation: ClassVar[bool] = False

    def __init__(self, options: Options, logger: logging.Logger, rng: random.Random) -> None:
        self.options = options
        self.log = logger
        self.rng = rng
        self.round = 0
        self._queue: list[Scenario] = []
        self._serial = 0
        options.work_dir.mkdir(parents=True, exist_ok=True)
        options.error_dir.mkdir(parents=True, exist_ok=True)

    def mix(self) -> list[tuple[Scenario, int]]:
        """Each scenario with how many times it runs per round."""
        raise NotImplementedError

    def suppliers(self) -> Sequence[str]:
        raise NotImplementedError

    def start_round(self) -> None:
        """Called before each round; services check their periodic conditions here."""

    def step(self) -> None:
        if not self._queue:
            self.round += 1
            self.start_round()
            self._queue = [scenario for scenario, times in self.mix() for _ in range(times)]
            self.rng.shuffle(self._queue)
        scenario = self._queue.pop()
        scenario(self.rng.choice(list(self.suppliers())))

    def file_name(self, supplier: str, extension: str) -> str:
        """``CODE_<timestamp>_<serial>.<ext>``: unique, and the supplier recoverable from the path."""
        self._serial += 1
        return f"{supplier}_{datetime.now():%Y%m%d-%H%M%S}_{self._serial:04d}.{extension}"

    def close(self) -> None:
        """Release what the scenarios hold (servers, sockets)."""


def main(service: type[DemoService], argv: Sequence[str] | None = None) -> int:
    options = parse_args(service.name, service.description, argv)
    logger = setup_logging(service.name, options, timed=service.timed_rotation)
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    demo = service(options, logger, random.Random(options.seed))
    logger.info("%s started (seed %d, %.1f cycles/s)", service.name, options.seed, options.rate)
    cycles = 0
    try:
        while not stop.is_set() and (options.cycles == 0 or cycles < options.cycles):
            demo.step()
            cycles += 1
            if options.rate > 0:
                stop.wait(1.0 / options.rate)
    finally:
        demo.close()
        logger.info("%s stopped after %d cycles", service.name, cycles)
        logging.shutdown()
    return 0
