"""The usage page in a real browser, on the demo: reached from the admin index, its chart has a
seeded history with time labels, and the session reports have charts and tables.
Screenshots go to ``artifacts/browser/``.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import log_in

pytestmark = pytest.mark.browser


def test_usage_page_from_the_index(page, demo_server, shoot):
    log_in(page, demo_server, "agent")
    page.get_by_role("link", name="Usage snapshots").first.click()
    expect(page).to_have_url(demo_server.url("/admin/django_upscope/usagesnapshot/"))
    chart = page.locator("#upscope-usage-chart")
    expect(chart).to_be_visible()
    # demo_setup's week of snapshots, upscope_sync's one and the current figures.
    expect(chart.locator("circle")).to_have_count(3 * 30)
    expect(chart.locator("text.upscope-time-label")).to_have_count(5)
    expect(page.locator("#upscope-usage-current")).to_be_visible()
    shoot(page, "usage-chart")
    per_agent = page.locator("#upscope-chart-per-agent")
    per_agent.scroll_into_view_if_needed()
    expect(per_agent.locator("rect").first).to_be_visible()
    expect(page.locator("#upscope-table-per-agent tbody tr").first).to_be_visible()
    shoot(page, "usage-reports")
    page.locator("#upscope-usage-table summary").click()
    expect(page.locator("#upscope-usage-table tbody tr")).to_have_count(30)
