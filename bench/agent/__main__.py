"""Benchmark: pricelens-agent vs syslog-ng vs grep on one realistic log, plus idle CPU and latency.

    .venv/bin/python -m bench.agent [--lines N | --large] [--idle-seconds S] [--latency-seconds S]
                                    [--skip-collector] [--skip-syslog-ng] [--write-results]

Every contender is measured from a cold start to the last error record acknowledged (wall seconds),
with the CPU seconds and peak RSS of its process read from /proc just before it is stopped.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench.agent.logfile import write_log
from tests.agent.sink import Sink

ROOT = Path(__file__).resolve().parents[2]
TICKS = os.sysconf("SC_CLK_TCK")
SYSLOG_NG_CONF = """@version: 3.38
options {{ stats-freq(0); keep-hostname(yes); chain-hostnames(no); use-dns(no); log-msg-size(65536); }};
source s_app {{ file("{log}" follow-freq(1) flags(no-parse) log-fetch-limit(1000) log-iw-size(100000)); }};
filter f_error {{ message(" ERROR " type(string) flags(substring)); }};
destination d_http {{ http(url("{url}/api/v1/pricelens/log_event/") method("POST")
   headers("Content-Type: application/json") batch-lines(500) batch-timeout(1000)
   body-prefix("[") delimiter(",") body-suffix("]")
   body("$(format-json --scope none message=$MESSAGE)") log-fifo-size(200000) persist-name("d_http")); }};
log {{ source(s_app); filter(f_error); destination(d_http); flags(flow-control); }};
"""


@dataclass
class Figure:
    name: str
    wall: float
    cpu: float
    rss_mb: float
    note: str = ""


def proc_usage(pid: int) -> tuple[float, float]:
    """CPU seconds (user+system) and peak RSS in MB of a live process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICKS
    hwm = next(
        line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmHWM")
    )
    return cpu, int(hwm.split()[1]) / 1024


def time_command(cmd: list[str], **kw: object) -> tuple[Figure, str]:
    fd, out = tempfile.mkstemp()
    os.close(fd)
    start = time.perf_counter()
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%U %S %M", "-o", out, *cmd],
        capture_output=True,
        text=True,
        **kw,  # type: ignore[call-overload]
    )
    wall = time.perf_counter() - start
    user, system, rss = Path(out).read_text().split()[-3:]
    os.unlink(out)
    return Figure(cmd[0], wall, float(user) + float(system), int(rss) / 1024), result.stdout


