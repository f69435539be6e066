"""Screens that know the server, and the console as a product (issue 15), in a real browser.

On an on-premise server (which documents only the read endpoints) neither the admin nor the
console offers a control that can only fail: no screen share, no stop, no delete, no purge,
and one line says why. On the cloud the same controls are there (the positive control). On
the cloud, the console clears old results when a search fails, shows the ended page after
Stop, disables Stop once the session ended, and lets a non-staff agent log in on its own page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import DemoServer, log_in, sibling_server

pytestmark = pytest.mark.browser

VISITORS = "/admin/django_upscope/visitor/"
ACTING_ACTIONS = ("delete_visitors", "purge_offline_visitors", "stop_sessions")
NOTICE = "This Upscope server is on-premise"


@pytest.fixture(scope="module")
def onprem_server(demo_server: DemoServer) -> Iterator[DemoServer]:
    """The demo's database and fake, configured for the fake's on-premise API."""
    with sibling_server(demo_server, "tests.browser.onprem_settings", "onprem-server") as server:
        yield server


@pytest.fixture
def onprem_page(chromium: Any, onprem_server: DemoServer) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="module")
def helpdesk(demo_server: DemoServer) -> tuple[str, str]:
    """A non-staff agent with the API's permissions (view visitors, screen share)."""
    demo_server.query(
        "import json\n"
        "from django.contrib.auth.models import Permission, User\n"
        "user, _ = User.objects.get_or_create(username='helpdesk', "
        "defaults={'first_name': 'Hal', 'last_name': 'Helpdesk'})\n"
        "user.is_staff = False\n"
        "user.set_password('helpdesk-pass')\n"
        "user.save()\n"
        "user.user_permissions.set(Permission.objects.filter(content_type__app_label="
        "'django_upscope', codename__in=['view_visitor', 'screenshare_visitor']))\n"
        "print(json.dumps(user.pk))"
    )
    return "helpdesk", "helpdesk-pass"


def action_values(page: Any) -> list[str]:
    return page.locator("select[name=action] option").evaluate_all(
        "options => options.map(o => o.value)"
    )


def test_on_premise_nothing_is_offered_that_can_only_fail(
    onprem_page, onprem_server, online_visitors, shoot
):
    page = onprem_page
    short_id = online_visitors[0]["short_id"]
    log_in(page, onprem_server, "admin", next_path=VISITORS)
    expect(page.locator("#result_list")).to_be_visible()
    # What does work is there: the rows, and the refresh action (a read).
    expect(page.locator(f'#result_list a[href*="/{short_id}/change/"]')).to_have_count(1)
    actions = action_values(page)
    assert "refresh_visitors" in actions
    assert not set(ACTING_ACTIONS) & set(actions), actions
    expect(page.locator("a.upscope-screenshare")).to_have_count(0)
    expect(page.locator("#upscope-screenshare-by-code")).to_have_count(0)
    expect(page.locator('a[href$="/visitor/purge/"]')).to_have_count(0)
    expect(page.locator("#upscope-server-notice")).to_contain_text(NOTICE)
    expect(page.locator("#upscope-server-notice")).to_contain_text("screen sharing")
    shoot(page, "onprem-visitor-list")

    page.goto(onprem_server.url(f"{VISITORS}{short_id}/change/"))
    expect(page.locator("#upscope-server-notice")).to_contain_text(NOTICE)
    expect(page.locator("a.upscope-screenshare")).to_have_count(0)
    shoot(page, "onprem-visitor-page")

    # Reached anyway (an old bookmark): a page that says why, in words, no developer names.
    page.goto(onprem_server.url(f"{VISITORS}{short_id}/screenshare/"))
    explanation = page.locator("#upscope-error-explanation")
    expect(explanation).to_contain_text(
        "This Upscope server (on-premise) does not offer screen sharing"
    )
    expect(page.locator("body")).not_to_contain_text("create_watch_url")

    # The console: visitors listed, no Start, the reason on screen.
    page.goto(onprem_server.url("/console/"))
    expect(page.locator("#results li.visitor").first).to_be_visible()
    expect(page.locator("#server-notice")).to_be_visible()
    expect(page.locator("#server-notice")).to_contain_text(NOTICE)
    expect(page.locator("button.start-share")).to_have_count(0)
    expect(page.locator("#share-panel")).to_be_hidden()
    shoot(page, "onprem-console")


