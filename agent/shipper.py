"""Deliver spooled events to the collector: batches, gzip, retries, dead letters.

`Shipper.deliver_once()` sends one batch and decides what the answer means (contract.md): a 200 acks
the batch except the events listed in `rejected`, which go to the dead-letter table with the reason;
413 (and a whole-batch 422) split the batch until the bad event stands alone; 401/403 pause delivery
(the token is wrong, not the events); network errors, non-JSON answers, 408, 429 and 5xx retry forever
with exponential backoff and jitter, honouring `Retry-After`. Nothing leaves the spool unacknowledged.
The `httpx.Client` is injected so tests can fake the transport.
"""

from __future__ import annotations

import email.utils
import gzip
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx
import orjson

from agent.config import ShippingConfig
from agent.spool import Spool, Spooled

log = logging.getLogger("pricelens_agent.shipper")
INGEST_PATH = "/api/v1/pricelens/log_event/"
_SPLIT = {413, 422}
_RETRY = {408, 425, 429}


@dataclass
class ShipperStatus:
    delivered: int = 0
    dead_letters: int = 0
    last_delivery: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    paused: str | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one delivery attempt achieved: events settled, and how long to wait before the next."""

    settled: int
    delay: float = 0.0


def backoff_delay(failures: int, *, initial: float, cap: float, rng: Callable[[], float]) -> float:
    """Exponential backoff with equal jitter: half the step fixed, half random."""
    step: float = min(cap, initial * 2.0 ** min(failures, 30))
    return step / 2 + rng() * step / 2


def retry_after(response: httpx.Response, now: float) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return None if parsed is None else max(0.0, float(parsed.timestamp()) - now)


def ingest_url(base: str) -> str:
    return base.rstrip("/") + INGEST_PATH


class Shipper:
    def __init__(
        self,
        *,
        client: httpx.Client,
        spool: Spool,
        url: str,
        token: str,
        config: ShippingConfig,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self._client = client
        self._spool = spool
        self._url = ingest_url(url)
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        }
        self._config = config
        self._rng = rng
        self._failures = 0
        self.status = ShipperStatus()

    def deliver_once(self) -> Attempt:
        items = self._spool.batch(self._config.batch_max_events, self._config.batch_max_bytes)
        if not items:
            return Attempt(0)
        return self._send(items)

    def _send(self, items: Sequence[Spooled]) -> Attempt:
        body = gzip.compress(b'{"events":[' + b",".join(i.body for i in items) + b"]}", compresslevel=1)
        try:
            response = self._client.post(self._url, content=body, headers=self._headers)
        except httpx.HTTPError as exc:
            return self._retry(f"cannot reach the collector: {type(exc).__name__}: {exc}", None)
        code = response.status_code
        if code == 200:
            return self._accepted(items, response)
        if code in _SPLIT:
            return self._split(items, response)
        if code in (401, 403):
            return self._pause(response)
        wait = retry_after(response, time.time())
        if code in _RETRY or code >= 500:
            return self._retry(f"collector answered {code}: {_detail(response)}", wait)
        return self._retry(f"collector refused the batch with {code}: {_detail(response)}", wait)

    def _accepted(self, items: Sequence[Spooled], response: httpx.Response) -> Attempt:
        try:
            answer = orjson.loads(response.content)
            rejected = {
                int(r["index"]): str(r.get("error", "rejected")) for r in answer.get("rejected") or ()
            }
        except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
            kind = response.headers.get("content-type", "unknown type")
            return self._retry(
                f"collector answered 200 with a body that is not the contract's JSON ({kind})", None
            )
        dead = [(items[i].seq, reason) for i, reason in rejected.items() if 0 <= i < len(items)]
        dead_seqs = {seq for seq, _ in dead}
        for seq, reason in dead:
            log.warning(
                "collector rejected event %s: %s (kept in dead letters)", _event_id(items, seq), reason
            )
        self._spool.dead_letter(dead)
        self._spool.ack([i.seq for i in items if i.seq not in dead_seqs])
        self._failures = 0
        self.status.delivered += len(items) - len(dead)
        self.status.dead_letters += len(dead)
        self.status.last_delivery = time.time()
        if self.status.paused:
            log.info("delivery resumed")
        self.status.paused = None
        return Attempt(len(items))

    def _split(self, items: Sequence[Spooled], response: httpx.Response) -> Attempt:
        if len(items) == 1:
            reason = f"collector answered {response.status_code}: {_detail(response)}"
            log.warning("event %s cannot be delivered: %s (kept in dead letters)", items[0].event_id, reason)
            self._spool.dead_letter([(items[0].seq, reason)])
            self.status.dead_letters += 1
            return Attempt(1)
        half = len(items) // 2
        first = self._send(items[:half])
        if first.delay:
            return first
        second = self._send(items[half:])
        return Attempt(first.settled + second.settled, second.delay)

    def _pause(self, response: httpx.Response) -> Attempt:
        reason = (
            f"collector refused the token ({response.status_code}: {_detail(response)});"
            " delivery paused, events stay spooled"
        )
        if self.status.paused != reason:
            log.error("%s", reason)
        self.status.paused = reason
        self._note_error(reason)
        return Attempt(0, self._config.auth_retry)

    def _retry(self, reason: str, wait: float | None) -> Attempt:
        self._failures += 1
        delay = (
            wait
            if wait is not None
            else backoff_delay(
                self._failures - 1,
                initial=self._config.backoff_initial,
                cap=self._config.backoff_max,
                rng=self._rng,
            )
        )
        log.warning("%s; retrying in %.1fs", reason, delay)
        self._note_error(reason)
        return Attempt(0, delay)

    def _note_error(self, reason: str) -> None:
        self.status.last_error = reason
        self.status.last_error_at = time.time()

    def run(self, *, stop: threading.Event, wake: threading.Event, tick: Callable[[], None]) -> None:
        """Deliver until `stop`; then keep delivering for at most `shutdown_timeout` seconds."""
        deadline: float | None = None
        while True:
            if stop.is_set() and deadline is None:
                deadline = time.monotonic() + self._config.shutdown_timeout
            if deadline is not None and time.monotonic() >= deadline:
                return
            tick()
            count, _ = self._spool.depth()
            if count == 0:
                if deadline is not None:
                    return
                wake.wait(1.0)
                wake.clear()
                continue
            age = self._spool.oldest_age() or 0.0
            if deadline is None and count < self._config.batch_max_events and age < self._config.batch_age:
                stop.wait(self._config.batch_age - age)
                continue
            attempt = self.deliver_once()
            if attempt.delay:
                if deadline is None:
                    stop.wait(attempt.delay)
                else:
                    time.sleep(max(0.0, min(attempt.delay, deadline - time.monotonic())))


def _detail(response: httpx.Response) -> str:
    try:
        detail = orjson.loads(response.content).get("detail")
    except (orjson.JSONDecodeError, AttributeError):
        detail = None
    if detail is None:
        kind = response.headers.get("content-type", "no content type")
        return f"non-JSON answer ({kind})"
    return str(detail)[:300]


def _event_id(items: Sequence[Spooled], seq: int) -> str:
    return next(i.event_id for i in items if i.seq == seq)
