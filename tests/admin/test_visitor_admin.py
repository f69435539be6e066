"""The Visitor and Session admin: read-only mirror, filters, actions through the services."""

from __future__ import annotations

import json

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from django_upscope.fake import state
from django_upscope.models import AuditEvent, Session, Visitor
from django_upscope.testing.factories import SessionFactory, VisitorFactory

from ..helpers import make_user
from .conftest import assert_secret_free

CHANGELIST = "/admin/django_upscope/visitor/"


def change_url(short_id):
    return reverse("admin:django_upscope_visitor_change", args=[short_id])


def run_action(client, action, short_ids, *, confirm=True, follow=True):
    data = {"action": action, "_selected_action": list(short_ids)}
    if confirm:
        data["post"] = "yes"
    return client.post(CHANGELIST, data, follow=follow)


def texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def mirror_fake_visitors(upscope_fake, n, **fields):
    """Visitors that exist in the fake and in the mirror (as a sync would leave them)."""
    ids = [upscope_fake.add_visitor(**fields) for _ in range(n)]
    for short_id in ids:
        VisitorFactory(short_id=short_id)
    return ids


# -- the list ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_changelist_columns_badges_and_screenshare_link(admin_client):
    VisitorFactory(
        short_id="V1", identities=["Ada", "ada@example.com"], is_online=True,
        device_type="mobile", device_name="Pixel 8", browser_name="Chrome Mobile",
        location_country="GB", location_country_name="united kingdom",
        last_url="https://shop.example.com/" + "x" * 200,
    )  # fmt: skip
    html = admin_client.get(CHANGELIST).content.decode()
    assert '<span class="upscope-chip upscope-chip--identity">ada@example.com</span>' in html
    assert ">online<" in html
    assert "united kingdom<br>" in html and "mobile \u00b7 Pixel 8 \u00b7 Chrome Mobile" in html
    assert "https://shop.example.com/xxx" in html and "x" * 200 not in html.split("title=")[0]
    assert f'href="{reverse("admin:django_upscope_visitor_screenshare", args=["V1"])}"' in html
    assert "Start screen share" in html


@pytest.mark.django_db
def test_screenshare_link_hidden_without_permission(login):
    VisitorFactory(short_id="V1")
    user = make_user("viewer", ["view_visitor"])
    response = login(user).get(CHANGELIST)
    assert response.status_code == 200
    assert "Start screen share" not in response.content.decode()


@pytest.mark.django_db
def test_filters_and_search(admin_client):
    VisitorFactory(
        short_id="V1",
        tags=["#vip"],
        is_online=True,
        identities=["Ada"],
        lookup_code="1234",
        device_type="desktop",
    )
    VisitorFactory(
        short_id="V2",
        tags=["#trial"],
        is_online=False,
        identities=["Bob"],
        lookup_code="5678",
        device_type="mobile",
    )

    def listed(query):
        response = admin_client.get(CHANGELIST + query)
        assert response.status_code == 200
        return {v.short_id for v in response.context["cl"].result_list}

    assert listed("?tag=%23vip") == {"V1"}
    assert listed("?is_online__exact=0") == {"V2"}
    assert listed("?device_type=mobile") == {"V2"}
    assert listed("?q=5678") == {"V2"}
    assert listed("?q=Ada") == {"V1"}
    filter_html = admin_client.get(CHANGELIST).content.decode()
    assert "?tag=%23trial" in filter_html


@pytest.mark.django_db
def test_changelist_query_count_does_not_grow_with_rows(
    admin_client, django_assert_max_num_queries
):
    VisitorFactory.create_batch(5, tags=["#vip"])
    with CaptureQueriesContext(connection) as small:
        assert admin_client.get(CHANGELIST).status_code == 200
    VisitorFactory.create_batch(45, tags=["#trial"])
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = admin_client.get(CHANGELIST)
    assert len(response.context["cl"].result_list) == 50


# -- the change form ----------------------------------------------------------------------


@pytest.mark.django_db
def test_change_form_is_read_only_with_screenshare_button_sessions_and_history(admin_client):
    visitor = VisitorFactory(short_id="V1", history={"pageviews": [{"url": "/pricing"}]})
    SessionFactory(visitor=visitor, features_used=["click", "draw"])
    html = admin_client.get(change_url("V1")).content.decode()
    assert 'class="upscope-screenshare"' in html
    assert reverse("admin:django_upscope_visitor_screenshare", args=["V1"]) in html
    assert 'name="_save"' not in html
    assert 'name="short_id"' not in html and 'name="display_name"' not in html
    assert 'type="text"' not in html.split('id="visitor_form"')[1]
    assert '<span class="upscope-chip upscope-chip--feature">draw</span>' in html
    assert 'class="upscope-history"' in html and '<span title="/pricing">/pricing</span>' in html
    # No delete link (a local-only delete), while the page's other object links are there.
    assert reverse("admin:django_upscope_visitor_delete", args=["V1"]) not in html
    assert reverse("admin:django_upscope_visitor_history", args=["V1"]) in html


