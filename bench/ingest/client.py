"""The load generators; each runs in its own process so the client never shares the server's GIL."""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import Any

import httpx
import orjson

from bench.ingest.workload import SUPPLIERS, batches, error_kinds, gzip_body, make_event

PATH = "/api/v1/pricelens/log_event/"


def batch_worker(
    url: str, token: str, worker: int, count: int, seed: int, barrier: Barrier, results: Queue[Any]
) -> None:
    """Post ``count`` gzip batches of 500 back to back on one keep-alive connection."""
    bodies = [gzip_body({"events": b}) for b in batches(worker, count, seed=seed)]
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
    }
    accepted = duplicates = 0
    latencies: list[float] = []
    with httpx.Client(base_url=url, headers=headers, timeout=300) as client:
        client.get("/healthz")  # open the connection before the clock starts
        barrier.wait()
        started = time.monotonic()
        for body in bodies:
            t0 = time.monotonic()
            response = client.post(PATH, content=body)
            latencies.append(time.monotonic() - t0)
            if response.status_code != 200:
                raise RuntimeError(f"batch refused: {response.status_code} {response.text[:500]}")
            answer = response.json()
            if answer["rejected"]:
                raise RuntimeError(f"events rejected: {answer['rejected'][:3]}")
            accepted += answer["accepted"]
            duplicates += answer["duplicates"]
        finished = time.monotonic()
    results.put({"accepted": accepted, "duplicates": duplicates, "started": started,
                 "finished": finished, "latencies": latencies})  # fmt: skip


def single_worker(url: str, token: str, threads: int, seconds: float, seed: int, results: Queue[Any]) -> None:
    """``threads`` keep-alive connections, each posting one plain-JSON event at a time for ``seconds``."""
    kinds = error_kinds()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors: list[str] = []
    start = threading.Barrier(threads + 1)
    stop_at = [0.0]

    def run(n: int) -> None:
        rnd = random.Random(seed * 100 + n)
        mine = latencies[n]
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            client.get("/healthz")
            start.wait()
            serial = 0
            while time.monotonic() < stop_at[0]:
                event = make_event(
                    rnd.choice(kinds),
                    rnd.choice(SUPPLIERS),
                    f"single-{seed}-{n}-{serial}",
                    rnd,
                    datetime.now(UTC),
                )
                serial += 1
                body = orjson.dumps(event)
                t0 = time.monotonic()
                response = client.post(PATH, content=body)
                mine.append(time.monotonic() - t0)
                if response.status_code != 200:
                    errors.append(f"{response.status_code} {response.text[:300]}")
                    return

    pool = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    stop_at[0] = time.monotonic() + 3600
    start.wait()
    started = time.monotonic()
    stop_at[0] = started + seconds
    for t in pool:
        t.join()
    finished = time.monotonic()
    results.put({"latencies": [x for per in latencies for x in per], "started": started,
                 "finished": finished, "errors": errors})  # fmt: skip
