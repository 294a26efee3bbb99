"""Benchmark of ingest: ``python -m bench.ingest [--quick]`` (one command, ~1 minute; --quick ~20 s).

In a fresh Postgres database it starts the real collector (``python -m collector serve``, one process, as
deployed) and, from separate client processes:

1. posts gzip batches of 500 events (1,500 fingerprints, 10 % re-sent event_ids) on several
   connections and reports events/s (accepted + duplicates over wall time);
2. posts single plain-JSON events on a few keep-alive connections for ~10 s and reports the rate and the
   p50/p99 latency;
3. measures the floor: ``COPY`` of the same rows into a plain table shaped like ``pricelens_event``.

Goals (issue 2): batch ingest >= 10 % of the COPY rate (aim 25 %); single events >= 500/s, p99 < 100 ms.
Writes ``bench/results/ingest.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import multiprocessing as mp
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.ingest.client import batch_worker, single_worker
from bench.ingest.workload import BATCH, batches, copy_row
from collector.db import create_db_engine, session_scope
from collector.migrate import upgrade
from collector.tokens import create_token
from tests.live import free_port
from tests.pg import fresh_database

RESULTS = Path(__file__).resolve().parents[1] / "results" / "ingest.md"
REPO = Path(__file__).resolve().parents[2]
NOTES_MARKER = "<!-- notes: kept across runs -->"


def start_collector(
    url: str, workdir: Path, profile: str | None, workers: int, uvicorn_args: list[str]
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "PRICELENS_DATABASE_URL": url,
        "PRICELENS_DATA_DIR": str(workdir),
        "PRICELENS_RATE_LIMIT_PER_SECOND": "0",
        "PRICELENS_MIGRATE_ON_START": "false",
    }
    cmd = [
        sys.executable,
        "-m",
        "collector",
        "serve",
        "--no-scheduler",
        "--no-dashboard",
        "--port",
        str(port),
    ]
    if workers > 1 or uvicorn_args:  # `serve` runs one process; this is the same app under uvicorn's manager
        cmd = [sys.executable, "-m", "uvicorn", "bench.ingest.server_app:create", "--factory", "--port", str(port),
               "--workers", str(workers), "--log-level", "warning", "--no-access-log", *uvicorn_args]  # fmt: skip
    if profile:
        cmd = [
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "--gil",
            "-r",
            "200",
            "-f",
            "raw",
            "-o",
            profile,
            "--",
            *cmd,
        ]
    log = (workdir / "collector.log").open("ab")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError((workdir / "collector.log").read_text()[-3000:])
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("collector did not start in 30 s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(2)  # SIGINT: uvicorn shuts down cleanly and py-spy writes its profile
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu(root: int) -> float:
    """CPU of a process and all its descendants (uvicorn workers are children of the manager)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, ppid in parents.items() if ppid in tree} - tree
        tree |= more
        grew = bool(more)
    total = 0.0
    for pid in tree:
        with contextlib.suppress(OSError):
            total += cpu_seconds(pid)
    return total


def postgres_cpu(dsn: str) -> float:
    """CPU of the Postgres backends serving the bench database (they live in the pool across runs)."""
    with psycopg.connect(dsn) as conn:
        me = conn.info.backend_pid
        pids = [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> %s", [me]
        )]  # fmt: skip
    total = 0.0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, PermissionError, ProcessLookupError):
            total += cpu_seconds(pid)
    return total