def run_until(
    cmd: list[str],
    done: Callable[[], bool],
    timeout: float,
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
) -> tuple[Figure, subprocess.Popen[bytes]]:
    """Start `cmd`, wait for `done()`, return wall/CPU/RSS at that moment (process left running)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
    while not done():
        if proc.poll() is not None:
            raise RuntimeError(
                f"{cmd[0]} exited: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}"
            )
        if time.perf_counter() - start > timeout:
            proc.kill()
            raise RuntimeError(f"{cmd[0]} did not finish in {timeout}s")
        time.sleep(0.005)
    wall = time.perf_counter() - start
    cpu, rss = proc_usage(proc.pid)
    return Figure(cmd[0], wall, cpu, rss), proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def agent_config(work: Path, url: str, token: str, log: Path, **extra: object) -> Path:
    state = work / "state"
    shutil.rmtree(state, ignore_errors=True)
    config = {
        "collector": {"url": url, "token": token},
        "state_dir": str(state),
        "hostname": "bench",
        "sources": [
            {
                "service": "load_ftp",
                "paths": [str(log)],
                "min_level": "ERROR",
                "supplier_pattern": r"supplier=(?P<supplier>\w+)",
            }
        ],
        **extra,
    }
    path = work / "agent.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def agent_cmd(config: Path) -> list[str]:
    return [sys.executable, "-m", "agent.cli", "run", "--config", str(config)]


def bench_sink(work: Path, log: Path, errors: int, idle_seconds: float) -> tuple[Figure, float | None]:
    sink = Sink(keep_events=False)
    try:
        config = agent_config(work, sink.url, "t", log)
        fig, proc = run_until(agent_cmd(config), lambda: sink.count() >= errors, 300)
        fig.name = "agent → sink"
        idle = None
        if idle_seconds:
            before, _ = proc_usage(proc.pid)
            time.sleep(idle_seconds)
            after, rss = proc_usage(proc.pid)
            idle = (after - before) / idle_seconds * 100
            fig.rss_mb = max(fig.rss_mb, rss)
        stop(proc)
        return fig, idle
    finally:
        sink.close()


def bench_syslog_ng(work: Path, log: Path, errors: int) -> Figure:
    sink = Sink(keep_events=False)
    try:
        d = work / "sng"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir()
        conf = d / "peer.conf"
        conf.write_text(SYSLOG_NG_CONF.format(log=log, url=sink.url))
        cmd = [
            "syslog-ng",
            "-F",
            "-e",
            "-f",
            str(conf),
            f"--persist-file={d}/sng.persist",
            f"--pidfile={d}/sng.pid",
            f"--control={d}/sng.ctl",
        ]
        fig, proc = run_until(cmd, lambda: sink.received >= errors, 300)
        fig.name = "syslog-ng → sink"
        fig.note = "ERROR lines only; tracebacks not framed"
        stop(proc)
        return fig
    finally:
        sink.close()


def bench_collector(work: Path, log: Path, errors: int, latency_seconds: float) -> tuple[Figure, list[float]]:
    import sqlalchemy as sa

    from collector.migrate import upgrade
    from tests.live import LiveCollector
    from tests.pg import fresh_database

    with fresh_database("pl_bench") as url:
        upgrade(url)
        live = LiveCollector(url, work)
        live.create_tokens()
        live.start()
        try:

            def count() -> int:
                with live.engine.connect() as conn:
                    return int(conn.execute(sa.text("SELECT count(*) FROM pricelens_event")).scalar_one())

            config = agent_config(work, live.url, live.ingest_token, log)
            fig, proc = run_until(agent_cmd(config), lambda: count() >= errors, 600)
            fig.name = "agent → collector"
            fig.note = "Postgres rows, not only HTTP acks"
            stop(proc)
            latencies = measure_latency(work, live, latency_seconds) if latency_seconds else []
            return fig, latencies
        finally:
            live.close()


def measure_latency(work: Path, live: object, seconds: float) -> list[float]:
    """Write 100 error records/s; latency = row's received_at minus the write time in the record."""
    import sqlalchemy as sa

    log = work / "latency.log"
    log.write_text("")
    config = agent_config(work, live.url, live.ingest_token, log)  # type: ignore[attr-defined]
    proc = subprocess.Popen(agent_cmd(config), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    time.sleep(2.0)
    total = int(seconds * 100)

    def writer() -> None:
        with log.open("a", buffering=1) as f:
            start = time.perf_counter()
            for i in range(total):
                now = time.time()
                ts = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now)) + f",{int(now % 1 * 1000):03d}"
                f.write(f"{ts} - lat - ERROR - latency probe {i} written={now:.6f} supplier=lat\n")
                time.sleep(max(0.0, start + (i + 1) / 100 - time.perf_counter()))

    thread = threading.Thread(target=writer)
    thread.start()
    thread.join()
    engine = live.engine  # type: ignore[attr-defined]
    query = sa.text("SELECT message, received_at FROM pricelens_event WHERE supplier = 'lat'")
    deadline = time.monotonic() + 60
    rows: list[tuple[str, object]] = []
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            rows = list(conn.execute(query))
        if len(rows) >= total:
            break
        time.sleep(0.2)
    stop(proc)
    out = []
    for message, received in rows:
        written = float(str(message).split("written=")[1].split()[0])
        out.append(received.timestamp() - written)  # type: ignore[attr-defined]
    return sorted(out)


