"""The dashboard in Debian's chromium: a day of triage end to end, and hostile data staying text.

Screenshots of the main pages land in ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.dashboard import seed
from tests.dashboard.conftest import LiveDashboard

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def log_in(page: Page, base: str, username: str, next_path: str = "/investigations") -> None:
    page.goto(f"{base}{next_path}")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(seed.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("whoami")).to_have_text(username)


def test_a_day_of_triage(live_dashboard: LiveDashboard, page: Page, shots: Path) -> None:
    engine = live_dashboard.engine
    seed.supplier_days(engine, "FLOW-A")
    seed.agent(engine, "loader-1", seconds_ago=20)
    seed.agent(engine, "loader-2", seconds_ago=3600, last_error="collector unreachable: connection refused")
    target = seed.log(
        engine,
        *[seed.event(supplier="FLOW-A", message=f"550 prices_{n}.csv: No such file") for n in range(3)],
    )[0]
    bulk_ids = seed.log(
        engine,
        seed.event(
            supplier="FLOW-B",
            service="load_mail",
            message="mailbox full",
            error_type="OSError",
            traceback=None,
        ),
        seed.event(
            supplier="FLOW-B",
            service="consolidate",
            message="bad row 17",
            error_type="ValueError",
            traceback=None,
        ),
        seed.event(
            supplier="FLOW-C",
            service="load_mail",
            message="zip broken",
            error_type="BadZipFile",
            traceback=None,
        ),
    )
    base = live_dashboard.url

    log_in(page, base, "ada")
    page.screenshot(path=str(shots / "investigations.png"), full_page=True)

    # Filter: the URL carries the filters, the table shows only FLOW-B.
    page.get_by_label("Supplier").select_option("FLOW-B")
    page.get_by_test_id("apply-filters").click()
    expect(page).to_have_url(re.compile(r"supplier=FLOW-B"))
    rows = page.get_by_test_id("investigations").locator("tbody tr")
    expect(rows).to_have_count(2)

    # Bulk-ignore both FLOW-B investigations.
    page.locator("[data-select-all]").check()
    expect(page.locator("[data-selected-count]")).to_have_text("2 selected")
    page.get_by_test_id("bulk-ignore").click()
    expect(page.get_by_test_id("flash")).to_have_text("2 investigations marked ignored.")
    expect(page.get_by_test_id("investigations")).to_have_count(0)  # the unresolved view is now empty
    assert [seed.investigation(engine, i).status for i in bulk_ids[:2]] == ["ignored", "ignored"]
    assert seed.investigation(engine, bulk_ids[2]).status == "open"

    # Open one investigation, resolve it, comment on it.
    page.goto(f"{base}/investigations?supplier=FLOW-A")
    page.get_by_role("link", name=re.compile("ftplib.error_perm")).first.click()
    expect(page).to_have_url(f"{base}/investigations/{target}")
    expect(page.get_by_test_id("inv-status")).to_have_text("open")
    expect(page.get_by_test_id("fingerprint")).to_contain_text("load_ftp")
    expect(page.get_by_test_id("ev-traceback").first).to_contain_text("in retrbinary")
    page.screenshot(path=str(shots / "investigation.png"), full_page=True)
    page.get_by_test_id("action-resolve").click()
    expect(page.get_by_test_id("inv-status")).to_have_text("resolved")
    expect(page.get_by_test_id("activity")).to_contain_text("open → resolved")
    page.get_by_test_id("comment-text").fill("FTP path changed on their side; asked them to restore it.")
    page.get_by_test_id("comment-submit").click()
    expect(page.get_by_test_id("comment")).to_have_text(
        "FTP path changed on their side; asked them to restore it."
    )
    page.get_by_test_id("assignee-input").fill("ada")
    page.get_by_role("button", name="Assign").click()
    expect(page.get_by_test_id("assignee")).to_have_text("ada")
    inv = seed.investigation(engine, target)
    assert (inv.status, inv.assignee) == ("resolved", "ada")

    # The supplier link leads to its page with charts.
    page.get_by_test_id("supplier-link").click()
    expect(page.get_by_test_id("supplier-name")).to_have_text("FLOW-A")
    expect(page.locator("svg.chart")).to_have_count(4)
    page.screenshot(path=str(shots / "supplier.png"), full_page=True)
    page.goto(f"{base}/suppliers")
    expect(page.get_by_test_id("suppliers")).to_contain_text("FLOW-A")
    page.screenshot(path=str(shots / "suppliers.png"), full_page=True)

    # Start a job run: without ClickHouse the run is recorded as "not configured".
    page.goto(f"{base}/jobs")
    page.get_by_test_id("run-daily_analysis").click()
    expect(page.get_by_test_id("flash")).to_contain_text("daily_analysis started (run #")
    seed.wait_for_runs(engine)
    page.reload()
    expect(page.get_by_test_id("runs").locator("tr[data-run]").first).to_contain_text("not_configured")
    page.screenshot(path=str(shots / "jobs.png"), full_page=True)

    page.goto(f"{base}/agents")
    stale_row = page.get_by_test_id("agent-row").filter(has_text="loader-2")
    expect(stale_row.get_by_test_id("stale")).to_be_visible()
    expect(
        page.get_by_test_id("agent-row").filter(has_text="loader-1").get_by_test_id("stale")
    ).to_have_count(0)
    page.screenshot(path=str(shots / "agents.png"), full_page=True)

    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["pl_session"]["httpOnly"] is True
    assert cookies["pl_session"]["sameSite"] == "Lax"
    assert page.evaluate("document.cookie").find("pl_session") == -1

    page.get_by_test_id("logout").click()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    expect(page.get_by_text("You are logged out.")).to_be_visible()
    page.goto(f"{base}/investigations/{target}")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Finvestigations%2F"))


PAYLOADS = [
    "<script>window.__pwned='script'</script>",
    "<img src=x onerror=\"window.__pwned='img'\">",
    "javascript:window.__pwned='href'",
]


def test_hostile_event_fields_are_shown_as_text(
    live_dashboard: LiveDashboard, page: Page, shots: Path
) -> None:
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    engine = live_dashboard.engine
    ids = []
    for n, payload in enumerate(PAYLOADS):
        alerting = payload.replace("window.__pwned=", "alert(1);window.__pwned=")
        ids.append(
            seed.log(
                engine,
                seed.event(
                    message=f"XSS-{n} {alerting}",
                    supplier=f"XSS{n}{alerting}",
                    file=alerting,
                    traceback=(
                        f'Traceback (most recent call last):\n  File "{alerting}", line 1, in x\n'
                        f"ValueError: {alerting}"
                    ),
                    error_type="ValueError",
                    host=alerting,
                    logger=alerting,
                    extra={"note": alerting},
                ),
            )[0]
        )
        seed.supplier_days(engine, f"XSS{n}{alerting}", days=3)
    log_in(page, live_dashboard.url, "ada", "/investigations?q=XSS-&status=all")
    expect(page.get_by_test_id("investigations").locator("tbody tr")).to_have_count(3)
    pages = [f"/investigations/{i}" for i in ids] + ["/investigations?q=XSS-", "/suppliers"]
    for path in pages:
        page.goto(live_dashboard.url + path)
        for details in page.locator("details").all():
            details.evaluate("d => d.open = true")
        html = page.content()
        assert page.evaluate("window.__pwned") is None, path
        assert page.locator("script:not([src])").count() == 0, path
        assert page.locator("[onerror], [onload], [onclick]").count() == 0, path
        assert page.locator('a[href^="javascript:" i], form[action^="javascript:" i]').count() == 0, path
        assert "<script>window" not in html
    for n, inv_id in enumerate(ids):
        page.goto(f"{live_dashboard.url}/investigations/{inv_id}")
        alerting = PAYLOADS[n].replace("window.__pwned=", "alert(1);window.__pwned=")
        expect(page.get_by_test_id("ev-message")).to_have_text(f"XSS-{n} {alerting}")
        expect(page.get_by_test_id("ev-file")).to_have_text(alerting)
        expect(page.get_by_test_id("ev-supplier")).to_have_text(f"XSS{n}{alerting}")
        expect(page.get_by_test_id("ev-traceback")).to_contain_text(f"ValueError: {alerting}")
        # The supplier link stays a path on this site, whatever the supplier's name.
        href = page.get_by_test_id("supplier-link").get_attribute("href") or ""
        assert href.startswith("/suppliers/") and ":" not in href
        page.get_by_test_id("supplier-link").click()
        expect(page.get_by_test_id("supplier-name")).to_have_text(f"XSS{n}{alerting}")
        assert page.evaluate("window.__pwned") is None
    page.goto(f"{live_dashboard.url}/investigations/{ids[1]}")
    page.screenshot(path=str(shots / "hostile-event.png"), full_page=True)
    assert dialogs == []


def test_a_viewer_sees_no_actions(live_dashboard: LiveDashboard, page: Page) -> None:
    inv_id = seed.log(live_dashboard.engine, seed.event(supplier="VIEWER-B", message="viewer browser probe"))[
        0
    ]
    log_in(page, live_dashboard.url, "vic", f"/investigations/{inv_id}")
    expect(page.get_by_test_id("inv-title")).to_contain_text("viewer browser probe")
    expect(page.get_by_test_id("actions")).to_have_count(0)
    expect(page.get_by_test_id("comment-text")).to_have_count(0)
    page.goto(f"{live_dashboard.url}/investigations")
    expect(page.get_by_test_id("bulk-form")).to_have_count(0)
    page.goto(f"{live_dashboard.url}/jobs")
    expect(page.get_by_test_id("run-daily_analysis")).to_have_count(0)
    expect(page.get_by_test_id("backfill-form")).to_have_count(0)


def test_a_running_backfill_shows_live_progress(live_dashboard: LiveDashboard, page: Page) -> None:
    from collector.scheduler import runs

    engine = live_dashboard.engine
    run = runs.claim_run(
        engine, "backfill", trigger="manual", params={"start": "2024-03-01", "end": "2024-03-05"}
    )
    assert run.id is not None
    runs.record_progress(engine, run.id, 2, 5)
    log_in(page, live_dashboard.url, "vic", "/jobs")
    running = page.get_by_test_id("running")
    expect(running).to_contain_text("backfill")
    expect(running.locator("[data-progress-text]")).to_have_text("2 / 5 days")
    runs.record_progress(engine, run.id, 4, 5)
    expect(running.locator("[data-progress-text]")).to_have_text("4 / 5 days", timeout=8000)
    assert running.locator("progress").evaluate("p => p.value") == 4
    runs.finish_run(engine, run.id, runs.SUCCESS, figures={"days": 5})
    expect(page.get_by_test_id("running")).to_have_count(0, timeout=8000)  # the page reloads when it ends
    expect(page.locator(f'tr[data-run="{run.id}"]')).to_contain_text("success")
