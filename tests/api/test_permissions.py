"""Who may call what: refusals happen before any request reaches Upscope."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from django_upscope.fake import state
from django_upscope.fake.models import FakePurge, FakeVisitor
from django_upscope.models import AuditEvent

from .conftest import ADMIN_ROLE, PURGE_ACTION, PURGE_CODENAME, api

SHORT_ID = "ABCD1234"

#: (method, URL name, args, the one permission that lets the call through, audited action)
ENDPOINTS = [
    ("get", "visitor-list", (), "view_visitor", None),
    ("get", "visitor-detail", (SHORT_ID,), "view_visitor", None),
    ("delete", "visitor-detail", (SHORT_ID,), "delete_visitor", "delete_visitor"),
    ("post", "visitor-watch-url", (SHORT_ID,), "screenshare_visitor", "watch_url"),
    ("delete", "visitor-session", (SHORT_ID,), "screenshare_visitor", "stop_session"),
    ("post", "visitor-purge", (), PURGE_CODENAME, PURGE_ACTION),
    ("get", "usage", (), "view_usagesnapshot", None),
    ("get", "usage-history", (), "view_usagesnapshot", None),
    ("get", "session-list", (), "view_session", None),
]
IDS = [f"{method} {name}" for method, name, *_ in ENDPOINTS]


def _listed(body):
    assert [v["short_id"] for v in body["results"]] == [SHORT_ID]


def _fetched(body):
    assert body["short_id"] == SHORT_ID


def _visitor_gone(body):
    assert body is None
    assert not FakeVisitor.objects.filter(pk=SHORT_ID).exists()


def _session_started(body):
    assert body["watch_url"].startswith("http://")
    assert FakeVisitor.objects.get(pk=SHORT_ID).is_in_session


def _session_stopped(body):
    assert body is None
    assert not FakeVisitor.objects.get(pk=SHORT_ID).is_in_session


def _purge_scheduled(body):
    assert body["status"] == "accepted"
    assert FakePurge.objects.count() == 1


def _usage_read(body):
    assert body["visitors"]["online_now"] == 1


def _empty_page(body):
    # The mirror's lists: nothing stored yet.
    assert (body["count"], body["results"]) == (0, [])


#: (method, URL name) -> (the success status, what Upscope was asked, a check of the effect).
SUCCESS = {
    ("get", "visitor-list"): (200, ["list"], _listed),
    ("get", "visitor-detail"): (200, ["visitor_get"], _fetched),
    ("delete", "visitor-detail"): (204, ["visitor_delete"], _visitor_gone),
    # Each followed by the write-back's refresh of the visitor (tests/test_writeback.py).
    ("post", "visitor-watch-url"): (201, ["watch_url", "visitor_get"], _session_started),
    ("delete", "visitor-session"): (204, ["stop_session", "visitor_get"], _session_stopped),
    ("post", "visitor-purge"): (202, ["purge"], _purge_scheduled),
    ("get", "usage"): (200, ["usage"], _usage_read),
    ("get", "usage-history"): (200, [], _empty_page),
    ("get", "session-list"): (200, [], _empty_page),
}


def call(client, method, name, args):
    kwargs = {"format": "json"} if method == "post" else {}
    return getattr(client, method)(api(name, *args), **kwargs)


@pytest.mark.parametrize(("method", "name", "args", "perm", "action"), ENDPOINTS, ids=IDS)
def test_anonymous_is_refused_without_upstream(db, no_upstream, method, name, args, perm, action):
    response = call(APIClient(), method, name, args)
    assert response.status_code == 403
    assert response.json()["error"] == "not_authenticated"
    assert len(no_upstream.calls) == 0


@pytest.mark.parametrize(("method", "name", "args", "perm", "action"), ENDPOINTS, ids=IDS)
def test_every_other_permission_is_not_enough(
    no_upstream, client_for, method, name, args, perm, action
):
    others = [p for p in ADMIN_ROLE if p != perm]
    # Staff status does not stand in for the Django permission either.
    client = client_for(others, staff=True)

    response = call(client, method, name, args)

    assert response.status_code == 403
    assert response.json()["error"] == "permission_denied"
    assert len(no_upstream.calls) == 0
    if action:
        event = AuditEvent.objects.get()
        assert (event.action, event.outcome, event.user, event.source) == (
            action,
            "denied",
            client.user,
            "api",
        )
    else:
        assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(("method", "name", "args", "perm", "action"), ENDPOINTS, ids=IDS)
def test_the_one_permission_is_enough_without_staff(
    upscope_fake, client_for, method, name, args, perm, action
):
    upscope_fake.add_visitor(short_id=SHORT_ID)
    if (method, name) == ("delete", "visitor-session"):
        state.start_session(state.get_visitor(SHORT_ID), agent_id="other", agent_name="Other")
    client = client_for([perm], staff=False)
    expected_status, upstream, effect = SUCCESS[(method, name)]

    response = call(client, method, name, args)

    assert response.status_code == expected_status, response.content
    assert [r.endpoint for r in upscope_fake.requests()] == upstream
    effect(response.json() if response.content else None)
    if action:
        event = AuditEvent.objects.get()
        assert (event.action, event.outcome, event.user) == (action, "success", client.user)
    else:
        assert not AuditEvent.objects.exists()


def test_inactive_users_are_refused(no_upstream, client_for):
    client = client_for(ADMIN_ROLE)
    client.user.is_active = False
    client.user.save()
    response = client.get(api("visitor-list"))
    assert response.status_code == 403
    assert len(no_upstream.calls) == 0


# -- CSRF with session authentication -----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "name", "args"),
    [
        ("post", "visitor-watch-url", (SHORT_ID,)),
        ("delete", "visitor-session", (SHORT_ID,)),
        ("delete", "visitor-detail", (SHORT_ID,)),
        ("post", "visitor-purge", ()),
    ],
)
def test_unsafe_methods_need_the_csrf_token(no_upstream, client_for, method, name, args):
    client = client_for(ADMIN_ROLE, csrf=True)

    response = call(client, method, name, args)

    assert response.status_code == 403
    assert response.json()["error"] == "csrf_failed"
    assert len(no_upstream.calls) == 0
    assert not AuditEvent.objects.exists()


def test_with_the_csrf_token_the_call_goes_through(upscope_fake, client_for):
    upscope_fake.add_visitor(short_id=SHORT_ID)
    client = client_for(ADMIN_ROLE, csrf=True)
    # What a page does: send the csrftoken cookie's value back in X-CSRFToken.
    secret = "Abcdefghijklmnopqrstuvwxyz012345"
    client.cookies["csrftoken"] = secret
    response = client.post(
        api("visitor-watch-url", SHORT_ID), {}, format="json", HTTP_X_CSRFTOKEN=secret
    )
    assert response.status_code == 201


def test_safe_methods_need_no_csrf_token(upscope_fake, client_for):
    client = client_for(ADMIN_ROLE, csrf=True)
    assert client.get(api("visitor-list")).status_code == 200
