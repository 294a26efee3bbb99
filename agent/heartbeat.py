"""Tell the collector this agent is alive: version, files, lag, spool depth, dead letters, last error.

Sent every `heartbeat_interval` from the shipper's thread with the ingest token. A failed heartbeat is
only logged: delivery of events never waits on it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
import orjson

log = logging.getLogger("pricelens_agent.heartbeat")
HEARTBEAT_PATH = "/api/v1/pricelens/agents/heartbeat/"


def heartbeat_body(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The heartbeat's JSON from a status snapshot (see `status.snapshot`)."""
    files = [
        {k: f[k] for k in ("path", "identity", "offset", "size", "lag_bytes")} for f in snapshot["files"]
    ]
    return {
        "hostname": snapshot["hostname"],
        "version": snapshot["version"],
        "files": files,
        "lag_bytes": sum(f["lag_bytes"] for f in files),
        "spool_depth": snapshot["spool"]["events"],
        "dead_letters": snapshot["dead_letters"]["count"],
        "last_error": snapshot["last_error"],
    }


class Heartbeat:
    def __init__(
        self,
        *,
        client: httpx.Client,
        url: str,
        token: str,
        interval: float,
        snapshot: Callable[[], dict[str, Any]],
    ) -> None:
        self._client = client
        self._url = url.rstrip("/") + HEARTBEAT_PATH
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self._interval = interval
        self._snapshot = snapshot
        self._next = 0.0
        self._failing = False

    def maybe_send(self) -> None:
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self._interval
        self.send()

    def send(self) -> bool:
        body = orjson.dumps(heartbeat_body(self._snapshot()))
        try:
            response = self._client.post(self._url, content=body, headers=self._headers)
        except httpx.HTTPError as exc:
            return self._failed(f"{type(exc).__name__}: {exc}")
        if response.status_code >= 300:
            return self._failed(f"collector answered {response.status_code}")
        self._failing = False
        return True

    def _failed(self, reason: str) -> bool:
        if not self._failing:
            log.warning("heartbeat not delivered: %s", reason)
        self._failing = True
        return False
