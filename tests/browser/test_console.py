"""The example agent console (/console/, issue 6) in a real browser.

The console is one HTML page driving django-upscope's DRF endpoints: search visitors, start a
screen share in ``#share-frame``, see the session go live through the frame's ``postMessage``
events, stop it and see it end. Screenshots of each step go to ``artifacts/browser/``.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import log_in

pytestmark = pytest.mark.browser


def test_console_searches_starts_and_stops_a_screen_share(
    page, demo_server, online_visitors, shoot
):
    base = re.escape(demo_server.base_url)
    visitor = online_visitors[1]
    short_id, name = visitor["short_id"], visitor["display_name"]

    # The console needs a login: its own login page brings the agent back to it.
    page.goto(demo_server.url("/console/"))
    expect(page).to_have_url(re.compile(rf"^{base}/console/login/\?next=/console/$"))
    log_in(page, demo_server, "agent", next_path="/console/")
    expect(page).to_have_url(demo_server.url("/console/"))
    expect(page.locator("header")).to_contain_text("Sam Support")
    # On load it lists the latest visitors: others than the one searched for below, too.
    results = page.locator("#results li.visitor")
    expect(results.first).to_be_visible()
    others = results.filter(has_not=page.locator(".online-badge")).or_(
        results.filter(has_not_text=name)
    )
    expect(others).not_to_have_count(0)
    shoot(page, "console-latest")

    # Search for one online visitor by name, online only: the list is replaced by the matches.
    page.locator("#search").fill(f'"{name}"')
    page.locator("#online-only").check()
    page.locator("#search-button").click()
    expect(others).to_have_count(0)
    row = page.locator(f'#results li.visitor[data-short-id="{short_id}"]')
    expect(row).to_be_visible()
    expect(row.locator(".name")).to_contain_text(name)
    expect(row.locator(".online-badge")).to_have_text("online")
    expect(page.locator("#results")).not_to_have_attribute("aria-busy", "true")
    expect(page.locator("#console-message")).to_have_text("")
    shoot(page, "console-search-results")

    # Start a screen share: the frame loads the fake's watch page and the session goes live.
    row.locator("button.start-share").click()
    expect(page.locator("#share-panel")).to_be_visible()
    expect(page.locator("#share-visitor")).to_have_text(name)
    share_frame = page.locator("iframe#share-frame")
    expect(share_frame).to_have_attribute("src", re.compile(rf"^{base}/__upscope__/watch/[^/?#]+$"))
    frame = page.frame_locator("iframe#share-frame")
    expect(frame.locator("section.screen")).to_be_visible()
    expect(frame.locator("body")).to_have_attribute("data-status", "active")
    expect(frame.locator(".topbar .who")).to_contain_text("Sam Support")
    state = page.locator("#session-state")
    expect(state).to_have_attribute("data-state", "active")
    expect(state).to_have_text("active")
    shoot(page, "console-share-active")

    # Stop session: the state shows ended, the watch URL leaves the page for the ended page.
    page.locator("#stop-session").click()
    expect(state).to_have_attribute("data-state", "ended")
    expect(state).to_have_text("ended")
    ended = f"/upscope/visitors/{short_id}/screenshare/ended/"
    expect(share_frame).to_have_attribute("src", ended)
    expect(frame.locator("#upscope-ended")).to_contain_text("The screen share has ended.")
    expect(page.locator("#stop-session")).to_be_disabled()
    expect(page.locator("#console-message")).to_have_text("")
    shoot(page, "console-share-stopped")

    assert page.console_watch.ours() == []
