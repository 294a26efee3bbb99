"""Collector misbehaviour and bad input, against the real agent process and a real HTTP sink."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.agent.harness import AgentRun, wait_until
from tests.agent.sink import Sink

NO_DAC_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
LINE = "2024-05-01 12:00:00,000 - svc - ERROR - load failed {tag} supplier=acme\n"


@pytest.fixture
def sink() -> Iterator[Sink]:
    s = Sink()
    yield s
    s.close()


@pytest.fixture
def logdir(tmp_path: Path) -> Path:
    d = tmp_path / "logs"
    d.mkdir()
    return d


@pytest.fixture
def agents() -> Iterator[list[AgentRun]]:
    runs: list[AgentRun] = []
    yield runs
    for run in runs:
        if run.running():
            run.stop()


def start(
    agents: list[AgentRun], tmp_path: Path, sink: Sink, sources: list[dict[str, Any]], **kw: Any
) -> AgentRun:
    run = AgentRun(tmp_path, sink.url, "tok", sources, **kw)
    agents.append(run)
    return run.start()


def write(path: Path, *tags: str) -> None:
    with open(path, "a") as f:
        f.write("".join(LINE.format(tag=t) for t in tags))


def tags(sink: Sink) -> set[str]:
    return {e["message"].split()[2] for e in sink.snapshot().values() if e.get("kind") == "error"}


@pytest.mark.parametrize(("mode", "retry_after"), [("503", "1"), ("429", "1"), ("html", None), ("500", None)])
def test_collector_answers_badly_then_recovers(
    tmp_path: Path, logdir: Path, sink: Sink, agents: list[AgentRun], mode: str, retry_after: str | None
) -> None:
    sink.set(mode, retry_after)
    run = start(agents, tmp_path, sink, [{"service": "svc", "paths": [str(logdir / "*.log")]}])
    write(logdir / "a.log", "r1", "r2", "r3")
    wait_until(lambda: len(sink.requests) >= 2, 10, "retries")
    assert sink.count() == 0
    wait_until(lambda: run.status()["last_error"] is not None, 10, "the error in the status")
    assert run.status()["spool"]["events"] == 3
    sink.set("ok")
    wait_until(lambda: tags(sink) == {"r1", "r2", "r3"}, 15, "delivery after recovery")
    if retry_after:
        times = [t for p, t in sink.requests if p.endswith("/log_event/")]
        assert len(times) <= 10


def test_hanging_collector_times_out_and_retries(
    tmp_path: Path, logdir: Path, sink: Sink, agents: list[AgentRun]
) -> None:
    sink.hang_seconds = 3.0
    sink.set("hang")
    run = start(
        agents,
        tmp_path,
        sink,
        [{"service": "svc", "paths": [str(logdir / "*.log")]}],
        collector={"timeout": 0.5},
    )
    write(logdir / "a.log", "h1")
    wait_until(lambda: "ReadTimeout" in (run.status()["last_error"] or ""), 15, "a timeout to be reported")
    sink.set("ok")
    wait_until(lambda: tags(sink) == {"h1"}, 15, "delivery after the hang")


def test_token_refused_pauses_then_resumes(
    tmp_path: Path, logdir: Path, sink: Sink, agents: list[AgentRun]
) -> None:
    sink.token = "other"
    run = start(agents, tmp_path, sink, [{"service": "svc", "paths": [str(logdir / "*.log")]}])
    write(logdir / "a.log", "t1")
    wait_until(lambda: bool(run.status().get("paused")), 10, "the pause")
    assert "token" in run.status()["paused"]
    assert "refused the token" in run.log()
    sink.token = "tok"
    wait_until(lambda: tags(sink) == {"t1"}, 15, "delivery with the right token")


def test_rejected_events_become_dead_letters(
    tmp_path: Path, logdir: Path, sink: Sink, agents: list[AgentRun]
) -> None:
    sink.reject = lambda e: "message: refused for the test" if "bad" in e["message"] else None
    run = start(agents, tmp_path, sink, [{"service": "svc", "paths": [str(logdir / "*.log")]}])
    write(logdir / "a.log", "good1", "bad1", "good2")
    wait_until(lambda: tags(sink) == {"good1", "good2"}, 15, "the good events")
    wait_until(lambda: run.status()["dead_letters"]["count"] == 1, 10, "the dead letter")
    status = run.status()
    assert status["spool"]["events"] == 0
    assert "refused for the test" in status["dead_letters"]["recent"][0]["error"]
    assert "dead letters: 1" in run.command("status").stdout


def test_413_splits_batches(tmp_path: Path, logdir: Path, sink: Sink, agents: list[AgentRun]) -> None:
    sink.max_events = 7
    start(agents, tmp_path, sink, [{"service": "svc", "paths": [str(logdir / "*.log")]}])
    write(logdir / "a.log", *[f"s{i}" for i in range(50)])
    wait_until(lambda: len(tags(sink)) == 50, 20, "all events through a 7-event limit")


def test_sigterm_flushes_and_persists(
    tmp_path: Path, logdir: Path, sink: Sink, agents: list[AgentRun]
) -> None:
    run = start(
        agents,
        tmp_path,
        sink,
        [{"service": "svc", "paths": [str(logdir / "*.log")]}],
        shipping={"batch_age": 30.0},
    )
    write(logdir / "a.log", "g1", "g2")
    time.sleep(1.0)
    assert sink.count() == 0
    assert run.stop() == 0
    assert tags(sink) == {"g1", "g2"}
    sink.set("503")
    run.start()
    write(logdir / "a.log", "g3")
    time.sleep(1.0)
    assert run.stop() == 0
    assert run.status()["spool"]["events"] == 1
    sink.set("ok")
    run.start()
    assert run.stop() == 0
    assert tags(sink) == {"g1", "g2", "g3"}


def test_heartbeats_carry_files_and_spool(
    tmp_path: Path, logdir: Path, sink: Sink, agents: list[AgentRun]
) -> None:
    write(logdir / "a.log", "hb1")
    start(agents, tmp_path, sink, [{"service": "svc", "paths": [str(logdir / "*.log")]}])
    wait_until(lambda: len(sink.heartbeats) >= 2, 10, "heartbeats")
    hb = sink.heartbeats[-1]
    assert hb["hostname"] == "test-host"
    assert set(hb) >= {"version", "files", "lag_bytes", "spool_depth", "dead_letters", "last_error"}
    assert hb["files"][0]["path"].endswith("a.log") and hb["files"][0]["lag_bytes"] == 0


def test_bad_paths_are_reported_and_the_rest_keeps_going(
    tmp_path: Path, logdir: Path, sink: Sink, agents: list[AgentRun]
) -> None:
    (logdir / "dir.log").mkdir()
    (logdir / "secret.log").write_text(LINE.format(tag="secret1"))
    write(logdir / "ok.log", "ok1")
    later = tmp_path / "later" / "logs"
    os.chmod(logdir / "secret.log", 0)
    run = AgentRun(
        tmp_path,
        sink.url,
        "tok",
        [
            {"service": "svc", "paths": [str(logdir / "*.log")]},
            {"service": "late", "paths": [str(later / "*.log")]},
        ],
    )
    run.wrapper = NO_DAC_OVERRIDE
    agents.append(run)
    run.start()
    wait_until(lambda: tags(sink) == {"ok1"}, 15, "the readable file")
    log = run.log()
    assert "dir.log matches the log paths but is a directory" in log
    assert "cannot open" in log and "secret.log" in log and "Permission denied" in log
    later.mkdir(parents=True)
    write(later / "x.log", "late1")
    wait_until(lambda: tags(sink) == {"ok1", "late1"}, 15, "the directory that appeared later")
    os.chmod(logdir / "secret.log", 0o644)
    wait_until(lambda: tags(sink) == {"ok1", "late1", "secret1"}, 15, "the file once readable")


@pytest.mark.slow
def test_fifty_megabyte_line_and_binary_garbage(
    tmp_path: Path, logdir: Path, sink: Sink, agents: list[AgentRun]
) -> None:
    with open(logdir / "a.log", "wb") as f:
        f.write(LINE.format(tag="before").encode())
        f.write(b"2024-05-01 12:00:00,000 - svc - ERROR - load failed huge " + b"z" * (50 << 20) + b"\n")
        f.write(os.urandom(1 << 20) + b"\n")
        f.write(LINE.format(tag="after").encode())
    run = start(agents, tmp_path, sink, [{"service": "svc", "paths": [str(logdir / "*.log")]}])
    wait_until(lambda: tags(sink) >= {"before", "huge", "after"}, 60, "records around the huge line")
    huge = next(e for e in sink.snapshot().values() if "huge" in e["message"])
    assert huge["extra"]["truncated"] is True
    assert len(huge["message"]) <= 512 * 1024
    assert run.running()


def test_malformed_config_is_named(tmp_path: Path) -> None:
    run = AgentRun(
        tmp_path,
        "http://127.0.0.1:9",
        "tok",
        [{"service": "svc", "paths": ["/x/*.log"], "min_level": "LOUD"}],
    )
    result = run.command("check-config")
    assert result.returncode == 2
    assert "sources[0].min_level: unknown level 'LOUD'" in result.stderr
    run.config_path.write_text("collector: {url: http://x\n")
    result = run.command("run")
    assert result.returncode == 2 and "not valid YAML" in result.stderr


def test_check_config_with_collector(tmp_path: Path, sink: Sink) -> None:
    run = AgentRun(tmp_path, sink.url, "tok", [{"service": "svc", "paths": ["/x/*.log"]}])
    ok = run.command("check-config", "--collector")
    assert ok.returncode == 0, ok.stderr
    assert "accepts the token" in ok.stdout
    sink.token = "other"
    refused = run.command("check-config", "--collector")
    assert refused.returncode == 1 and "refused the token" in refused.stderr
    (tmp_path / "x").mkdir()
    down = AgentRun(tmp_path / "x", "http://127.0.0.1:9", "tok", [{"service": "svc", "paths": ["/x/*.log"]}])
    result = down.command("check-config", "--collector")
    assert result.returncode == 1 and "cannot be reached" in result.stderr


def test_error_directory_files(tmp_path: Path, sink: Sink, agents: list[AgentRun]) -> None:
    errors = tmp_path / "errors"
    errors.mkdir()
    (errors / "old_0430.xlsx").write_bytes(b"existing at first start")
    run = start(
        agents,
        tmp_path,
        sink,
        [
            {
                "service": "load_mail",
                "error_dirs": [str(errors)],
                "supplier_from_path": r"(?P<supplier>[^/_]+)_[^/]*$",
            }
        ],
    )
    wait_until(lambda: sink.count() == 1, 10, "the existing file")
    (errors / "acme_0501.xlsx.err").write_text("sheet 'Prices' missing")
    (errors / "acme_0501.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    wait_until(lambda: sink.count() == 2, 10, "the new file")
    event = next(e for e in sink.snapshot().values() if e["file"] == "acme_0501.xlsx")
    assert event["kind"] == "file_rejected" and event["level"] == "ERROR"
    assert event["message"] == "sheet 'Prices' missing"
    assert event["supplier"] == "acme"
    assert event["extra"]["size"] == 26 and len(event["extra"]["sha256"]) == 64
    os.rename(errors / "acme_0501.xlsx", errors / "acme_0501_renamed.xlsx")
    time.sleep(1.5)
    assert sink.count() == 2
    run.stop()
    run.start()
    (errors / "beta_0502.csv").write_text("a;b\n")
    wait_until(lambda: sink.count() == 3, 10, "a file after restart")
    time.sleep(1.0)
    assert sink.count() == 3


def test_truly_lost_data_is_reported(
    tmp_path: Path, logdir: Path, sink: Sink, agents: list[AgentRun]
) -> None:
    run = start(
        agents,
        tmp_path,
        sink,
        [{"service": "svc", "paths": [str(logdir / "*.log")]}],
        spool={"max_bytes": 1000},
        reading={"chunk_bytes": 4096},
    )
    sink.set("503")
    write(logdir / "a.log", *[f"l{i}" for i in range(300)])
    wait_until(lambda: run.status()["spool"]["full"], 10, "the spool to fill")
    assert run.stop() == 0
    os.unlink(logdir / "a.log")
    sink.set("ok")
    run.start()
    wait_until(lambda: run.status()["lost"]["files"] == 1, 10, "the loss to be counted")
    assert "DATA LOST" in run.log() and "a.log" in run.log()
    status = run.status()
    assert status["lost"]["bytes"] > 0
    assert "DATA LOST" in run.command("status").stdout
    wait_until(lambda: run.status()["spool"]["events"] == 0, 10, "the spooled part to be delivered")


def test_full_spool_pauses_reading_without_loss(
    tmp_path: Path, logdir: Path, sink: Sink, agents: list[AgentRun]
) -> None:
    sink.set("503")
    run = start(
        agents,
        tmp_path,
        sink,
        [{"service": "svc", "paths": [str(logdir / "*.log")]}],
        spool={"max_bytes": 3000},
        reading={"chunk_bytes": 4096},
    )
    expected = {f"b{i}" for i in range(300)}
    write(logdir / "a.log", *sorted(expected))
    wait_until(lambda: run.status()["spool"]["full"], 10, "the spool to fill")
    time.sleep(0.5)
    status = run.status()
    assert status["spool"]["events"] < 100
    assert status["files"][0]["lag_bytes"] > 0
    sink.set("ok")
    wait_until(lambda: tags(sink) == expected, 30, "every record once the collector is back")


def test_short_quiet_file_and_empty_file(
    tmp_path: Path, logdir: Path, sink: Sink, agents: list[AgentRun]
) -> None:
    (logdir / "empty.log").write_text("")
    run = start(
        agents,
        tmp_path,
        sink,
        [{"service": "svc", "paths": [str(logdir / "*.log")]}],
        reading={"rescan_interval": 30.0},
    )
    write(logdir / "short.log", "q1")
    wait_until(lambda: tags(sink) == {"q1"}, 5, "a file shorter than the fingerprint, once quiet")
    write(logdir / "empty.log", "q2")
    wait_until(lambda: tags(sink) == {"q1", "q2"}, 5, "the formerly empty file")
    assert run.running()


def test_metrics_and_health_endpoint(
    tmp_path: Path, logdir: Path, sink: Sink, agents: list[AgentRun]
) -> None:
    import httpx

    from tests.live import free_port

    port = free_port()
    write(logdir / "a.log", "m1", "m2")
    start(agents, tmp_path, sink, [{"service": "svc", "paths": [str(logdir / "*.log")]}], metrics_port=port)
    wait_until(lambda: tags(sink) == {"m1", "m2"}, 10, "delivery")

    def metrics() -> str:
        return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text

    wait_until(lambda: "pricelens_agent_delivered_total 2" in metrics(), 10, "the delivered counter")
    text = metrics()
    assert "pricelens_agent_spool_events 0" in text
    assert f'pricelens_agent_lag_bytes{{service="svc",path="{logdir / "a.log"}"}} 0' in text
    health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).json()
    assert health["files"][0]["identity"] and health["running"] is True
