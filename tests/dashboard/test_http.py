"""The dashboard over plain HTTP: login and its redirects, cookie flags, CSRF, roles, every page rendering.

These run in well under a second each; the browser tests (test_browser.py) cover what needs a browser.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.dashboard import seed
from tests.dashboard.conftest import LiveDashboard, csrf_from

pytestmark = pytest.mark.postgres


@pytest.fixture
def client(live_dashboard: LiveDashboard) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_dashboard.url, follow_redirects=False, timeout=10) as c:
        yield c


@pytest.mark.parametrize(
    "path", ["/investigations", "/investigations/1", "/suppliers", "/suppliers/ACME", "/jobs", "/agents"]
)
def test_pages_redirect_to_login_with_the_way_back(client: httpx.Client, path: str) -> None:
    response = client.get(path + "?status=all")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")
    assert httpx.URL(response.headers["location"]).params["next"] == path + "?status=all"


def test_session_cookie_is_httponly_samesite_and_signed(
    live_dashboard: LiveDashboard, client: httpx.Client
) -> None:
    page = client.get("/login")
    cookie = page.headers["set-cookie"].lower()
    assert "pl_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    response = client.post(
        "/login",
        data={
            "username": "ada",
            "password": seed.PASSWORD,
            "csrf_token": csrf_from(page.text),
            "next": "/jobs",
        },
    )
    assert response.status_code == 303 and response.headers["location"] == "/jobs"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    # A tampered cookie is no session at all.
    value = client.cookies["pl_session"]
    client.cookies.set("pl_session", value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert client.get("/investigations").status_code == 303


def test_login_refuses_a_wrong_password_and_a_missing_csrf_token(client: httpx.Client) -> None:
    page = client.get("/login")
    wrong = client.post(
        "/login", data={"username": "ada", "password": "nope", "csrf_token": csrf_from(page.text)}
    )
    assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text
    no_token = client.post("/login", data={"username": "ada", "password": seed.PASSWORD})
    assert no_token.status_code == 403
    assert "pl_session" not in no_token.headers.get("set-cookie", "")


def test_login_does_not_redirect_off_site(client: httpx.Client) -> None:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": "ada",
            "password": seed.PASSWORD,
            "csrf_token": csrf_from(page.text),
            "next": "//evil.example/x",
        },
    )
    assert response.headers["location"] == "/investigations"


def test_actions_without_a_valid_csrf_token_are_refused(
    live_dashboard: LiveDashboard, client: httpx.Client
) -> None:
    inv_id = seed.log(live_dashboard.engine, seed.event(supplier="CSRF-CO", message="csrf probe"))[0]
    token = live_dashboard.login(client, "ada")
    for data in ({"status": "resolved"}, {"status": "resolved", "csrf_token": "forged"}):
        response = client.post(f"/investigations/{inv_id}/status", data=data)
        assert response.status_code == 403, data
        assert "expired or did not come from the dashboard" in response.text
    other = httpx.Client(base_url=live_dashboard.url)
    other_token = live_dashboard.login(other, "vic")
    assert other_token != token
    stolen = client.post(
        f"/investigations/{inv_id}/status", data={"status": "resolved", "csrf_token": other_token}
    )
    assert stolen.status_code == 403
    assert client.post("/jobs/daily_analysis/run", data={}).status_code == 403
    assert client.post("/logout", data={}).status_code == 403
    assert seed.investigation(live_dashboard.engine, inv_id).status == "open"
    ok = client.post(f"/investigations/{inv_id}/status", data={"status": "resolved", "csrf_token": token})
    assert ok.status_code == 303
    assert seed.investigation(live_dashboard.engine, inv_id).status == "resolved"


def test_a_viewer_reads_but_cannot_act(live_dashboard: LiveDashboard, client: httpx.Client) -> None:
    inv_id = seed.log(live_dashboard.engine, seed.event(supplier="VIEW-CO", message="viewer probe"))[0]
    token = live_dashboard.login(client, "vic")
    page = client.get(f"/investigations/{inv_id}")
    assert page.status_code == 200 and "viewer probe" in page.text
    assert 'data-testid="actions"' not in page.text and "comment-text" not in page.text
    attempts = [
        (f"/investigations/{inv_id}/status", {"status": "ignored"}),
        (f"/investigations/{inv_id}/assign", {"assignee": "vic"}),
        (f"/investigations/{inv_id}/comment", {"text": "hello"}),
        ("/investigations/bulk", {"action": "ignore", "ids": str(inv_id)}),
        ("/jobs/daily_analysis/run", {}),
        ("/jobs/daily_analysis/pause", {}),
        ("/jobs/backfill", {"start": "2024-01-01", "end": "2024-01-02"}),
    ]
    for path, data in attempts:
        response = client.post(path, data={**data, "csrf_token": token})
        assert response.status_code == 403, path
        assert "only admins" in response.text
    inv = seed.investigation(live_dashboard.engine, inv_id)
    assert (inv.status, inv.assignee) == ("open", None)


def test_logout_ends_the_session(live_dashboard: LiveDashboard, client: httpx.Client) -> None:
    token = live_dashboard.login(client, "ada")
    old_cookie = client.cookies["pl_session"]
    assert client.post("/logout", data={"csrf_token": token}).headers["location"] == "/login"
    assert client.get("/investigations").status_code == 303
    # Logging out drops the cookie; it is signed and time-limited, so this is a cookie-less browser.
    assert "pl_session" not in client.cookies or client.cookies["pl_session"] != old_cookie


def test_every_page_renders_with_data_and_security_headers(
    live_dashboard: LiveDashboard, client: httpx.Client
) -> None:
    engine = live_dashboard.engine
    inv_id = seed.log(engine, seed.event(supplier="PAGES-CO", message="pages probe"))[0]
    seed.supplier_days(engine, "PAGES-CO")
    seed.agent(engine, "pages-host", seconds_ago=30)
    live_dashboard.login(client, "ada")
    for path in [
        "/investigations",
        f"/investigations/{inv_id}",
        "/suppliers",
        "/suppliers/PAGES-CO",
        "/jobs",
        "/agents",
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
    health = client.get("/suppliers").text
    row = health[health.index('href="/suppliers/PAGES-CO"') :].split("</tr>")[0]
    assert "(1 failed)" in row and "row_drop" in row and "bad-text" in row
    assert client.get("/investigations/999999").status_code == 404
    assert client.get("/suppliers/NOBODY-AT-ALL").status_code == 404
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/static/app.js").status_code == 200


def test_stream_filters_live_in_the_url(live_dashboard: LiveDashboard, client: httpx.Client) -> None:
    engine = live_dashboard.engine
    seed.log(
        engine,
        seed.event(supplier="URL-ONE", message="url filter alpha", service="load_mail"),
        seed.event(
            supplier="URL-TWO", message="url filter beta", service="consolidate", kind="file_rejected"
        ),
    )
    live_dashboard.login(client, "ada")
    page = client.get("/investigations", params={"q": "url filter", "service": "consolidate"})
    assert "url filter beta" in page.text and "url filter alpha" not in page.text
    page = client.get(
        "/investigations", params={"q": "url filter", "sort": "events", "order": "asc", "page": "x"}
    )
    assert "url filter alpha" in page.text and "url filter beta" in page.text
    page = client.get("/investigations", params={"q": "url filter", "status": "resolved"})
    assert "Nothing matches these filters" in page.text


def test_jobs_run_pause_resume_and_backfill(live_dashboard: LiveDashboard, client: httpx.Client) -> None:
    engine = live_dashboard.engine
    token = live_dashboard.login(client, "ada")

    def act(path: str, **data: str) -> str:
        response = client.post(path, data={**data, "csrf_token": token})
        assert response.status_code == 303 and response.headers["location"] == "/jobs"
        return client.get("/jobs").text  # the flash message is shown once, on the next page

    assert "purge_events paused" in act("/jobs/purge_events/pause")
    assert 'data-testid="resume-purge_events"' in client.get("/jobs").text
    assert "purge_events resumed" in act("/jobs/purge_events/resume")
    assert 'data-testid="pause-purge_events"' in client.get("/jobs").text
    assert "no job named" in act("/jobs/nonsense/run")
    assert "reversed" in act("/jobs/backfill", start="2024-03-10", end="2024-03-01", reprocess="missing")
    assert "as dates" in act("/jobs/backfill", start="yesterday", end="")
    page = act("/jobs/backfill", start="2024-03-01", end="2024-03-03", reprocess="all", dry_run="1")
    assert "Dry-run backfill of 2024-03-01 to 2024-03-03 started" in page
    backfill = next(r for r in seed.wait_for_runs(engine) if r.job_id == "backfill")
    progress = client.get(f"/jobs/runs/{backfill.id}/progress").json()
    assert progress["id"] == backfill.id and progress["finished"] is True
    assert client.get("/jobs/runs/999999/progress").status_code == 404
    page = client.get("/jobs?job=backfill").text
    assert f'data-run="{backfill.id}"' in page
