"""What the agent is doing, for people (`pricelens-agent status`) and monitors (`status.json`).

A snapshot is built from the spool (files, offsets, depth, dead letters, losses) plus, while the agent
runs, the shipper's live state. The running agent rewrites `status.json` in the state directory
atomically every `status_interval`; `status` reads the spool directly and takes the live fields from
that file, so it works whether or not the agent is running.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from agent.shipper import ShipperStatus
from agent.spool import Spool

STATUS_FILE = "status.json"


def snapshot(*, hostname: str, version: str, spool: Spool, shipper: ShipperStatus | None) -> dict[str, Any]:
    files = []
    for (service, identity), row in sorted(spool.files().items(), key=lambda kv: (kv[0][0], kv[1].path)):
        size = row.size
        try:
            st = os.stat(row.path)
            if st.st_size >= row.offset:
                size = st.st_size
        except OSError:
            pass
        files.append(
            {
                "service": service,
                "path": row.path,
                "identity": identity,
                "offset": row.offset,
                "size": size,
                "lag_bytes": max(0, size - row.offset),
                "lost": bool(row.lost),
            }
        )
    events, nbytes = spool.depth()
    dead_count, recent = spool.dead_letters(5)
    snap: dict[str, Any] = {
        "hostname": hostname,
        "version": version,
        "updated_at": _iso(time.time()),
        "files": files,
        "spool": {"events": events, "bytes": nbytes, "max_bytes": spool.max_bytes, "full": spool.is_full()},
        "dead_letters": {
            "count": dead_count,
            "recent": [{"event_id": e, "error": err, "at": _iso(at)} for e, err, at in recent],
        },
        "lost": {
            "files": int(spool.get_meta("lost_files") or 0),
            "bytes": int(spool.get_meta("lost_bytes") or 0),
        },
        "last_delivery": None,
        "last_error": None,
        "paused": None,
        "running": shipper is not None,
    }
    if shipper is not None:
        snap.update(
            last_delivery=_iso(shipper.last_delivery),
            last_error=shipper.last_error,
            last_error_at=_iso(shipper.last_error_at),
            paused=shipper.paused,
            delivered=shipper.delivered,
        )
    return snap


def write_status_file(state_dir: Path, snap: dict[str, Any]) -> None:
    target = state_dir / STATUS_FILE
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(orjson.dumps(snap, option=orjson.OPT_INDENT_2))
    os.replace(tmp, target)


def read_status_file(state_dir: Path) -> dict[str, Any] | None:
    try:
        data = orjson.loads((state_dir / STATUS_FILE).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def render(snap: dict[str, Any]) -> str:
    lines = [f"pricelens-agent {snap['version']} on {snap['hostname']}"]
    lines.append(f"files ({len(snap['files'])}):")
    for f in snap["files"]:
        lost = "  LOST" if f["lost"] else ""
        lines.append(
            f"  [{f['service']}] {f['path']}  identity={f['identity']}  offset={f['offset']}"
            f"  size={f['size']}  lag={f['lag_bytes']}{lost}"
        )
    spool = snap["spool"]
    full = "  (FULL: reading paused)" if spool["full"] else ""
    lines.append(f"spool: {spool['events']} events, {spool['bytes']} of {spool['max_bytes']} bytes{full}")
    lines.append(f"dead letters: {snap['dead_letters']['count']}")
    for d in snap["dead_letters"]["recent"]:
        lines.append(f"  {d['event_id']} at {d['at']}: {d['error']}")
    if snap["lost"]["files"]:
        lines.append(f"DATA LOST: {snap['lost']['bytes']} bytes in {snap['lost']['files']} file(s)")
    lines.append(f"last delivery: {snap.get('last_delivery') or 'never'}")
    lines.append(f"last error: {snap.get('last_error') or 'none'}")
    if snap.get("paused"):
        lines.append(f"PAUSED: {snap['paused']}")
    return "\n".join(lines)


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()
