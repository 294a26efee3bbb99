"""Factories for events as services send them (``make_event(**overrides)``)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from collector.schemas import EventIn

_ids = itertools.count(1)

FTP_TRACEBACK = """Traceback (most recent call last):
  File "/srv/load_ftp/load_ftp/fetch.py", line 88, in fetch_pricelist
    ftp.retrbinary(f"RETR {remote}", out.write)
  File "/usr/lib/python3.11/ftplib.py", line 436, in retrbinary
    with self.transfercmd(cmd, rest) as conn:
  File "/usr/lib/python3.11/ftplib.py", line 393, in transfercmd
    return self.ntransfercmd(cmd, rest)[0]
ftplib.error_perm: 550 /outgoing/prices_20240301.csv: No such file or directory"""


def event_dict(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "service": "load_ftp",
        "message": "550 /outgoing/prices_20240301.csv: No such file or directory",
        "level": "ERROR",
        "timestamp": datetime(2026, 11, 20, 8, 0, tzinfo=UTC).isoformat(),
        "event_id": f"ev-{next(_ids)}",
        "error_type": "ftplib.error_perm",
        "supplier": "ACME",
        "file": "prices_20240301.csv",
        "host": "ftp01",
        "logger": "load_ftp.fetch",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def make_event(**overrides: Any) -> EventIn:
    return EventIn.model_validate(event_dict(**overrides))
