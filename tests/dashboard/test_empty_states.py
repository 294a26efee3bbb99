"""A fresh installation: every page says what to do next instead of showing an empty table.

This module gets its own empty database (the server fixture is per module).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.dashboard.conftest import LiveDashboard
from tests.dashboard.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def test_empty_states_say_what_to_do_next(live_dashboard: LiveDashboard, page: Page, shots: Path) -> None:
    base = live_dashboard.url
    log_in(page, base, "ada")
    empty = page.get_by_test_id("empty-state")
    expect(empty).to_contain_text("No investigations yet")
    expect(empty).to_contain_text("pricelens-agent run")
    expect(empty).to_contain_text(f"{base}/api/v1/pricelens/log_event/")
    page.screenshot(path=str(shots / "empty-investigations.png"), full_page=True)

    page.goto(f"{base}/suppliers")
    expect(page.get_by_test_id("empty-clickhouse")).to_contain_text("PRICELENS_CLICKHOUSE_URL")
    page.goto(f"{base}/jobs")
    expect(page.get_by_test_id("empty-clickhouse")).to_be_visible()
    expect(page.get_by_test_id("no-runs")).to_contain_text("Run now")
    expect(page.get_by_test_id("jobs")).to_contain_text("daily_analysis")

    page.goto(f"{base}/agents")
    expect(page.get_by_test_id("empty-state")).to_contain_text("No agents have reported yet")
    expect(page.get_by_test_id("empty-state")).to_contain_text("pricelens token create")
    page.screenshot(path=str(shots / "empty-agents.png"), full_page=True)
