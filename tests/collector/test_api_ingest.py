"""The ingest endpoint over real HTTP against a real collector process and Postgres."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
import sqlalchemy as sa

from collector.db import session_scope
from collector.tokens import create_token, revoke_token
from tests.factories import event_dict
from tests.live import LiveCollector
from tests.pg import fresh_database
from tests.private_pg import PrivatePostgres

pytestmark = pytest.mark.postgres
PATH = "/api/v1/pricelens/log_event/"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCollector]:
    from collector.migrate import upgrade

    with fresh_database() as url:
        upgrade(url)
        c = LiveCollector(url, tmp_path_factory.mktemp("collector"))
        c.create_tokens()
        with session_scope(c.engine) as s:
            c.bound_token = create_token(session=s, name="ftp-only", scope="ingest", service="load_ftp")[1]  # type: ignore[attr-defined]
            c.revoked_token = create_token(session=s, name="old", scope="ingest")[1]  # type: ignore[attr-defined]
            revoke_token(session=s, name="old")
        c.start()
        yield c
        c.close()


def post(live: LiveCollector, body: object, token: str | None = None, **kw: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token or live.ingest_token}"}
    headers.update(kw.pop("headers", {}))  # type: ignore[arg-type]
    return httpx.post(live.url + PATH, json=body, headers=headers, timeout=10, **kw)  # type: ignore[arg-type]


def test_single_event_is_accepted_and_grouped(live: LiveCollector) -> None:
    r = post(live, event_dict(event_id="single-1"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (1, 0, [])
    assert len(body["investigations"]) == 1
    again = post(live, event_dict(event_id="single-1")).json()
    assert (again["accepted"], again["duplicates"]) == (0, 1)


def test_batch_keeps_valid_events_and_names_the_bad_field(live: LiveCollector) -> None:
    events = [
        event_dict(event_id="b-1"),
        event_dict(event_id="b-2", service="no spaces allowed"),
        event_dict(event_id="b-3", level="LOUD"),
        "not an object",
        event_dict(event_id="b-5", supplier="ZETA"),
    ]
    r = post(live, {"events": events})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 2
    assert [x["index"] for x in body["rejected"]] == [1, 2, 3]
    assert body["rejected"][0]["error"].startswith("service:")
    assert body["rejected"][1]["error"].startswith("level:")
    stored = {e["event_id"] for e in live.events()}
    assert {"b-1", "b-5"} <= stored and not {"b-2", "b-3"} & stored


def test_gzip_body_and_token_scheme(live: LiveCollector) -> None:
    payload = gzip.compress(
        orjson.dumps({"events": [event_dict(event_id="gz-1"), event_dict(event_id="gz-2")]})
    )
    r = httpx.post(
        live.url + PATH,
        content=payload,
        headers={
            "Authorization": f"Token {live.ingest_token}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 2


def test_unknown_fields_go_to_extra_and_long_message_is_truncated(live: LiveCollector) -> None:
    r = post(live, event_dict(event_id="x-1", message="m" * 70_000, retry_count=3, extra={"a": 1}))
    assert r.status_code == 200
    (row,) = [e for e in live.events() if e["event_id"] == "x-1"]
    assert row["extra"] == {"a": 1, "retry_count": 3}
    assert row["truncated"] is True and len(row["message"]) == 64 * 1024


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "missing Authorization"),
        ({"Authorization": "Bearer nope"}, "unknown or revoked"),
        ({"Authorization": "Basic dXNlcjpwdw=="}, "unsupported Authorization scheme"),
    ],
)
def test_401(live: LiveCollector, headers: dict[str, str], detail: str) -> None:
    r = httpx.post(live.url + PATH, json=event_dict(), headers=headers)
    assert r.status_code == 401 and detail in r.json()["detail"]


def test_401_revoked(live: LiveCollector) -> None:
    r = post(live, event_dict(), token=live.revoked_token)  # type: ignore[attr-defined]
    assert r.status_code == 401


def test_403_service_binding_and_scope(live: LiveCollector) -> None:
    ok = post(live, event_dict(event_id="bound-1"), token=live.bound_token)  # type: ignore[attr-defined]
    assert ok.status_code == 200
    r = post(live, event_dict(service="load_mail"), token=live.bound_token)  # type: ignore[attr-defined]
    assert r.status_code == 403 and "load_ftp" in r.json()["detail"]
    (inv_id,) = ok.json()["investigations"]
    r = httpx.post(
        f"{live.url}/api/v1/pricelens/investigations/{inv_id}/status/",
        json={"status": "resolved"},
        headers={"Authorization": f"Bearer {live.ingest_token}"},
    )
    assert r.status_code == 403 and "admin" in r.json()["detail"]


def test_413_plain_and_gzip_bomb(live: LiveCollector) -> None:
    big = orjson.dumps(event_dict(message="x" * (6 * 1024 * 1024)))
    headers = {"Authorization": f"Bearer {live.ingest_token}", "Content-Type": "application/json"}
    assert httpx.post(live.url + PATH, content=big, headers=headers).status_code == 413
    bomb = gzip.compress(b"[" + b" " * (200 * 1024 * 1024) + b"]", compresslevel=9)
    assert len(bomb) < 300_000
    r = httpx.post(live.url + PATH, content=bomb, headers={**headers, "Content-Encoding": "gzip"}, timeout=30)
    assert r.status_code == 413 and "MiB" in r.json()["detail"]


def test_415_not_json(live: LiveCollector) -> None:
    r = httpx.post(
        live.url + PATH,
        content=b"service=load_ftp",
        headers={"Authorization": f"Bearer {live.ingest_token}", "Content-Type": "text/plain"},
    )
    assert r.status_code == 415 and "application/json" in r.json()["detail"]


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe{}", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b"", "empty"),
        (orjson.dumps({"events": []}), "non-empty list"),
        (orjson.dumps({"events": [event_dict()] * 1001}), "at most 1000"),
        (orjson.dumps({"service": "load_ftp"}), "message: Field required"),
        (
            orjson.dumps(event_dict(extra={"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}})),
            "deeper",
        ),
        (b'"just a string"', "must be a JSON object"),
        (orjson.dumps(event_dict(supplier="S" * 201)), "supplier: String should have at most 200"),
        (
            orjson.dumps(event_dict(extra={"blob": "x" * 17_000})),
            "extra: Value error, extra is larger than 16 KiB",
        ),
        (orjson.dumps(event_dict(event_id="has spaces")), "event_id: String should match pattern"),
        (orjson.dumps(event_dict(timestamp="next tuesday")), "timestamp:"),
        (orjson.dumps(event_dict(fingerprint="not-a-list")), "fingerprint:"),
    ],
)
def test_422(live: LiveCollector, content: bytes, detail: str) -> None:
    r = httpx.post(
        live.url + PATH,
        content=content,
        headers={"Authorization": f"Bearer {live.ingest_token}", "Content-Type": "application/json"},
    )
    assert r.status_code == 422, r.text
    assert detail in r.json()["detail"]


def test_nothing_accepted_is_lost_by_bad_requests(live: LiveCollector) -> None:
    post(live, event_dict(event_id="keep-1"))
    for bad in (b"{", b"[]", b"\x00\x01"):
        httpx.post(
            live.url + PATH,
            content=bad,
            headers={"Authorization": f"Bearer {live.ingest_token}", "Content-Type": "application/json"},
        )
    assert any(e["event_id"] == "keep-1" for e in live.events())


def test_429_with_retry_after(tmp_path: Path, pg_url: str) -> None:
    c = LiveCollector(pg_url, tmp_path, extra_env={"PRICELENS_RATE_LIMIT_PER_SECOND": "0.5",
                                                   "PRICELENS_RATE_LIMIT_BURST": "2"})  # fmt: skip
    c.create_tokens()
    c.start()
    try:
        codes = [post(c, event_dict()).status_code for _ in range(3)]
        assert codes[:2] == [200, 200] and codes[2] == 429
        r = post(c, event_dict())
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert "over its rate" in r.json()["detail"]
    finally:
        c.close()


def test_503_when_database_is_stopped(tmp_path: Path) -> None:
    from collector.migrate import upgrade

    pg = PrivatePostgres()
    pg.start()
    try:
        upgrade(pg.url)
        c = LiveCollector(pg.url, tmp_path)
        c.create_tokens()
        c.start()
        try:
            assert post(c, event_dict(event_id="before")).status_code == 200
            pg.stop()
            r = post(c, event_dict(event_id="during"))
            assert r.status_code == 503, r.text
            assert int(r.headers["Retry-After"]) > 0 and "database" in r.json()["detail"]
            assert httpx.get(c.url + "/readyz").status_code == 503
            assert httpx.get(c.url + "/healthz").status_code == 200
            pg.start()
            assert post(c, event_dict(event_id="after")).status_code == 200
            assert {e["event_id"] for e in c.events()} == {"before", "after"}
        finally:
            c.close()
    finally:
        pg.destroy()


def test_sql_metacharacters_in_filters_are_data(live: LiveCollector) -> None:
    post(live, event_dict(event_id="meta-1", supplier="O'Brien%_;--"))
    headers = {"Authorization": f"Bearer {live.ingest_token}"}
    for value in ("' OR 1=1 --", "%", "_", "O'Brien%_;--", "\\", "); DROP TABLE pricelens_event; --"):
        for field in ("q", "supplier", "service", "kind"):
            r = httpx.get(
                f"{live.url}/api/v1/pricelens/investigations/", params={field: value}, headers=headers
            )
            assert r.status_code in (200, 422), (field, value, r.text)
    r = httpx.get(f"{live.url}/api/v1/pricelens/investigations/", params={"q": "%_;"}, headers=headers)
    assert [i["supplier"] for i in r.json()["items"]] == ["O'Brien%_;--"]  # matched literally, not as LIKE
    r = httpx.get(
        f"{live.url}/api/v1/pricelens/investigations/", params={"supplier": "O'Brien%_;--"}, headers=headers
    )
    assert r.json()["total"] == 1
    with live.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM pricelens_event")).scalar()


def test_token_use_is_recorded_and_revocation_takes_effect(live: LiveCollector) -> None:
    with session_scope(live.engine) as s:
        plain = create_token(session=s, name="short-lived", scope="ingest")[1]
    assert post(live, event_dict(), token=plain).status_code == 200
    with live.engine.connect() as conn:
        used = conn.execute(
            sa.text("SELECT last_used_at FROM pricelens_api_token WHERE name = 'short-lived'")
        )
        assert used.scalar() is not None
    with session_scope(live.engine) as s:
        revoke_token(session=s, name="short-lived")
    deadline = time.monotonic() + 10  # the collector caches a principal for 5 s
    while post(live, event_dict(), token=plain).status_code == 200:
        assert time.monotonic() < deadline, "a revoked token was still accepted after 10 s"
        time.sleep(0.5)
    assert post(live, event_dict(), token=plain).status_code == 401