def run_batches(url: str, token: str, connections: int, per_connection: int, seed: int) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(connections + 1)
    results: Any = ctx.Queue()
    procs = [
        ctx.Process(target=batch_worker, args=(url, token, w, per_connection, seed, barrier, results))
        for w in range(connections)
    ]
    for p in procs:
        p.start()
    barrier.wait(timeout=300)
    out = [results.get(timeout=900) for _ in procs]
    for p in procs:
        p.join()
    events = sum(r["accepted"] + r["duplicates"] for r in out)
    wall = max(r["finished"] for r in out) - min(r["started"] for r in out)
    lat = sorted(x for r in out for x in r["latencies"])
    return {
        "events": events,
        "accepted": sum(r["accepted"] for r in out),
        "duplicates": sum(r["duplicates"] for r in out),
        "wall": wall,
        "rate": events / wall,
        "batch_p50": lat[len(lat) // 2],
        "batch_p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
    }


def run_singles(url: str, token: str, threads: int, seconds: float, seed: int) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    results: Any = ctx.Queue()
    proc = ctx.Process(target=single_worker, args=(url, token, threads, seconds, seed, results))
    proc.start()
    r = results.get(timeout=seconds + 300)
    proc.join()
    if r["errors"]:
        raise RuntimeError(f"single events refused: {r['errors'][:3]}")
    lat = sorted(r["latencies"])
    wall = r["finished"] - r["started"]
    return {
        "requests": len(lat),
        "wall": wall,
        "rate": len(lat) / wall,
        "p50": lat[len(lat) // 2],
        "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
        "max": lat[-1],
    }


def copy_floor(dsn: str, rows: list[tuple[Any, ...]], repeat: int = 3) -> list[float]:
    """Rows/s of each of ``repeat`` runs of ``COPY`` into a plain table with the columns of ``pricelens_event`` (no indexes)."""
    columns = (
        "event_id, investigation_id, received_at, occurred_at, service, kind, host, level, logger, message, "
        "error_type, traceback, supplier, file, fingerprint, extra, truncated"
    )
    rates = []
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE bench_copy (LIKE pricelens_event INCLUDING DEFAULTS)")
        conn.commit()
        for _ in range(repeat):
            conn.execute("TRUNCATE bench_copy")
            conn.commit()
            started = time.perf_counter()
            with conn.cursor() as cur, cur.copy(f"COPY bench_copy ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            conn.commit()
            rates.append(len(rows) / (time.perf_counter() - started))
        conn.execute("DROP TABLE bench_copy")
        conn.commit()
    return rates


def check_counts(dsn: str, expected_events: int) -> tuple[int, int]:
    with psycopg.connect(dsn) as conn:
        stored = conn.execute("SELECT count(*) FROM pricelens_event").fetchone()
        counted = conn.execute("SELECT coalesce(sum(event_count), 0) FROM pricelens_investigation").fetchone()
    assert stored is not None and counted is not None
    if not stored[0] == counted[0] == expected_events:
        raise RuntimeError(f"stored {stored[0]} events, counted {counted[0]}, expected {expected_events}")
    return stored[0], counted[0]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer batches and a shorter single-event run")
    parser.add_argument("--connections", type=int, default=3, help="concurrent batch connections")
    parser.add_argument("--single-connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1, help="collector processes (uvicorn --workers)")
    parser.add_argument(
        "--uvicorn-args", default="", help='e.g. "--loop asyncio --http h11" (runs uvicorn directly)'
    )
    parser.add_argument(
        "--profile", metavar="FILE", help="run the collector under py-spy record (collapsed stacks)"
    )
    parser.add_argument("--single-seconds", type=float, help="length of the single-event run")
    parser.add_argument("--keep-log", metavar="FILE", help="copy the collector's log here")
    parser.add_argument("--no-write", action="store_true", help="do not write bench/results/ingest.md")
    args = parser.parse_args()
    per_connection = 8 if args.quick else 30
    single_seconds = args.single_seconds or (4.0 if args.quick else 10.0)
    warm_batches = 2

    with fresh_database("pl_bench") as url, tempfile.TemporaryDirectory() as tmp:
        dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
        upgrade(url)
        engine = create_db_engine(url)
        with session_scope(engine) as session:
            token = create_token(session=session, name="bench", scope="ingest")[1]
        engine.dispose()

        # The floor: COPY of the same rows (the events of the timed run, ~900 bytes of values each).
        received = datetime.now(UTC)
        rows = [
            copy_row(e, hashlib.sha256(e["event_id"].encode()).hexdigest(), 1, received)
            for w in range(args.connections)
            for b in batches(w, per_connection, seed=2)
            for e in b
        ]
        value_bytes = statistics.mean(sum(len(str(v).encode()) for v in r) for r in rows[:2000])
        # Measured before and after the collector runs (median of 6): the machine is shared, so the floor
        # is sampled around the ingest run rather than at one moment.
        copy_rates = copy_floor(dsn, rows)

        proc, base = start_collector(
            url, Path(tmp), args.profile, args.workers, shlex.split(args.uvicorn_args)
        )
        try:
            # Warm-up (first investigations, connection pool, code paths) on its own seed: not timed.
            run_batches(base, token, args.connections, warm_batches, seed=1)
            cpu0, pg0 = tree_cpu(proc.pid), postgres_cpu(dsn)
            batch = run_batches(base, token, args.connections, per_connection, seed=2)
            cpu1, pg1 = tree_cpu(proc.pid), postgres_cpu(dsn)
            single = run_singles(base, token, args.single_connections, single_seconds, seed=3)
            cpu2, pg2 = tree_cpu(proc.pid), postgres_cpu(dsn)
        finally:
            stop(proc)
            if args.keep_log:
                shutil.copy(Path(tmp) / "collector.log", args.keep_log)
        copy_rates += copy_floor(dsn, rows)
        copy_rate = statistics.median(copy_rates)
        unique = (args.connections * (warm_batches + per_connection)) * int(BATCH * 0.9) + single["requests"]
        check_counts(dsn, unique)

    ratio = batch["rate"] / copy_rate
    # CPU per event is steadier than rates on a shared machine (other work competes for the cores).
    batch_cpu = f"collector {(cpu1 - cpu0) / batch['events'] * 1e6:.0f} µs, Postgres {(pg1 - pg0) / batch['events'] * 1e6:.0f} µs"
    single_cpu = f"collector {(cpu2 - cpu1) / single['requests'] * 1e6:.0f} µs, Postgres {(pg2 - pg1) / single['requests'] * 1e6:.0f} µs"
    load = os.getloadavg()[0]
    machine = (
        f"{os.cpu_count()} cores (shared), {platform.python_implementation()} {platform.python_version()}"
    )
    lines = [
        "# Ingest benchmark (`python -m bench.ingest" + (" --quick" if args.quick else "") + "`)",
        "",
        f"Machine: {machine}; collector: one `python -m collector serve --no-scheduler --no-dashboard` "
        "process on Postgres (same machine); clients in separate processes. Rate limit off.",
        "",
        "## Batches",
        "",
        f"{args.connections} connections x {per_connection} gzip batches of {BATCH} events "
        f"({batch['events']:,} events: {batch['accepted']:,} accepted, {batch['duplicates']:,} duplicates; "
        f"50 error kinds x 30 suppliers; ~{value_bytes:.0f} bytes of values per row).",
        "",
        "| | rate | |",
        "|---|---:|---|",
        f"| batch ingest | {batch['rate']:,.0f} events/s | batch latency p50 {batch['batch_p50'] * 1000:.0f} ms, "
        f"p99 {batch['batch_p99'] * 1000:.0f} ms |",
        f"| `COPY` floor (psycopg 3, plain table, same rows) | {copy_rate:,.0f} rows/s | median of 6 "
        f"(range {min(copy_rates):,.0f} to {max(copy_rates):,.0f}), 3 before and 3 after the ingest runs |",
        f"| **ratio** | **{ratio:.1%}** | must >= 10 %, goal 25 % |",
        "",
        f"CPU per event: {batch_cpu}.",
        "",
        "## Single events",
        "",
        f"{args.single_connections} keep-alive connections (httpx, threads), one plain-JSON event per POST, "
        f"{single['wall']:.1f} s:",
        "",
        f"- **{single['rate']:,.0f} events/s** (target >= 500/s)",
        f"- latency p50 **{single['p50'] * 1000:.1f} ms**, p99 **{single['p99'] * 1000:.1f} ms** "
        f"(target < 100 ms), max {single['max'] * 1000:.1f} ms",
        f"- CPU per event: {single_cpu}",
        "",
        f"Counts checked afterwards: every unique event stored once and counted once ({unique:,}).",
        "",
        f"Load average at the end: {load:.1f} (other work on the machine shares the 2 cores).",
        "",
        "Command: `" + shlex.join(["python", "-m", "bench.ingest", *sys.argv[1:]]) + "`",
    ]
    print("\n".join(lines))
    if not args.no_write:
        # Hand-written notes below the marker (history, what changed) survive a new run.
        notes = ""
        if RESULTS.exists() and NOTES_MARKER in RESULTS.read_text():
            notes = "\n" + NOTES_MARKER + RESULTS.read_text().split(NOTES_MARKER, 1)[1]
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text("\n".join(lines) + "\n" + notes)


if __name__ == "__main__":
    main()
