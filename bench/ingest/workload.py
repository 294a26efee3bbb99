"""Realistic ingest traffic: the events a fleet of ``load_mail``/``load_ftp``/``consolidate`` agents ships.

50 error kinds (error type, message shape, traceback frames) x 30 suppliers = 1,500 fingerprints; each
event serialises to ~900 bytes (message + a 6-frame traceback + the usual fields). Every value that
varies from run to run (ids, paths, dates, sizes) varies here too, so normalisation does real work.
Pure: no I/O.
"""

from __future__ import annotations

import gzip
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

SUPPLIERS = [f"SUP{n:03d}" for n in range(30)]
SERVICES = ("load_mail", "load_ftp", "consolidate")
BATCH = 500
DUPLICATE_SHARE = 0.10

# (error type, message template); {n} {m} {f} {d} {h} are filled per event
_ERRORS: list[tuple[str, str]] = [
    ("ftplib.error_perm", "550 /outgoing/{sup}/prices_{d}.csv: No such file or directory (attempt {n} of 5)"),
    ("ftplib.error_perm", "530 Login incorrect for user {sup_l}@ftp{n}.supplier.example after {m} ms"),
    ("TimeoutError", "timed out after {m} ms while reading from {h}:21 (transferred {n} of {m}0 bytes)"),
    ("socket.timeout", "The read operation timed out on connection to {h} after {n}.{m} seconds"),
    ("imaplib.IMAP4.error", "b'[AUTHENTICATIONFAILED] Invalid credentials (Failure)' for box {n} at {h}"),
    ("zipfile.BadZipFile", "File is not a zip file: /var/spool/pricelens/{sup}/{f} ({n} bytes)"),
    ("UnicodeDecodeError", "'utf-8' codec can't decode byte 0x{n:02x} in position {m}: invalid start byte"),
    ("decimal.InvalidOperation", "[<class 'decimal.ConversionSyntax'>] parsing price '{n},{m}' in row {m}"),
    ("KeyError", "'article_no' missing in header of {f}, columns seen: {n} (sheet {m})"),
    ("psycopg.OperationalError", 'connection to server at "{h}" (10.0.{n}.{m}), port 5432 failed: timeout'),
]
_MODULES = ("fetch", "parse", "load", "store", "mailbox", "transfer", "sheets", "prices", "rows", "merge")
_FUNCTIONS = ("run", "fetch_file", "read_sheet", "parse_row", "convert", "upload", "login", "process_batch")


def error_kinds() -> list[dict[str, Any]]:
    """50 distinct kinds: 10 error types x 5 call paths (different frames give different fingerprints)."""
    rnd = random.Random(7)
    kinds = []
    for i in range(50):
        error_type, template = _ERRORS[i % len(_ERRORS)]
        service = SERVICES[i % len(SERVICES)]
        frames = [(rnd.choice(_MODULES), rnd.choice(_FUNCTIONS)) for _ in range(5)] + [("worker", f"job_{i}")]
        kinds.append({"service": service, "error_type": error_type, "template": template, "frames": frames})
    return kinds


def _traceback(kind: dict[str, Any], rnd: random.Random, message: str) -> str:
    lines = ["Traceback (most recent call last):"]
    for mod, fn in kind["frames"]:
        path = f"/srv/{kind['service']}/{mod}.py"
        lines.append(f'  File "{path}", line {rnd.randint(10, 900)}, in {fn}')
        lines.append(f"    return {fn}(src, {rnd.randint(1, 99)})")
    lines.append(f"{kind['error_type']}: {message}")
    return "\n".join(lines)


def make_event(
    kind: dict[str, Any], supplier: str, event_id: str, rnd: random.Random, at: datetime
) -> dict[str, Any]:
    day = (at - timedelta(days=rnd.randint(0, 3))).strftime("%Y%m%d")
    values = {
        "sup": supplier,
        "sup_l": supplier.lower(),
        "n": rnd.randint(1, 250),
        "m": rnd.randint(100, 99999),
        "d": day,
        "f": f"{supplier}_prices_{day}_{rnd.randint(1, 9)}.xlsx",
        "h": f"ftp{rnd.randint(1, 9)}.{supplier.lower()}.example",
    }
    message = kind["template"].format(**values)
    return {
        "service": kind["service"],
        "level": "ERROR",
        # shipped a few seconds after it happened: an investigation's last_seen moves on every event
        "timestamp": (at - timedelta(milliseconds=rnd.randint(0, 5000))).isoformat(),
        "event_id": event_id,
        "error_type": kind["error_type"],
        "message": message,
        "traceback": _traceback(kind, rnd, message),
        "supplier": supplier,
        "file": values["f"],
        "host": f"{kind['service'].replace('_', '')}-{rnd.randint(1, 4):02d}",
        "logger": f"{kind['service']}.{kind['frames'][0][0]}",
    }


def batches(worker: int, count: int, *, size: int = BATCH, seed: int = 0) -> list[list[dict[str, Any]]]:
    """``count`` batches of ``size`` events for one client; 10 % of each batch re-sends earlier event_ids.

    Re-sent ids come from this worker's previous batch (already committed when it is re-sent, as after
    an agent retry whose response was lost); the first batch repeats ids from within itself.
    """
    rnd = random.Random(seed * 1000 + worker)
    kinds = error_kinds()
    now = datetime.now(UTC)
    dup = int(size * DUPLICATE_SHARE)
    out: list[list[dict[str, Any]]] = []
    serial = 0
    for number in range(count):
        at = now + timedelta(milliseconds=100 * number)  # later batches carry later events
        fresh = []
        for _ in range(size - dup):
            kind = rnd.choice(kinds)
            supplier = rnd.choice(SUPPLIERS)
            fresh.append(make_event(kind, supplier, f"w{worker}-s{seed}-{serial:08d}", rnd, at))
            serial += 1
        source = out[-1] if out else fresh
        resent = [dict(e) for e in rnd.sample(source, dup)]
        batch = fresh + resent
        rnd.shuffle(batch)
        out.append(batch)
    return out


def gzip_body(payload: Any) -> bytes:
    """The body as the agent sends it: orjson, gzip level 6."""
    return gzip.compress(orjson.dumps(payload), compresslevel=6)


def copy_row(
    event: dict[str, Any], fingerprint: str, investigation_id: int, received_at: datetime
) -> tuple[Any, ...]:
    """The same event as a row of the baseline table (the columns ``pricelens_event`` stores)."""
    return (
        event["event_id"], investigation_id, received_at, datetime.fromisoformat(event["timestamp"]),
        event["service"], "error", event["host"], event["level"], event["logger"], event["message"],
        event["error_type"], event["traceback"], event["supplier"], event["file"], fingerprint,
        "{}", False,
    )  # fmt: skip