@pytest.mark.django_db
def test_no_local_only_delete_or_add_or_edit(admin_client):
    VisitorFactory(short_id="V1")
    actions = admin_client.get(CHANGELIST).context["action_form"].fields["action"].choices
    names = [name for name, _label in actions]
    assert "delete_selected" not in names
    assert {
        "delete_visitors",
        "purge_offline_visitors",
        "refresh_visitors",
        "stop_sessions",
    } <= set(names)
    assert admin_client.get(CHANGELIST + "V1/delete/").status_code == 403
    assert admin_client.post(CHANGELIST + "V1/change/", {"display_name": "x"}).status_code == 403
    assert admin_client.get(CHANGELIST + "add/").status_code == 403
    assert Visitor.objects.get(pk="V1").display_name != "x"


@pytest.mark.django_db
def test_actions_offered_by_permission(login):
    VisitorFactory(short_id="V1")
    user = make_user("viewer", ["view_visitor", "refresh_visitor"])
    choices = login(user).get(CHANGELIST).context["action_form"].fields["action"].choices
    assert [name for name, _ in choices if name] == ["refresh_visitors"]


# -- actions against the fake ------------------------------------------------------------


def test_delete_action_confirms_then_deletes_remote_and_local(admin_client, upscope_fake):
    ids = mirror_fake_visitors(upscope_fake, 2)
    page = run_action(admin_client, "delete_visitors", ids, confirm=False)
    assert page.status_code == 200
    assert "Delete these visitors in Upscope and here?" in page.content.decode()
    assert upscope_fake.requests() == []
    assert Visitor.objects.count() == 2

    response = run_action(admin_client, "delete_visitors", ids)
    assert response.status_code == 200
    assert Visitor.objects.count() == 0
    deletes = [r for r in upscope_fake.requests() if r.method == "DELETE"]
    assert sorted(r.path for r in deletes) == sorted(
        f"/__upscope__/v1.1/visitors/{short_id}.json" for short_id in ids
    )
    assert any("Deleted 2 visitor(s)" in m for m in texts(response))
    assert set(AuditEvent.objects.values_list("outcome", flat=True)) == {"success"}


def test_delete_action_partial_failure_keeps_failed_rows(admin_client, upscope_fake):
    ids = mirror_fake_visitors(upscope_fake, 3)
    upscope_fake.fail("visitor_delete", status=500, times=1)
    response = run_action(admin_client, "delete_visitors", ids)
    messages = texts(response)
    [kept] = Visitor.objects.values_list("short_id", flat=True)
    assert any(
        f"Visitor {kept} was not deleted (kept here)" in m and "server error (HTTP 500)" in m
        for m in messages
    )
    assert any("Deleted 2 visitor(s)" in m for m in messages)
    failure = AuditEvent.objects.get(outcome="failure")
    assert (failure.visitor_short_id, failure.status_code) == (kept, 500)
    assert state.get_visitor(kept) is not None


def test_delete_action_visitor_already_gone_upstream(admin_client, upscope_fake):
    VisitorFactory(short_id="GoneAlready")
    response = run_action(admin_client, "delete_visitors", ["GoneAlready"])
    assert not Visitor.objects.filter(pk="GoneAlready").exists()
    assert any("had already deleted GoneAlready" in m for m in texts(response))


def test_delete_action_auth_failure_deletes_nothing(admin_client, upscope_fake, settings):
    ids = mirror_fake_visitors(upscope_fake, 2)
    settings.UPSCOPE = {**settings.UPSCOPE, "API_KEY": "fake_subscription_expired"}
    response = run_action(admin_client, "delete_visitors", ids)
    assert Visitor.objects.count() == 2
    messages = texts(response)
    assert sum("subscription has expired" in m for m in messages) == 2
    assert_secret_free(" ".join(messages) + response.content.decode(), "fake_subscription_expired")


def test_purge_button_confirmation_and_run(admin_client, upscope_fake):
    VisitorFactory(short_id="Offline1", is_online=False)
    purge_url = reverse("admin:django_upscope_visitor_purge")
    assert purge_url in admin_client.get(CHANGELIST).content.decode()
    page = admin_client.get(purge_url)
    assert "asynchronously" in page.content.decode()
    assert upscope_fake.requests() == []
    response = admin_client.post(purge_url, {"post": "yes"}, follow=True)
    # The purge, then (no task worker here) the check right after it: one GET per offline
    # visitor still mirrored, at most jobs.INLINE_PURGE_CHECK_LIMIT.
    [purge, *check] = upscope_fake.requests()
    assert (purge.method, purge.path, purge.query) == (
        "DELETE",
        "/__upscope__/v1.1/visitors.json",
        {"all": "true"},
    )
    assert [r.endpoint for r in check] == ["visitor_get"]
    assert any("asynchronously" in m for m in texts(response))
    # Upscope has no Offline1: kept, marked gone (tests/admin/test_gone_and_freshness.py).
    assert Visitor.objects.get(pk="Offline1").removed_upstream_at is not None
    assert AuditEvent.objects.get().action == "purge_offline_visitors"


