"""The shipper against a faked transport: what each collector answer does to the spool."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from agent.config import ShippingConfig
from agent.shipper import Shipper, backoff_delay, retry_after
from agent.spool import Spool

Handler = Callable[[httpx.Request], httpx.Response]


def make(tmp_path: Path, handler: Handler, n: int = 4, **cfg: float) -> tuple[Shipper, Spool]:
    spool = Spool(tmp_path / "spool.sqlite3", 1 << 30)
    events = [
        (f"e{i}", json.dumps({"service": "s", "message": f"m{i}", "event_id": f"e{i}"}).encode())
        for i in range(n)
    ]
    spool.commit_read(service="s", identity="i", path="/p", offset=1, size=1, tail=b"", events=events)
    config = ShippingConfig(backoff_initial=1.0, backoff_max=8.0, auth_retry=30.0, **cfg)  # type: ignore[arg-type]
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return Shipper(
        client=client, spool=spool, url="http://c/", token="tok", config=config, rng=lambda: 1.0
    ), spool


def body(request: httpx.Request) -> list[dict[str, object]]:
    assert request.headers["content-encoding"] == "gzip"
    assert request.headers["authorization"] == "Bearer tok"
    assert request.url.path == "/api/v1/pricelens/log_event/"
    return list(json.loads(gzip.decompress(request.content))["events"])


def ok(request: httpx.Request) -> httpx.Response:
    n = len(body(request))
    return httpx.Response(200, json={"accepted": n, "duplicates": 0, "rejected": [], "investigations": []})


def test_accepted_batch_leaves_the_spool(tmp_path: Path) -> None:
    shipper, spool = make(tmp_path, ok)
    assert shipper.deliver_once().settled == 4
    assert spool.depth() == (0, 0)
    assert shipper.status.last_delivery is not None


def test_rejected_events_go_to_dead_letters(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        events = body(request)
        return httpx.Response(
            200,
            json={
                "accepted": len(events) - 1,
                "duplicates": 0,
                "rejected": [{"index": 2, "error": "service: bad"}],
                "investigations": [],
            },
        )

    shipper, spool = make(tmp_path, handler)
    shipper.deliver_once()
    assert spool.depth()[0] == 0
    count, recent = spool.dead_letters()
    assert count == 1 and recent[0][:2] == ("e2", "service: bad")


@pytest.mark.parametrize(
    ("response", "delay"),
    [
        (httpx.Response(503, json={"detail": "db down"}, headers={"Retry-After": "7"}), 7.0),
        (httpx.Response(429, json={"detail": "slow down"}, headers={"Retry-After": "3"}), 3.0),
        (httpx.Response(500, text="oops"), 1.0),
        (httpx.Response(408), 1.0),
        (httpx.Response(200, text="<html>proxy</html>", headers={"content-type": "text/html"}), 1.0),
        (httpx.Response(404, json={"detail": "no such route"}), 1.0),
    ],
)
def test_transient_answers_keep_events_and_back_off(
    tmp_path: Path, response: httpx.Response, delay: float
) -> None:
    shipper, spool = make(tmp_path, lambda r: response)
    attempt = shipper.deliver_once()
    assert (attempt.settled, attempt.delay) == (0, delay)
    assert spool.depth()[0] == 4
    assert shipper.status.last_error


def test_network_errors_back_off_exponentially(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    shipper, spool = make(tmp_path, handler)
    delays = [shipper.deliver_once().delay for _ in range(6)]
    assert delays == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert spool.depth()[0] == 4
    assert "cannot reach" in (shipper.status.last_error or "")


@pytest.mark.parametrize("code", [401, 403])
def test_token_refused_pauses_without_losing(tmp_path: Path, code: int) -> None:
    shipper, spool = make(tmp_path, lambda r: httpx.Response(code, json={"detail": "unknown token"}))
    attempt = shipper.deliver_once()
    assert attempt.delay == 30.0
    assert spool.depth()[0] == 4
    assert shipper.status.paused and "token" in shipper.status.paused
    assert spool.dead_letters()[0] == 0


def test_413_splits_until_the_oversized_event_stands_alone(tmp_path: Path) -> None:
    sizes: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        events = body(request)
        sizes.append(len(events))
        if any(e["event_id"] == "e5" for e in events):
            return httpx.Response(413, json={"detail": "body too large"})
        return ok(request)

    shipper, spool = make(tmp_path, handler, n=8)
    assert shipper.deliver_once().settled == 8
    assert sizes[0] == 8 and 1 in sizes
    assert spool.depth()[0] == 0
    count, recent = spool.dead_letters()
    assert count == 1 and recent[0][0] == "e5" and "413" in recent[0][1]


def test_backoff_jitter_bounds() -> None:
    low = backoff_delay(3, initial=1.0, cap=100.0, rng=lambda: 0.0)
    high = backoff_delay(3, initial=1.0, cap=100.0, rng=lambda: 1.0)
    assert (low, high) == (4.0, 8.0)
    assert backoff_delay(50, initial=1.0, cap=60.0, rng=lambda: 1.0) == 60.0


def test_retry_after_as_http_date() -> None:
    response = httpx.Response(503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:10 GMT"})
    assert retry_after(response, now=1445412480.0) == pytest.approx(10.0)
