"""Login throttling: the pure rule with a fake clock, and the login form over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from dashboard.throttle import LoginThrottle
from tests.dashboard import seed
from tests.dashboard.conftest import LiveDashboard, csrf_from


@pytest.fixture
def client(live_dashboard: LiveDashboard) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_dashboard.url, follow_redirects=False, timeout=10) as c:
        yield c


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_five_failures_pause_that_user_from_that_address_only() -> None:
    clock = Clock()
    throttle = LoginThrottle(max_failures=5, window=900, clock=clock)
    for _ in range(4):
        throttle.failed("Ada", "10.0.0.1")
    assert throttle.retry_after("ada", "10.0.0.1") == 0
    throttle.failed("ada", "10.0.0.1")
    assert throttle.retry_after("ada", "10.0.0.1") == 900
    assert throttle.retry_after("ada", "10.0.0.2") == 0  # no lock-out from elsewhere
    assert throttle.retry_after("grace", "10.0.0.1") == 0
    clock.now += 600
    assert throttle.retry_after("ada", "10.0.0.1") == 300
    clock.now += 300
    assert throttle.retry_after("ada", "10.0.0.1") == 0  # the oldest failure left the window


def test_success_clears_the_count() -> None:
    throttle = LoginThrottle(max_failures=2, window=900, clock=Clock())
    throttle.failed("ada", "a")
    throttle.succeeded("ada", "a")
    throttle.failed("ada", "a")
    assert throttle.retry_after("ada", "a") == 0


def test_login_form_pauses_after_five_wrong_passwords(client: httpx.Client) -> None:
    token = csrf_from(client.get("/login").text)
    for _ in range(5):
        r = client.post("/login", data={"username": "ada", "password": "wrong-one", "csrf_token": token})
        assert r.status_code == 401
    paused = client.post("/login", data={"username": "ada", "password": seed.PASSWORD, "csrf_token": token})
    assert paused.status_code == 429 and "Too many wrong passwords" in paused.text
    assert "set-cookie" not in paused.headers  # the right password did not log in while paused
    other = client.post("/login", data={"username": "vic", "password": seed.PASSWORD, "csrf_token": token})
    assert other.status_code == 303  # another user is not paused by ada's failures