def test_purge_action_shows_confirmation_posting_to_purge_view(admin_client, upscope_fake):
    VisitorFactory(short_id="V1")
    page = run_action(admin_client, "purge_offline_visitors", ["V1"], confirm=False)
    html = page.content.decode()
    assert f'action="{reverse("admin:django_upscope_visitor_purge")}"' in html
    assert upscope_fake.requests() == []


def test_purge_failure_message(admin_client, upscope_fake):
    upscope_fake.fail("purge", status=503, times=None)
    response = admin_client.post(
        reverse("admin:django_upscope_visitor_purge"), {"post": "yes"}, follow=True
    )
    assert response.status_code == 200
    assert any("Purge failed" in m and "server error (HTTP 503)" in m for m in texts(response))
    assert AuditEvent.objects.get().outcome == "failure"


def test_purge_view_needs_permission(login, upscope_fake):
    user = make_user("viewer", ["view_visitor"])
    response = login(user).post(reverse("admin:django_upscope_visitor_purge"), {"post": "yes"})
    assert response.status_code == 403
    assert upscope_fake.requests() == []


def test_refresh_action_updates_rows_and_lists_failures(admin_client, upscope_fake):
    [short_id] = mirror_fake_visitors(upscope_fake, 1, identities=["Fresh Name"])
    VisitorFactory(short_id="Missing1")
    response = run_action(admin_client, "refresh_visitors", [short_id, "Missing1"], confirm=False)
    messages = texts(response)
    assert Visitor.objects.get(pk=short_id).display_name == "Fresh Name"
    assert any(f"Refreshed 1 visitor(s): {short_id}" in m for m in messages)
    assert any("Visitor Missing1 was not refreshed" in m and "not found" in m for m in messages)
    assert Visitor.objects.filter(pk="Missing1").exists()


def test_stop_action_confirms_then_stops(admin_client, upscope_fake):
    ids = mirror_fake_visitors(upscope_fake, 2)
    page = run_action(admin_client, "stop_sessions", ids, confirm=False)
    assert "End the screen-sharing session" in page.content.decode()
    assert upscope_fake.requests() == []
    upscope_fake.fail("stop_session", status=500, times=1)
    response = run_action(admin_client, "stop_sessions", ids)
    messages = texts(response)
    assert any("Stopped the session of 1 visitor(s)" in m for m in messages)
    assert any("was not stopped" in m for m in messages)
    outcomes = sorted(AuditEvent.objects.values_list("outcome", flat=True))
    assert outcomes == ["failure", "success"]


# -- sessions and agents -------------------------------------------------------------------


@pytest.mark.django_db
def test_session_admin_is_read_only_with_filters(admin_client):
    session = SessionFactory(features_used=["draw"], agents=1, went_live=True)
    url = "/admin/django_upscope/session/"
    response = admin_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "?feature=draw" in html
    assert "went_live__exact" in html
    assert "agents__id__exact" in html
    assert admin_client.get(url + "?feature=draw").context["cl"].result_count == 1
    assert admin_client.get(url + "?feature=console").context["cl"].result_count == 0
    assert admin_client.get(f"{url}{session.pk}/delete/").status_code == 403
    assert admin_client.get(f"{url}add/").status_code == 403
    assert admin_client.get(f"{url}{session.pk}/change/").status_code == 200
    assert Session.objects.count() == 1


@pytest.mark.django_db
def test_session_changelist_query_count_does_not_grow(admin_client, django_assert_max_num_queries):
    SessionFactory.create_batch(3, agents=2)
    with CaptureQueriesContext(connection) as small:
        first = admin_client.get("/admin/django_upscope/session/")
    assert first.status_code == 200
    assert first.context["cl"].result_count == 3
    SessionFactory.create_batch(30, agents=2)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = admin_client.get("/admin/django_upscope/session/")
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 33
    # The agents column is filled from the prefetch, on every row.
    assert response.content.decode().count('class="field-agent_names"') == 33


@pytest.mark.django_db
def test_history_json_is_escaped(admin_client):
    VisitorFactory(short_id="V1", history={"x": "<script>alert(1)</script>"})
    response = admin_client.get(change_url("V1"))
    assert response.status_code == 200
    html = response.content.decode()
    # Shown, escaped: the text is on the page as text, never as markup.
    assert "&quot;x&quot;: &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;" in html
    assert "<script>alert(1)</script>" not in html
    assert json.dumps("<script>") not in html
