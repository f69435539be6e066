"""The readable visitor pages: chips, the history table and its "Fetch history" button,
the sessions' lengths and agents, and the audit list's names and coloured outcomes."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from django_upscope.admin import display
from django_upscope.models import AuditEvent, Visitor
from django_upscope.testing.factories import (
    AgentFactory,
    AuditEventFactory,
    SessionFactory,
    VisitorFactory,
)

from ..helpers import make_user

CHANGELIST = "/admin/django_upscope/visitor/"
AUDIT_LIST = "/admin/django_upscope/auditevent/"
SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"

HISTORY = {
    "pageviews": [
        {
            "url": "https://shop.example.com/pricing",
            "title": "Pricing",
            "viewed_at": "2026-12-01T10:00:00.000Z",
        },
        {"url": "javascript:alert(1)", "title": "<img src=x onerror=alert(2)>"},
        {"title": "no url, no time"},
    ],
    "screenshots": [
        {
            "url": "https://shop.example.com/pricing",
            "taken_at": "2026-12-01T10:00:05.000Z",
            "width": 1280,
            "height": 720,
        },
        {"url": "javascript:alert(1)", "width": 390, "height": 844},
    ],
}


def change_url(short_id):
    return reverse("admin:django_upscope_visitor_change", args=[short_id])


def fetch_url(short_id):
    return reverse("admin:django_upscope_visitor_fetch_history", args=[short_id])


def texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def rows_of(html):
    table = html.split('<table class="upscope-history">', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], re.S)


# -- chips --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_identities_and_tags_are_escaped_chips_in_the_list_and_on_the_page(admin_client):
    VisitorFactory(short_id="V1", identities=["Ada", SCRIPT], tags=["#vip", "<b>bold</b>"])
    for url in (CHANGELIST, change_url("V1")):
        html = admin_client.get(url).content.decode()
        assert f'<span class="upscope-chip upscope-chip--identity">{ESCAPED_SCRIPT}</span>' in html
        assert '<span class="upscope-chip upscope-chip--tag">#vip</span>' in html
        assert '<span class="upscope-chip upscope-chip--tag">&lt;b&gt;bold&lt;/b&gt;</span>' in html
        assert SCRIPT not in html and "<b>bold</b>" not in html


def test_chips_past_the_limit_and_of_no_list():
    html = display.chips(["a", "b", "c", "d", "<e>"], "tag", limit=2)
    assert html.count('class="upscope-chip upscope-chip--tag"') == 2
    assert '<span class="upscope-chip upscope-chip--more" title="c, d, &lt;e&gt;">+3</span>' in html
    assert display.chips({"not": "a list"}) == "-"
    assert display.chips([]) == "-"


# -- history ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "linked"),
    [
        ("https://shop.example.com/a?b=1", True),
        ("HTTP://shop.example.com/", True),
        ("javascript:alert(1)", False),
        ("JavaScript:alert(1)", False),
        (" javascript:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("data:text/html,<script>", False),
        ("//evil.example.com/", False),
        ("https:///no-host", False),
        ("/pricing", False),
        (42, False),
    ],
)
def test_only_http_urls_are_links(value, linked):
    assert (display.web_url(value) is not None) is linked
    html = display.link_or_text(value)
    assert ("<a href=" in html) is linked


@pytest.mark.django_db
def test_history_is_a_table_of_pageviews_with_screenshots(admin_client):
    VisitorFactory(short_id="V1", history=HISTORY)
    html = admin_client.get(change_url("V1")).content.decode()
    pricing, script, bare = rows_of(html)
    # Time (in the page's time zone, machine-readable too), URL as a link, title, screenshot.
    assert '<time datetime="2026-12-01T10:00:00+00:00">' in pricing
    assert '<a href="https://shop.example.com/pricing"' in pricing and ">Pricing<" in pricing
    assert 'class="upscope-chip upscope-screenshot" href="https://shop.example.com/pricing"' in (
        pricing
    )
    assert "screenshot 1280\u00d7720" in pricing
    # A javascript: URL is text, never a link; its screenshot a label; the title escaped.
    assert "href=" not in script
    assert "javascript:alert(1)" in script and "screenshot 390\u00d7844" in script
    assert "&lt;img src=x onerror=alert(2)&gt;" in script and "<img" not in script
    # Missing fields are a dash, not an error.
    assert bare.count("<td>-</td>") == 3 and "no url, no time" in bare
    assert "&quot;pageviews&quot;" not in html  # the table, not the JSON


def test_history_of_a_list_of_pageviews_and_a_shape_not_understood():
    listed = display.history_table([{"href": "https://a.example/", "time": 1764583200}])
    assert '<a href="https://a.example/"' in listed
    assert '<time datetime="2025-12-01T10:00:00+00:00">' in listed
    unknown = display.history_table({"x": SCRIPT})
    assert "upscope-history" not in unknown and "&quot;x&quot;" in unknown
    assert ESCAPED_SCRIPT in unknown and SCRIPT not in unknown
    assert "No history fetched." in display.history_table(None)


# -- sessions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(252, "4 min 12 s"), (45, "45 s"), (0, "0 s"), (3780, "1 h 3 min"), (None, "-"), (-1, "-")],
)
def test_human_length(seconds, text):
    assert display.human_length(seconds) == text


@pytest.mark.django_db
def test_sessions_show_length_agents_and_features(admin_client):
    visitor = VisitorFactory(short_id="V1")
    ada = AgentFactory(name="Ada <Support>")
    SessionFactory(visitor=visitor, length_seconds=252, features_used=["draw"], agents=[ada])
    SessionFactory(visitor=visitor, active=True, agents=0)
    html = admin_client.get(change_url("V1")).content.decode()
    assert "4 min 12 s" in html and "in progress" in html
    assert '<span class="upscope-chip upscope-chip--agent">Ada &lt;Support&gt;</span>' in html
    assert '<span class="upscope-chip upscope-chip--feature">draw</span>' in html


@pytest.mark.django_db
def test_session_rows_do_not_query_per_session(admin_client, django_assert_max_num_queries):
    visitor = VisitorFactory(short_id="V1")
    SessionFactory(visitor=visitor, agents=2)
    with CaptureQueriesContext(connection) as one:
        assert admin_client.get(change_url("V1")).status_code == 200
    SessionFactory.create_batch(8, visitor=visitor, agents=2)
    with django_assert_max_num_queries(len(one.captured_queries)):
        html = admin_client.get(change_url("V1")).content.decode()
    assert html.count("upscope-chip--agent") == 18  # every session's agents, from the prefetch


# -- Fetch history ------------------------------------------------------------------------


@pytest.mark.django_db
def test_fetch_history_button_only_for_those_who_may_refresh(admin_client, login):
    VisitorFactory(short_id="V1")
    assert f'formaction="{fetch_url("V1")}"' in admin_client.get(change_url("V1")).content.decode()
    viewer = make_user("viewer", ["view_visitor"])
    html = login(viewer).get(change_url("V1")).content.decode()
    assert "No history fetched." in html  # the history field is there, without its button
    assert fetch_url("V1") not in html


def test_fetch_history_without_permission_is_refused_and_audited(upscope_fake, client):
    short_id = upscope_fake.add_visitor(history=HISTORY)
    VisitorFactory(short_id=short_id)
    client.force_login(make_user("viewer", ["view_visitor"]))
    response = client.post(fetch_url(short_id))
    assert response.status_code == 302 and response["Location"] == change_url(short_id)
    assert texts(response) == ["You do not have the permission to refresh visitors."]
    assert Visitor.objects.get(pk=short_id).history is None
    assert AuditEvent.objects.get().outcome == "denied"
    assert upscope_fake.requests("visitor_get") == []


def test_fetch_history_needs_the_csrf_token_then_stores_the_history(upscope_fake):
    short_id = upscope_fake.add_visitor(history=HISTORY)
    VisitorFactory(short_id=short_id)
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("root", superuser=True))
    assert client.post(fetch_url(short_id)).status_code == 403
    assert Visitor.objects.get(pk=short_id).history is None
    # The button posts the change form, so the form's token is what it sends.
    page = client.get(change_url(short_id)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(fetch_url(short_id), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == change_url(short_id)
    assert texts(response) == [f"Fetched the history of visitor {short_id}."]
    row = Visitor.objects.get(pk=short_id)
    assert row.history == HISTORY and row.history_synced_at is not None
    html = client.get(change_url(short_id)).content.decode()
    assert '<a href="https://shop.example.com/pricing"' in html


def test_fetch_history_upscope_503_is_a_message(upscope_fake, admin_client):
    short_id = upscope_fake.add_visitor(history=HISTORY)
    VisitorFactory(short_id=short_id)
    upscope_fake.fail("visitor_get", status=503, times=None)
    response = admin_client.post(fetch_url(short_id))
    assert response.status_code == 302 and response["Location"] == change_url(short_id)
    [message] = texts(response)
    assert message.startswith("The history was not fetched.") and "HTTP 503" in message
    assert Visitor.objects.get(pk=short_id).history is None
    assert AuditEvent.objects.get().outcome == "failure"


@pytest.mark.django_db
def test_fetch_history_get_and_bad_ids(admin_client):
    VisitorFactory(short_id="V1")
    assert admin_client.get(fetch_url("V1")).status_code == 405
    assert admin_client.post(fetch_url("not a valid id!")).status_code == 404


# -- the audit list -----------------------------------------------------------------------


@pytest.mark.django_db
def test_audit_list_names_visitors_and_users_and_colours_outcomes(admin_client):
    VisitorFactory(short_id="V1", display_name="Grace Hopper", identities=["Grace Hopper"])
    ada = make_user("ada", first_name="Ada", last_name="Lovelace")
    AuditEventFactory(visitor_short_id="V1", outcome="success", user=ada)
    AuditEventFactory(visitor_short_id="V1", outcome="failure")
    AuditEventFactory(visitor_short_id="GONE1", outcome="denied")
    html = admin_client.get(AUDIT_LIST).content.decode()
    assert "Grace Hopper" in html and "GONE1" in html  # a visitor no longer mirrored: its id
    assert "Ada Lovelace" in html
    for outcome, text in (("success", "Success"), ("failure", "Failure"), ("denied", "Denied")):
        assert f'<span class="upscope-outcome upscope-outcome--{outcome}">{text}</span>' in html
    assert "django_upscope/admin.css" in html
