"""The agent's batches, exactly as the shipper sends them, validate against the collector's request model."""

from __future__ import annotations

import gzip
import logging
import re
from pathlib import Path

import httpx

from agent.config import ShippingConfig
from agent.errordirs import ErrorDirs
from agent.framing import Framer
from agent.identity import event_id
from agent.parsing import DEFAULT_LAYOUT, LEVELS, Parser, ParseSpec, layout_regex, line_format
from agent.shipper import Shipper
from agent.spool import Spool
from collector.schemas import EventBatchIn
from tests.agent.harness import log_error, python_logger


def spec(kind: str, pattern: str | None = None) -> ParseSpec:
    first = (
        re.compile(layout_regex(DEFAULT_LAYOUT))
        if kind == "python"
        else (re.compile(pattern) if pattern else None)
    )
    return ParseSpec(
        service="load_ftp",
        host="h",
        kind=kind,
        first_line=first,
        supplier_pattern=re.compile(r"supplier=(?P<supplier>\w+)"),
        supplier_from_path=re.compile(r"(?P<supplier>[^/_]+)_[^/]*$"),
        file_pattern=re.compile(r"(?P<file>[\w.-]+\.xlsx)"),
        default_level="ERROR",
    )


def events_from(tmp_path: Path, kind: str, data: bytes, pattern: str | None = None) -> list[bytes]:
    import orjson

    fmt = line_format(kind, layout=DEFAULT_LAYOUT, pattern=pattern, min_level=LEVELS["WARNING"])
    framer = Framer(fmt, LEVELS["WARNING"], 0, 4096)
    records = framer.feed(data) + framer.flush(final=True)
    parser = Parser(spec(kind, pattern))
    return [
        orjson.dumps(parser.parse(r, event_id=event_id("h", "load_ftp", "i", r.offset), path=str(tmp_path)))
        for r in records
    ]


def golden_batch(tmp_path: Path) -> list[bytes]:
    log_path = tmp_path / "real.log"
    handler = logging.FileHandler(log_path)
    log = python_logger("contract.real", handler)
    log.warning("low stock supplier=acme")
    log_error(log, "rec-1", True)
    log_error(log, "rec-2", False)
    handler.close()
    bodies = events_from(tmp_path, "python", log_path.read_bytes())
    bodies += events_from(
        tmp_path, "python", b"2024-05-01 12:00:00,000 - x - ERROR - caf\xe9 \xff " + b"y" * 9000 + b"\n"
    )
    bodies += events_from(
        tmp_path,
        "json",
        b'{"level": "error", "message": "m", "time": "2024-05-01T12:00:00",'
        b' "exc_info": "Traceback (most recent call last):\\n  x\\nOSError: e"}\n',
    )
    bodies += events_from(
        tmp_path, "regex", b"[error] broken supplier=zeta\n", r"\[(?P<level>\w+)\] (?P<message>.*)"
    )
    errors = tmp_path / "errors"
    errors.mkdir()
    (errors / "acme_0501.xlsx").write_bytes(b"PK")
    (errors / "acme_0501.xlsx.err").write_text("sheet missing")
    spool = Spool(tmp_path / "s.sqlite3", 1 << 30)
    dirs = ErrorDirs(
        service="load_mail",
        host="h",
        dirs=(str(errors),),
        reason_suffixes=(".err",),
        send_existing=True,
        parser=Parser(spec("python")),
        spool=spool,
        settle=0,
    )
    assert dirs.scan()[0] == 1
    bodies += [s.body for s in spool.batch(10, 1 << 20)]
    return bodies


def test_shipped_batch_validates_against_event_batch_in(tmp_path: Path) -> None:
    bodies = golden_batch(tmp_path)
    spool = Spool(tmp_path / "ship.sqlite3", 1 << 30)
    spool.commit_read(
        service="s",
        identity="i",
        path="/p",
        offset=0,
        size=0,
        tail=b"",
        events=[(f"e{i}", b) for i, b in enumerate(bodies)],
        fp_len=1024,
    )
    sent: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(gzip.decompress(request.content))
        return httpx.Response(
            200, json={"accepted": len(bodies), "duplicates": 0, "rejected": [], "investigations": []}
        )

    shipper = Shipper(
        client=httpx.Client(transport=httpx.MockTransport(handler)),
        spool=spool,
        url="http://c",
        token="t",
        config=ShippingConfig(),
    )
    assert shipper.deliver_once().settled == len(bodies)
    batch = EventBatchIn.model_validate_json(sent[0])
    assert len(batch.events) == len(bodies) == 7
    kinds = {e.kind for e in batch.events}
    assert kinds == {"error", "file_rejected"}
    by_type = {e.error_type for e in batch.events}
    assert {"ValueError", "OSError"} <= by_type
    assert all(e.event_id and e.service and e.message for e in batch.events)
    assert sum(e.timestamp is not None for e in batch.events) == 6
    assert not (batch.events[0].model_extra or {})


def test_heartbeat_validates_against_the_collector_model(tmp_path: Path) -> None:
    from agent.heartbeat import heartbeat_body
    from agent.status import snapshot
    from collector.api.agents import Heartbeat

    spool = Spool(tmp_path / "hb.sqlite3", 1 << 20)
    spool.commit_read(
        service="s",
        identity="i",
        path=str(tmp_path / "gone.log"),
        offset=10,
        size=30,
        tail=b"",
        events=[("e", b"{}")],
        fp_len=1024,
    )
    body = heartbeat_body(snapshot(hostname="h", version="1", spool=spool, shipper=None))
    beat = Heartbeat.model_validate(body)
    assert (beat.lag_bytes, beat.spool_depth, beat.files[0]["offset"]) == (20, 1, 10)
