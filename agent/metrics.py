"""Optional local endpoint for monitors: `/metrics` (Prometheus text) and `/healthz` (the status JSON).

Off unless `metrics_port` is set. It serves the snapshot the runner last wrote to `status.json`, so a
scrape never touches the spool or slows reading.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import orjson

Snapshot = Callable[[], dict[str, Any] | None]


def render_metrics(snap: dict[str, Any]) -> str:
    def ts(value: str | None) -> float:
        return datetime.fromisoformat(value).timestamp() if value else 0.0

    lines = [
        "# TYPE pricelens_agent_spool_events gauge",
        f"pricelens_agent_spool_events {snap['spool']['events']}",
        "# TYPE pricelens_agent_spool_bytes gauge",
        f"pricelens_agent_spool_bytes {snap['spool']['bytes']}",
        "# TYPE pricelens_agent_spool_full gauge",
        f"pricelens_agent_spool_full {int(snap['spool']['full'])}",
        "# TYPE pricelens_agent_dead_letters gauge",
        f"pricelens_agent_dead_letters {snap['dead_letters']['count']}",
        "# TYPE pricelens_agent_lost_bytes_total counter",
        f"pricelens_agent_lost_bytes_total {snap['lost']['bytes']}",
        "# TYPE pricelens_agent_lost_files_total counter",
        f"pricelens_agent_lost_files_total {snap['lost']['files']}",
        "# TYPE pricelens_agent_delivered_total counter",
        f"pricelens_agent_delivered_total {snap.get('delivered', 0)}",
        "# TYPE pricelens_agent_paused gauge",
        f"pricelens_agent_paused {int(bool(snap.get('paused')))}",
        "# TYPE pricelens_agent_last_delivery_timestamp_seconds gauge",
        f"pricelens_agent_last_delivery_timestamp_seconds {ts(snap.get('last_delivery')):.3f}",
        "# TYPE pricelens_agent_lag_bytes gauge",
    ]
    for f in snap["files"]:
        path = f["path"].replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'pricelens_agent_lag_bytes{{service="{f["service"]}",path="{path}"}} {f["lag_bytes"]}')
    return "\n".join(lines) + "\n"


class MetricsServer:
    def __init__(self, host: str, port: int, snapshot: Snapshot) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                snap = snapshot()
                if snap is None:
                    self._send(503, b"starting\n", "text/plain")
                elif self.path == "/metrics":
                    self._send(200, render_metrics(snap).encode(), "text/plain; version=0.0.4")
                elif self.path == "/healthz":
                    self._send(200, orjson.dumps(snap), "application/json")
                else:
                    self._send(404, b"not found\n", "text/plain")

            def _send(self, code: int, body: bytes, ctype: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = HTTPServer((host, port), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="pricelens-agent-metrics", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
