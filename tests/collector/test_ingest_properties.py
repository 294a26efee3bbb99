"""Property-based: whatever arrives at the ingest endpoint, the answer is a documented status, never 500."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.api.app import create_app
from collector.db import session_scope
from collector.migrate import upgrade
from collector.settings import Settings
from collector.tokens import create_token
from tests.pg import fresh_database

pytestmark = pytest.mark.postgres
DOCUMENTED = {200, 401, 403, 413, 415, 422, 429}
FIELDS = ["service", "message", "level", "timestamp", "event_id", "kind", "error_type", "traceback",
          "supplier", "file", "host", "logger", "fingerprint", "extra", "unknown_field"]  # fmt: skip

json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
plausible = {
    "service": st.sampled_from(["load_ftp", "load_mail", "consolidate", "", "a b", "x" * 65])
    | st.text(max_size=70),
    "level": st.sampled_from(["error", "WARNING", "warn", "fatal", "nope", ""]) | json_value,
    "timestamp": st.sampled_from(["2026-11-20T08:00:00", "2026-11-20T08:00:00+03:00", "yesterday", ""])
    | json_value,
    "event_id": st.text(alphabet="abc-_1é/", max_size=70) | json_value,
    "fingerprint": st.lists(st.sampled_from(["{{ default }}", "x", ""]), max_size=4) | json_value,
}
event = st.fixed_dictionaries(
    {"service": st.just("load_ftp"), "message": st.text(max_size=200)},
    optional={f: plausible.get(f, json_value) for f in FIELDS if f not in ("service", "message")},
)
body = event | st.fixed_dictionaries({"events": st.lists(event | json_value, max_size=8)}) | json_value


@pytest.fixture(scope="module")
def client() -> Iterator[tuple[TestClient, str]]:
    with fresh_database() as url:
        upgrade(url)
        app = create_app(Settings(database_url=url, rate_limit_per_second=0))
        with session_scope(app.state.engine) as s:
            token = create_token(session=s, name="prop", scope="ingest")[1]
        with TestClient(app, raise_server_exceptions=False) as c:
            yield c, token
        app.state.engine.dispose()


def _check(response: Any) -> None:
    assert response.status_code in DOCUMENTED, response.text
    assert isinstance(response.json(), dict)
    if response.status_code != 200:
        assert response.json()["detail"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=body, gz=st.booleans())
def test_json_bodies_never_500(client: tuple[TestClient, str], payload: Any, gz: bool) -> None:
    c, token = client
    raw = json.dumps(payload).encode()  # stdlib: also integers beyond 64 bits
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if gz:
        raw, headers["Content-Encoding"] = gzip.compress(raw), "gzip"
    _check(c.post("/api/v1/pricelens/log_event/", content=raw, headers=headers))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=300), content_type=st.sampled_from(["application/json", "text/plain", ""]),
       encoding=st.sampled_from(["", "gzip", "br"]))  # fmt: skip
def test_raw_bytes_never_500(
    client: tuple[TestClient, str], raw: bytes, content_type: str, encoding: str
) -> None:
    c, token = client
    headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
    if encoding:
        headers["Content-Encoding"] = encoding
    _check(c.post("/api/v1/pricelens/log_event/", content=raw, headers=headers))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(
    st.sampled_from(["status", "service", "supplier", "kind", "since", "until", "q", "sort", "order", "page",
                     "per_page"]),
    st.text(max_size=30),
))  # fmt: skip
def test_list_filters_never_500(client: tuple[TestClient, str], params: dict[str, str]) -> None:
    c, token = client
    r = c.get(
        "/api/v1/pricelens/investigations/", params=params, headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code in (200, 422), r.text
