"""The admin screen-share flow in a real browser, on the example project and its fake Upscope.

An agent logs into the admin, finds an online visitor, presses "Start screen share", watches the
fake's simulated screen in the page's iframe (no Upscope logo: ``branding.naked``), sees the
session go live through the frame's ``postMessage`` events, stops it and sees it end. Users who
are not staff are sent to the admin's login, without any call to Upscope. Screenshots of each
step go to ``artifacts/browser/``.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import log_in, session_cookie

pytestmark = pytest.mark.browser

# Where the frame is once the watch page has left (or the page dropped it): "gone" when the
# iframe has no src any more, "refused" when its document is Chromium's error page (a page
# that may not be framed), else the path it shows; false while it still shows the watch page.
FRAME_AFTER_WATCH_PAGE = """() => {
  const frame = document.getElementById("upscope-watch-frame");
  if (!frame || !frame.getAttribute("src")) { return "gone"; }
  let path;
  try { path = frame.contentWindow.location.pathname; } catch (e) { return "refused"; }
  return path.startsWith("/__upscope__/watch/") ? false : path;
}"""


def watch_url_requests(server, short_id):
    return [r for r in server.fake_requests("watch_url") if f"/visitors/{short_id}/" in r["path"]]


def test_agent_watches_and_stops_a_screen_share(page, demo_server, shoot):
    base = re.escape(demo_server.base_url)

    log_in(page, demo_server, "agent")
    expect(page).to_have_url(re.compile(rf"^{base}/admin/$"))
    expect(page.locator("#user-tools")).to_contain_text("Sam")
    shoot(page, "admin-index")

    # The visitors changelist, filtered to the ones online now.
    page.locator("#content-main").get_by_role("link", name="Visitors", exact=True).click()
    expect(page).to_have_url(re.compile(rf"^{base}/admin/django_upscope/visitor/$"))
    page.locator('#changelist-filter a[href*="is_online__exact=1"]').click()
    expect(page).to_have_url(re.compile(r"is_online__exact=1"))
    rows = page.locator("#result_list tbody tr")
    expect(rows.first).to_be_visible()
    expect(rows.first).to_contain_text("online")
    shoot(page, "visitors-online")

    # Open the first online visitor (the admin keeps the filters in the query string).
    first = rows.first.locator("th a, td a").first
    name = first.inner_text().strip()
    first.click()
    change_url = re.compile(rf"^{base}/admin/django_upscope/visitor/([^/]+)/change/(\?.*)?$")
    expect(page).to_have_url(change_url)
    short_id = change_url.match(page.url).group(1)
    start = page.locator(".object-tools").get_by_role("link", name="Start screen share")
    expect(start).to_be_visible()
    shoot(page, "visitor-change-form")

    # Start screen share: the page embeds the fake's watch page.
    before = len(watch_url_requests(demo_server, short_id))
    start.click()
    expect(page).to_have_url(
        f"{demo_server.base_url}/admin/django_upscope/visitor/{short_id}/screenshare/"
    )
    expect(page.locator("h1")).to_contain_text(name)
    expect(page.locator("iframe#upscope-watch-frame")).to_have_attribute(
        "src", re.compile(rf"^{base}/__upscope__/watch/[^/?#]+$")
    )
    frame = page.frame_locator("iframe#upscope-watch-frame")
    # The frame loaded this visitor's simulated screen, watched by the agent, with no logo.
    expect(frame.locator("section.screen")).to_be_visible()
    expect(frame.locator(".topbar .who")).to_contain_text(f"Sam Support watching {name}")
    expect(frame.locator("body")).to_have_attribute("data-status", "active")
    expect(frame.locator("[data-testid=upscope-logo]")).to_have_count(0)
    # The agent's role: remote control and audio, no console, no redirect.
    granted = frame.locator("#permissions li[data-granted=true]")
    expect(frame.locator('#permissions li[data-permission="allow_console"]')).to_have_attribute(
        "data-granted", "false"
    )
    expect(granted).not_to_have_count(0)
    # The page learnt the session is live from the frame's postMessage events.
    state = page.locator("#upscope-session-state")
    expect(state).to_have_attribute("data-state", "active")
    expect(state).to_have_text("active")
    # The visitor's details beside the frame.
    expect(page.locator("#upscope-visitor")).to_contain_text(short_id)
    shoot(page, "screenshare-active")

    # What the page asked Upscope for: naked branding, the agent as themselves.
    (minted,) = watch_url_requests(demo_server, short_id)[before:]
    assert minted["method"] == "POST"
    assert minted["json"]["branding"]["naked"] is True
    assert minted["json"]["agent"]["name"] == "Sam Support"
    assert minted["json"]["permissions"]["allow_console"] is False

    # Stop session: the page says so and shows the ended state; the frame sees it end too.
    page.locator("#upscope-stop").click()
    expect(state).to_have_attribute("data-state", "ended")
    expect(state).to_have_text(re.compile(r"^ended"))
    expect(page.locator("#upscope-stop-message")).to_have_text("The session was stopped.")
    shoot(page, "screenshare-stopped")

    assert page.console_watch.ours() == []


def test_frame_is_not_left_refused_after_the_session_ends(
    page, demo_server, online_visitors, shoot
):
    """When a session ends, the watch page goes to ``branding.on_end_url`` inside the frame;
    that page must be one the frame may show (or the page must drop the frame), never a
    refused frame (a page sent with ``X-Frame-Options: DENY``)."""
    short_id = online_visitors[0]["short_id"]
    screenshare = f"/admin/django_upscope/visitor/{short_id}/screenshare/"
    log_in(page, demo_server, "agent", next_path=screenshare)
    frame = page.frame_locator("iframe#upscope-watch-frame")
    expect(frame.locator("body")).to_have_attribute("data-status", "active")

    page.locator("#upscope-stop").click()
    expect(page.locator("#upscope-session-state")).to_have_attribute("data-state", "ended")
    where = page.wait_for_function(FRAME_AFTER_WATCH_PAGE, timeout=15_000).json_value()
    shoot(page, "frame-after-end")
    assert where != "refused", (
        "after the session ended, the frame shows Chromium's 'refused to connect' page: "
        "branding.on_end_url is a page sent with X-Frame-Options: DENY (the visitor's admin "
        "page); it must be a page that may be framed, or the page must drop the frame first"
    )
    assert page.console_watch.ours() == []


def test_non_staff_and_anonymous_users_are_refused(page, demo_server, online_visitors, shoot):
    short_id = online_visitors[2]["short_id"]
    screenshare = f"/admin/django_upscope/visitor/{short_id}/screenshare/"
    before = len(watch_url_requests(demo_server, short_id))

    # Anonymous: sent to the admin login (which would come back here afterwards).
    page.goto(demo_server.url(screenshare))
    expect(page).to_have_url(
        re.compile(
            re.escape(demo_server.url("/admin/login/?next="))
            + "("
            + re.escape(screenshare)
            + "|"
            + re.escape(screenshare.replace("/", "%2F"))
            + ")$"
        )
    )
    expect(page.locator("#login-form")).to_be_visible()
    shoot(page, "anonymous-sent-to-login")

    # The visitor account cannot log into the admin (not staff) ...
    log_in(page, demo_server, "visitor", next_path=screenshare)
    expect(page.locator(".errornote")).to_contain_text("staff account")
    shoot(page, "visitor-refused-by-admin-login")

    # ... and, logged in anyway, is sent back to the admin's login: no frame, no watch URL.
    page.context.add_cookies([session_cookie(demo_server, "visitor")])
    response = page.goto(demo_server.url(screenshare))
    assert response is not None
    expect(page).to_have_url(re.compile(re.escape(demo_server.url("/admin/login/?next="))))
    expect(page.locator(".errornote")).to_contain_text("not authorized to access this page")
    expect(page.locator("iframe")).to_have_count(0)
    assert "/__upscope__/watch/" not in page.content()
    shoot(page, "visitor-forbidden")

    # Neither of them made the site ask Upscope for a watch URL.
    assert len(watch_url_requests(demo_server, short_id)) == before
    assert page.console_watch.ours() == []