def test_on_the_cloud_the_same_controls_are_offered(page, demo_server, online_visitors, shoot):
    short_id = online_visitors[0]["short_id"]
    log_in(page, demo_server, "admin", next_path=VISITORS)
    expect(page.locator("#result_list")).to_be_visible()
    assert set(ACTING_ACTIONS) <= set(action_values(page))
    expect(page.locator("a.upscope-screenshare").first).to_be_visible()
    expect(page.locator("#upscope-screenshare-by-code")).to_be_visible()
    expect(page.locator('a[href$="/visitor/purge/"]')).to_be_visible()
    expect(page.locator("#upscope-server-notice")).to_have_count(0)
    page.goto(demo_server.url(f"{VISITORS}{short_id}/change/"))
    expect(page.locator("a.upscope-screenshare")).to_be_visible()
    page.goto(demo_server.url("/console/"))
    expect(page.locator("button.start-share").first).to_be_visible()
    expect(page.locator("#server-notice")).to_be_hidden()
    shoot(page, "cloud-console")
    assert page.console_watch.ours() == []


def test_a_failed_search_clears_the_old_results(page, demo_server, shoot):
    log_in(page, demo_server, "agent", next_path="/console/")
    results = page.locator("#results li.visitor")
    expect(results.first).to_be_visible()
    # The fake answers the next search with a server error (not retried: no waiting).
    demo_server.query(
        "from django_upscope.fake import state\n"
        "state.inject_fault('list', status=500, times=1)\n"
        "print(1)"
    )
    page.locator("#search").fill("anyone")
    page.locator("#search-button").click()
    message = page.locator("#console-message")
    expect(message).to_contain_text("Upscope")
    expect(results).to_have_count(0)
    expect(page.locator("#results")).to_be_empty()
    text = message.text_content() or ""
    assert not re.search(r"\bhttp_\d+\b|api_error|\{", text), text
    shoot(page, "console-failed-search")
    # The next search works again and lists visitors (the fault was used once).
    page.locator("#search").fill("")
    page.locator("#search-button").click()
    expect(results.first).to_be_visible()
    expect(message).to_have_text("")


def test_after_stop_the_frame_shows_the_ended_page_and_stop_is_disabled(
    page, demo_server, online_visitors, shoot
):
    short_id = online_visitors[2]["short_id"]
    log_in(page, demo_server, "agent", next_path="/console/")
    stop = page.locator("#stop-session")
    row = page.locator(f'#results li.visitor[data-short-id="{short_id}"]')
    row.locator("button.start-share").click()
    state = page.locator("#session-state")
    expect(state).to_have_attribute("data-state", "active")
    expect(stop).to_be_enabled()
    stop.click()
    expect(state).to_have_attribute("data-state", "ended")
    frame = page.frame_locator("iframe#share-frame")
    expect(frame.locator("#upscope-ended")).to_contain_text("The screen share has ended.")
    expect(page.locator("iframe#share-frame")).not_to_have_attribute(
        "src", re.compile(r"/__upscope__/watch/")
    )
    expect(stop).to_be_disabled()
    shoot(page, "console-ended")
    assert page.console_watch.ours() == []


def test_a_non_staff_agent_logs_in_on_the_console_page(page, demo_server, helpdesk, shoot):
    username, password = helpdesk
    page.goto(demo_server.url("/console/"))
    expect(page).to_have_url(demo_server.url("/console/login/?next=/console/"))
    # A wrong password is said in words, and the agent stays on the login page.
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill("not-the-password")
    page.locator("#console-login [type=submit]").click()
    expect(page.locator("#login-error")).to_contain_text("not right")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("#console-login [type=submit]").click()
    expect(page).to_have_url(demo_server.url("/console/"))
    expect(page.locator("header")).to_contain_text("Hal Helpdesk")
    expect(page.locator("header a", has_text="Admin")).to_have_count(0)
    expect(page.locator("#results li.visitor").first).to_be_visible()
    expect(page.locator("button.start-share").first).to_be_visible()
    shoot(page, "console-non-staff")
