"""Seed a realistic volume for the dashboard benchmark with COPY: 10,000 investigations whose event counts
follow a long tail (a few with ~17k events, most with a few dozen), 1,000,000 events spread between each
investigation's first and last sighting over 90 days, 300 suppliers x 60 days of ``supplier_day``."""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, datetime, timedelta

import psycopg

SERVICES = ["load_mail", "load_ftp", "consolidate", "analysis"]
KINDS = [
    "error",
    "error",
    "error",
    "file_rejected",
    "row_drop",
    "reject_spike",
    "price_jump",
    "stale_supplier",
]
STATUSES = ["open"] * 6 + ["acknowledged"] + ["resolved"] * 2 + ["ignored"]
ERRORS = [
    ("ftplib.error_perm", "550 /outgoing/prices_{n}.csv: No such file"),
    ("zipfile.BadZipFile", "File is not a zip file: attachment_{n}.zip"),
    ("ValueError", "could not convert string to float: 'N/A' in row {n}"),
    ("TimeoutError", "timed out after 30 s talking to mail.supplier{n}.example"),
    ("KeyError", "'price' missing in sheet {n}"),
]
TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/srv/{svc}/main.py", line 120, in run\n    process(batch)\n'
    '  File "/srv/{svc}/parse.py", line 88, in process\n    row = parse_row(line)\n'
    '  File "/srv/{svc}/parse.py", line 41, in parse_row\n    price = float(cols[3])\n'
    "{etype}: {msg}\n"
)


def event_counts(n_investigations: int, n_events: int) -> list[int]:
    weights = [1 / (i + 5) ** 0.9 for i in range(n_investigations)]
    scale = n_events / sum(weights)
    counts = [max(1, int(w * scale)) for w in weights]
    counts[0] += n_events - sum(counts)
    return counts


def seed(dsn: str, *, investigations: int = 10_000, events: int = 1_000_000, seed_value: int = 7) -> None:
    rng = random.Random(seed_value)
    now = datetime.now(UTC).replace(microsecond=0)
    counts = event_counts(investigations, events)
    rng.shuffle(counts)
    suppliers = [f"SUP{n:04d}" for n in range(300)]
    spans: list[tuple[datetime, datetime]] = []
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cols = (
            "id, fingerprint, fingerprint_parts, kind, service, supplier, title, culprit, status, regressed, "
            "level, first_seen, last_seen, event_count, assignee, resolved_at"
        )
        with cur.copy(f"COPY pricelens_investigation ({cols}) FROM STDIN") as copy:
            for i in range(investigations):
                etype, template = ERRORS[i % len(ERRORS)]
                service, kind, supplier = rng.choice(SERVICES), rng.choice(KINDS), rng.choice(suppliers)
                status = rng.choice(STATUSES)
                last = now - timedelta(seconds=int(rng.expovariate(1 / (86400 * 10))) % (86400 * 89))
                first = last - timedelta(seconds=rng.randint(60, 86400 * 60))
                first = max(first, now - timedelta(days=90))
                spans.append((first, last))
                parts = [service, kind, supplier, etype, template.split(":")[0] + f" #{i}"]
                copy.write_row(
                    (
                        i + 1, hashlib.sha256(json.dumps(parts).encode()).hexdigest(), json.dumps(parts), kind,
                        service, supplier, f"{etype}: {template.format(n=i)}"[:300], f"{service}.parse", status,
                        status == "open" and i % 17 == 0, "ERROR", first, last, counts[i],
                        rng.choice([None, None, "ada", "bob"]), last if status == "resolved" else None,
                    )
                )  # fmt: skip
        cur.execute("SELECT setval('pricelens_investigation_id_seq', %s)", (investigations,))
        cols = (
            "event_id, investigation_id, received_at, occurred_at, service, kind, host, level, logger, "
            "message, error_type, traceback, supplier, file, fingerprint, extra, truncated"
        )
        n = 0
        with cur.copy(f"COPY pricelens_event ({cols}) FROM STDIN") as copy:
            for i, count in enumerate(counts):
                first, last = spans[i]
                span = max(1, int((last - first).total_seconds()))
                etype, template = ERRORS[i % len(ERRORS)]
                svc = SERVICES[i % len(SERVICES)]
                for k in range(count):
                    at = last if k == 0 else first + timedelta(seconds=rng.randrange(span))
                    msg = template.format(n=k)
                    copy.write_row(
                        (
                            f"ev{n:09d}", i + 1, at, at, svc, "error", f"host-{i % 40}", "ERROR", f"{svc}.parse",
                            msg, etype, TRACEBACK.format(svc=svc, etype=etype, msg=msg) if k % 2 == 0 else None,
                            f"SUP{i % 300:04d}", f"prices_{k}.csv", "f" * 64, '{"attempt": 1}', False,
                        )
                    )  # fmt: skip
                    n += 1
        with cur.copy(
            "COPY pricelens_supplier_day (supplier, day, loads, loads_failed, rows_total, rows_loaded, "
            "rows_rejected, last_load_at, last_success_at, skus_compared, skus_changed, price_change_share, "
            "expected, findings, computed_at) FROM STDIN"
        ) as copy:
            for supplier in suppliers:
                for d in range(60):
                    day = (now - timedelta(days=60 - d)).date()
                    loaded = rng.randint(8000, 12000)
                    at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=6)
                    copy.write_row(
                        (
                            supplier, day, 2, rng.choice([0] * 9 + [1]), loaded + 200, loaded, 200, at, at, 500,
                            rng.randint(0, 30), rng.random() * 0.06, True, "[]", now,
                        )
                    )  # fmt: skip
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
