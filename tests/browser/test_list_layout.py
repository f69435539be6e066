"""The visitor list fits a 1366 px screen, in a real browser, and the visitor page reads well.

The list must not scroll sideways at 1366x768 (the admin's own nav sidebar and filters
included): the page is no wider than the window and the last column's right edge is inside
it. The same measure at 500 px does find an overflow, so it is a measure that can fail. The
compact "Share" buttons are one line each: as tall as the same button made to stay on one
line, while a copy squeezed to wrap is taller (the comparison's positive control).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import log_in

pytestmark = pytest.mark.browser

LIST = "/admin/django_upscope/visitor/"

# How far the list reaches: the document's width, the window's, the last header's edge, and
# the results box (the admin scrolls the table inside it, clipped before the filters).
MEASURE = """() => {
  const headers = document.querySelectorAll("#result_list thead th");
  const last = headers[headers.length - 1];
  const results = document.querySelector("#changelist .results");
  return {
    resultsRight: results.getBoundingClientRect().right,
    resultsScroll: results.scrollWidth - results.clientWidth,
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    lastRight: last.getBoundingClientRect().right,
    lastClass: last.className,
    columns: headers.length,
  };
}"""

# Each Share button's height, the height of a copy kept on one line, and of a copy squeezed
# to 1 px so that it must wrap.
SHARE_LINES = """() => {
  const buttons = [...document.querySelectorAll("#result_list a.upscope-share")];
  const copy = (style) => {
    const clone = buttons[0].cloneNode(true);
    clone.setAttribute("style", style);
    document.body.appendChild(clone);
    const height = clone.getBoundingClientRect().height;
    clone.remove();
    return height;
  };
  return {
    heights: buttons.map((b) => b.getBoundingClientRect().height),
    oneLine: copy("position:absolute;top:0;left:0;white-space:nowrap"),
    wrapped: copy("position:absolute;top:0;left:0;width:1px;white-space:normal"),
  };
}"""


def open_list(page, demo_server, width, height=768):
    page.set_viewport_size({"width": width, "height": height})
    page.goto(demo_server.url(LIST))
    expect(page.locator("#result_list tbody tr").first).to_be_visible()
    return page.evaluate(MEASURE)


def test_visitor_list_fits_1366_without_sideways_scrolling(page, demo_server, shoot):
    log_in(page, demo_server, "admin")
    expect(page.locator("#user-tools")).to_be_visible()

    wide = open_list(page, demo_server, 1366)
    shoot(page, "list-1366")
    assert wide["lastClass"].startswith("column-last_url_short"), wide
    assert wide["columns"] == 8, wide  # checkbox, name, share, labels, status, place, seen, URL
    assert wide["scrollWidth"] <= wide["innerWidth"], wide
    assert wide["lastRight"] <= wide["innerWidth"], wide
    assert wide["lastRight"] <= wide["resultsRight"] and wide["resultsScroll"] == 0, wide
    # The columns the old list hid are on screen.
    header = page.locator("#result_list thead")
    for title in ("Country", "Last seen", "Last URL", "Identities and tags", "Status"):
        expect(header).to_contain_text(re.compile(title, re.I))

    shares = page.evaluate(SHARE_LINES)
    assert shares["heights"], "no Share buttons in the list"
    assert all(abs(h - shares["oneLine"]) < 1 for h in shares["heights"]), shares
    assert shares["wrapped"] > shares["oneLine"] + 5, shares  # the comparison detects wrapping
    expect(page.locator("#result_list a.upscope-share").first).to_have_attribute(
        "aria-label", "Start screen share"
    )

    # Positive control: the same measure at 500 px (below the table's 640 px minimum) finds
    # the overflow.
    narrow = open_list(page, demo_server, 500)
    assert narrow["lastRight"] > narrow["innerWidth"] or (
        narrow["scrollWidth"] > narrow["innerWidth"]
    ), narrow
    assert narrow["resultsScroll"] > 0, narrow


def test_visitor_page_with_fetched_history_and_sessions(page, demo_server, shoot):
    # A visitor whose fake holds a history and sessions (the seed gives some of each).
    short_id = demo_server.query(
        "import json\n"
        "from django_upscope.fake.models import FakeVisitor\n"
        "from django_upscope.models import Visitor\n"
        "mirrored = set(Visitor.objects.filter(sessions__isnull=False)"
        ".values_list('short_id', flat=True))\n"
        "ids = [v.short_id for v in FakeVisitor.objects.exclude(history=None).order_by('short_id')"
        " if v.short_id in mirrored and (v.history or {}).get('pageviews')]\n"
        "print(json.dumps(ids[0] if ids else None))"
    )
    assert short_id, "the seeded demo needs a visitor with history and sessions"
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, demo_server, "admin", f"/admin/django_upscope/visitor/{short_id}/change/")
    expect(page.locator("fieldset")).not_to_have_count(0)
    expect(page.locator("table.upscope-history")).to_have_count(0)

    page.locator("#upscope-fetch-history").click()
    expect(page.locator("ul.messagelist")).to_contain_text(
        f"Fetched the history of visitor {short_id}."
    )
    rows = page.locator("table.upscope-history tbody tr")
    expect(rows.first).to_be_visible()
    expect(rows.first.locator("td").nth(1).locator("a")).to_have_attribute(
        "href", re.compile(r"^https?://")
    )
    expect(page.locator(".upscope-chip--agent").first).to_be_visible()
    expect(page.locator("#sessions-group")).to_contain_text(re.compile(r"\d+ (min|s|h)\b"))
    page.locator("table.upscope-history").scroll_into_view_if_needed()
    shoot(page, "visitor-history")
    page.locator("#sessions-group").scroll_into_view_if_needed()
    shoot(page, "visitor-sessions")
    assert page.console_watch.ours() == []
