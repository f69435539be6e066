"""Who may call what: refusals happen before any request reaches Upscope."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from django_upscope.models import AuditEvent

from .conftest import ADMIN_ROLE, api

pytestmark = pytest.mark.django_db(transaction=True)

SHORT_ID = "ABCD1234"

#: (method, URL name, args, the one permission that lets the call through, audited action)
ENDPOINTS = [
    ("get", "visitor-list", (), "view_visitor", None),
    ("get", "visitor-detail", (SHORT_ID,), "view_visitor", None),
    ("delete", "visitor-detail", (SHORT_ID,), "delete_visitor", "delete_visitor"),
    ("post", "visitor-watch-url", (SHORT_ID,), "screenshare_visitor", "watch_url"),
    ("delete", "visitor-session", (SHORT_ID,), "screenshare_visitor", "stop_session"),
    ("post", "visitor-purge", (), "purge_offline_visitors", "purge_offline_visitors"),
    ("get", "usage", (), "view_usagesnapshot", None),
    ("get", "usage-history", (), "view_usagesnapshot", None),
    ("get", "session-list", (), "view_session", None),
]
IDS = [f"{method} {name}" for method, name, *_ in ENDPOINTS]


def call(client, method, name, args):
    kwargs = {"format": "json"} if method == "post" else {}
    return getattr(client, method)(api(name, *args), **kwargs)


@pytest.mark.parametrize(("method", "name", "args", "perm", "action"), ENDPOINTS, ids=IDS)
def test_anonymous_is_refused_without_upstream(upscope_fake, method, name, args, perm, action):
    upscope_fake.add_visitor(short_id=SHORT_ID)
    response = call(APIClient(), method, name, args)
    assert response.status_code == 403
    assert response.json()["error"] == "not_authenticated"
    assert upscope_fake.requests() == []


@pytest.mark.parametrize(("method", "name", "args", "perm", "action"), ENDPOINTS, ids=IDS)
def test_every_other_permission_is_not_enough(
    upscope_fake, client_for, method, name, args, perm, action
):
    upscope_fake.add_visitor(short_id=SHORT_ID)
    others = [p for p in ADMIN_ROLE if p != perm]
    # Staff status does not stand in for the Django permission either.
    client = client_for(others, is_staff=True)

    response = call(client, method, name, args)

    assert response.status_code == 403
    assert response.json()["error"] == "permission_denied"
    assert upscope_fake.requests() == []
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
    client = client_for([perm], is_staff=False)
    response = call(client, method, name, args)
    assert response.status_code in (200, 201, 202, 204), response.content


def test_inactive_users_are_refused(upscope_fake, client_for):
    client = client_for(ADMIN_ROLE)
    client.user.is_active = False
    client.user.save()
    response = client.get(api("visitor-list"))
    assert response.status_code == 403
    assert upscope_fake.requests() == []


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
def test_unsafe_methods_need_the_csrf_token(upscope_fake, client_for, method, name, args):
    upscope_fake.add_visitor(short_id=SHORT_ID)
    client = client_for(ADMIN_ROLE, csrf=True)

    response = call(client, method, name, args)

    assert response.status_code == 403
    assert response.json()["error"] == "csrf_failed"
    assert upscope_fake.requests() == []
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