def percentile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.agent")
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--large", action="store_true", help="5M lines (~600 MB)")
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--skip-collector", action="store_true")
    parser.add_argument("--skip-syslog-ng", action="store_true")
    parser.add_argument(
        "--write-results", action="store_true", help="append the figures to bench/results/agent.md"
    )
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    lines = 5_000_000 if args.large else args.lines
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-agent-"))
    work.mkdir(parents=True, exist_ok=True)
    log = work / "service.log"
    errors = write_log(log, lines)
    size_mb = log.stat().st_size / 1e6
    print(f"log: {lines} lines, {size_mb:.0f} MB, {errors} error records ({errors // 2} with tracebacks)")
    subprocess.run(["cat", str(log)], stdout=subprocess.DEVNULL, check=True)

    grep, out = time_command(["sh", "-c", f"LC_ALL=C grep -c ' ERROR ' {log} | cat"])
    grep.name = "grep -c ' ERROR '"
    assert int(out.strip()) == errors, out
    reading, out = time_command([sys.executable, "-m", "bench.agent.reading", str(log)], cwd=ROOT)
    framed, stage_wall = out.split()
    assert int(framed) == errors, out
    reading.name = "agent reading stage"
    reading.note = f"in-process {float(stage_wall):.3f} s excl. interpreter start"
    figures = [grep, reading]
    sink_fig, idle = bench_sink(work, log, errors, args.idle_seconds)
    figures.append(sink_fig)
    if not args.skip_syslog_ng and shutil.which("syslog-ng"):
        figures.append(bench_syslog_ng(work, log, errors))
    latencies: list[float] = []
    if not args.skip_collector:
        coll_fig, latencies = bench_collector(work, log, errors, args.latency_seconds)
        figures.append(coll_fig)

    report = [
        f"machine: {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()}",
        f"log: {lines} lines, {size_mb:.0f} MB, {errors} ERROR records, half with tracebacks",
        "",
        "| run | wall s | CPU s | peak RSS MB | note |",
        "|---|---:|---:|---:|---|",
    ]
    report += [f"| {f.name} | {f.wall:.3f} | {f.cpu:.3f} | {f.rss_mb:.1f} | {f.note} |" for f in figures]
    report.append("")
    stage = float(stage_wall)
    report.append(
        f"reading stage vs grep: {grep.wall / stage * 100:.0f} % of grep's speed by wall "
        f"({size_mb / stage:.0f} MB/s vs {size_mb / grep.wall:.0f} MB/s), "
        f"{grep.cpu / reading.cpu * 100:.0f} % by CPU seconds of whole processes; goal >= 20 %"
    )
    peer = next((f for f in figures if f.name.startswith("syslog-ng")), None)
    if peer:
        report.append(
            f"agent/syslog-ng: wall {sink_fig.wall / peer.wall:.2f}x, CPU {sink_fig.cpu / peer.cpu:.2f}x, "
            f"RSS {sink_fig.rss_mb / peer.rss_mb:.2f}x (goal: wall and CPU < 1)"
        )
    if idle is not None:
        report.append(f"idle CPU over {args.idle_seconds:.0f} s: {idle:.3f} % of a core (goal < 1 %)")
    if latencies:
        report.append(
            f"latency at 100 records/s over {args.latency_seconds:.0f} s ({len(latencies)} records): "
            f"p50 {percentile(latencies, 0.5):.3f} s, p99 {percentile(latencies, 0.99):.3f} s, "
            f"max {latencies[-1]:.3f} s (goal p50 < 1 s, p99 < 2 s); mean {statistics.mean(latencies):.3f}"
        )
    text = "\n".join(report)
    print(text)
    if args.write_results:
        results = ROOT / "bench" / "results" / "agent.md"
        header = (
            ""
            if results.exists()
            else "# pricelens-agent benchmark results\n\nProduced by `python -m bench.agent`.\n"
        )
        with results.open("a") as f:
            f.write(f"{header}\n## {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n\n{text}\n")


if __name__ == "__main__":
    main()
