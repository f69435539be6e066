"""The mirror follows the agent's own share at once, in a real browser (issue 11).

An agent starts a screen share from the visitor's admin page; once the frame reports the
session "active" (and the page has relayed that event, with its Origin and CSRF token), the
"In session = Yes" filter lists the visitor and its page lists the running session. After
"Stop session" the visitor is out of session and its page shows that session ended, without
any sync in between.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import log_in

pytestmark = pytest.mark.browser


def _idle_online_visitor(server):
    """An online visitor the mirror has out of session (the last, to keep clear of others)."""
    rows = server.query(
        "import json\n"
        "from django_upscope.fake.models import FakeVisitor\n"
        "from django_upscope.models import Visitor\n"
        # Idle in the mirror and in the fake (other tests' visitors come and go, or stay in a
        # session), and a seeded one (the stand-in loader's visitors leave when their page does).
        "idle = set(FakeVisitor.objects.filter(is_online=True, is_in_session=False, "
        "sdk_connection__isnull=True).values_list('short_id', flat=True))\n"
        "rows = Visitor.objects.filter(is_online=True, is_in_session=False)"
        ".exclude(display_name='').order_by('short_id').values_list('short_id', flat=True)\n"
        "print(json.dumps([r for r in rows if r in idle]))"
    )
    assert rows, "the seeded demo needs an online visitor out of session"
    return rows[-1]


def _newest_session(server, short_id):
    return server.query(
        "import json\n"
        "from django_upscope.models import Session\n"
        f"s = Session.objects.filter(visitor_id={short_id!r}).order_by('-started_at', '-id')"
        ".values('id', 'ended_at').first()\n"
        "print(json.dumps(s, default=str))"
    )


def _is_relay(short_id):
    path = f"/admin/django_upscope/visitor/{short_id}/screenshare/event/"
    return lambda request: request.method == "POST" and request.url.endswith(path)


def test_the_mirror_shows_the_share_and_its_end_at_once(page, demo_server, shoot):
    base = demo_server.base_url
    short_id = _idle_online_visitor(demo_server)
    change = f"/admin/django_upscope/visitor/{short_id}/change/"
    in_session = "/admin/django_upscope/visitor/?is_in_session__exact=1"
    idle = "/admin/django_upscope/visitor/?is_in_session__exact=0"
    log_in(page, demo_server, "agent", next_path=change)
    expect(page).to_have_url(base + change)
    # Before: the mirror has the visitor out of session.
    page.goto(base + in_session)
    expect(page.locator("#changelist")).to_be_visible()
    expect(page.locator(f'#result_list a[href*="/{short_id}/"]')).to_have_count(0)
    page.goto(base + idle)
    expect(page.locator(f'#result_list a[href*="/{short_id}/"]').first).to_be_visible()

    # Start the share from the visitor's page; the page relays the frame's "active".
    page.goto(base + change)
    with page.expect_response(lambda response: _is_relay(short_id)(response.request)) as relayed:
        page.locator(".object-tools").get_by_role("link", name="Start screen share").click()
        expect(page.locator("#upscope-session-state")).to_have_attribute("data-state", "active")
    response = relayed.value
    assert response.request.post_data_json == {"event": "active"}
    # A request of the page itself: our Origin, and the admin's CSRF check passed.
    assert response.request.header_value("origin") == base
    assert response.status == 200
    shoot(page, "share-active")

    # The mirror already has the visitor in session, and its page lists the running session
    # (seen in a second tab: the share page stays open).
    view = page.context.new_page()
    session = _newest_session(demo_server, short_id)
    assert session is not None and session["ended_at"] is None
    view.goto(base + in_session)
    expect(view.locator(f'#result_list a[href*="/{short_id}/"]').first).to_be_visible()
    view.goto(base + change)
    row = view.locator("#sessions-group tr", has_text=str(session["id"]))
    expect(row.locator("td.field-ended_at")).to_have_text("-")
    shoot(view, "visitor-in-session")

    # Stop, on the share page.
    state = page.locator("#upscope-session-state")
    page.locator("#upscope-stop").click()
    expect(page.locator("#upscope-stop-message")).to_have_text("The session was stopped.")
    expect(state).to_have_attribute("data-state", "ended")
    shoot(page, "share-stopped")

    # The visitor is out of session and its page shows that session ended.
    view.goto(base + idle)
    expect(view.locator(f'#result_list a[href*="/{short_id}/"]').first).to_be_visible()
    view.goto(base + in_session)
    expect(view.locator("#changelist")).to_be_visible()
    expect(view.locator(f'#result_list a[href*="/{short_id}/"]')).to_have_count(0)
    view.goto(base + change)
    row = view.locator("#sessions-group tr", has_text=str(session["id"]))
    expect(row.locator("td.field-ended_at")).to_have_text(re.compile(r"\d"))
    shoot(view, "visitor-session-ended")
    assert _newest_session(demo_server, short_id)["id"] == session["id"]

    assert page.console_watch.ours() == []
