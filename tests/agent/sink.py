"""A tiny real HTTP collector stand-in: records batches and misbehaves on demand.

It speaks the ingest contract (gzip or plain JSON, `{"events": [...]}`, 200 with accepted/duplicates/
rejected), dedupes by `event_id` like the collector, accepts heartbeats, and can be told to answer
503, 429 with Retry-After, 401, 413, HTML, or to hang. Used by the agent's fault tests and by
bench/agent as the "minimal HTTP sink" (tuned per peers.md so it does not distort the figures).
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Sink:
    def __init__(self, port: int = 0, keep_events: bool = True) -> None:
        self.lock = threading.Lock()
        self.events: dict[str, dict[str, Any]] = {}
        self.received = 0
        self.batches = 0
        self.heartbeats: list[dict[str, Any]] = []
        self.requests: list[tuple[str, int]] = []
        self.mode = "ok"
        self.retry_after: str | None = None
        self.max_events: int | None = None
        self.reject: Callable[[dict[str, Any]], str | None] | None = None
        self.hang_seconds = 30.0
        self.keep_events = keep_events
        self.last_ack = 0.0
        self.token: str | None = None
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def handle_expect_100(self) -> bool:
                self.send_response_only(100)
                self.end_headers()
                self.wfile.flush()
                return True

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                sink._handle(self, raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def set(self, mode: str, retry_after: str | None = None) -> None:
        with self.lock:
            self.mode = mode
            self.retry_after = retry_after

    def count(self) -> int:
        with self.lock:
            return len(self.events)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return dict(self.events)

    def _reply(
        self,
        h: BaseHTTPRequestHandler,
        code: int,
        body: bytes,
        ctype: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        h.send_response(code)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)
        h.wfile.flush()

    def _handle(self, h: BaseHTTPRequestHandler, raw: bytes) -> None:
        with self.lock:
            mode, retry_after = self.mode, self.retry_after
            self.requests.append((h.path, int(time.time())))
        if mode == "hang":
            time.sleep(self.hang_seconds)
            return self._reply(h, 504, b'{"detail": "too late"}')
        if mode == "html":
            return self._reply(h, 200, b"<html><body>Welcome to nginx!</body></html>", "text/html")
        if mode in ("503", "429", "401", "500"):
            headers = {"Retry-After": retry_after} if retry_after else {}
            return self._reply(h, int(mode), b'{"detail": "not now"}', headers=headers)
        auth = h.headers.get("Authorization", "")
        if self.token is not None and auth != f"Bearer {self.token}":
            return self._reply(h, 401, b'{"detail": "unknown token"}')
        if h.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        payload = json.loads(raw)
        if h.path.endswith("/agents/heartbeat/"):
            with self.lock:
                self.heartbeats.append(payload)
            return self._reply(h, 204, b"")
        if isinstance(payload, list):
            events = payload
        elif isinstance(payload, dict) and "events" in payload:
            events = payload["events"]
        else:
            events = [payload]
        if not events:
            return self._reply(h, 422, b'{"detail": "events: at least one event is needed"}')
        if self.max_events is not None and len(events) > self.max_events:
            return self._reply(h, 413, b'{"detail": "body too large"}')
        accepted = duplicates = 0
        rejected = []
        with self.lock:
            self.batches += 1
            self.received += len(events)
            for i, event in enumerate(events):
                reason = self.reject(event) if self.reject else None
                if reason:
                    rejected.append({"index": i, "error": reason})
                    continue
                eid = event.get("event_id") or f"anon-{self.received}-{i}"
                if eid in self.events:
                    duplicates += 1
                else:
                    self.events[eid] = event if self.keep_events else {}
                    accepted += 1
            self.last_ack = time.time()
        body = json.dumps(
            {"accepted": accepted, "duplicates": duplicates, "rejected": rejected, "investigations": []}
        ).encode()
        return self._reply(h, 200, body)
