"""CSRF is enforced on every state-changing admin and API call.

A logged-in agent with every permission, whose browser does not send the CSRF
token (a forged cross-site request), is refused before anything reaches Upscope
or the audit trail. With the token, the same call goes through (the control).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.test import Client
from django.urls import reverse

from django_upscope.models import AuditEvent

from ..helpers import make_user
from .conftest import ADMIN_SURFACES, API_SURFACES, all_codenames, params, send, upstream_calls

STATE_CHANGING = params([s for s in [*ADMIN_SURFACES, *API_SURFACES] if s.state_changing])


def csrf_client(surface):
    if surface.kind == "api":
        from rest_framework.test import APIClient

        return APIClient(enforce_csrf_checks=True)
    return Client(enforce_csrf_checks=True)


def csrf_token(client) -> str:
    # The admin index renders the logout form, which sets the CSRF cookie.
    client.get(reverse("admin:index"))
    return client.cookies["csrftoken"].value


def test_every_state_changing_surface_is_covered():
    names = {p.values[0].name for p in STATE_CHANGING}
    assert {
        "admin screen-share confirmation",
        "admin stop view",
        "admin purge page",
        "admin action delete",
    } <= names
    assert len([n for n in names if n.startswith("admin")]) == 6


@pytest.mark.parametrize("surface", STATE_CHANGING)
def test_forged_request_without_token_is_refused(upscope_fake, visitor, surface):
    client = csrf_client(surface)
    client.force_login(make_user("boss", all_codenames()))
    csrf_token(client)  # the cookie alone (sent by the browser) is not enough

    response = send(client, surface)

    assert response.status_code == 403
    if surface.kind == "api":
        assert response.json()["error"] == "csrf_failed"
    assert upstream_calls(upscope_fake) == []
    assert AuditEvent.objects.count() == 0


@pytest.mark.parametrize("surface", STATE_CHANGING)
def test_wrong_token_is_refused(upscope_fake, visitor, surface):
    client = csrf_client(surface)
    client.force_login(make_user("boss", all_codenames()))
    csrf_token(client)
    forged = "x" * 32
    if surface.kind == "api":
        response = send(client, surface, HTTP_X_CSRFTOKEN=forged)
    else:
        surface = replace(surface, data={**surface.data, "csrfmiddlewaretoken": forged})
        response = send(client, surface)
    assert response.status_code == 403
    assert upstream_calls(upscope_fake) == []


@pytest.mark.parametrize("surface", STATE_CHANGING)
def test_control_with_the_token_goes_through(upscope_fake, visitor, surface):
    client = csrf_client(surface)
    client.force_login(make_user("boss", all_codenames()))
    token = csrf_token(client)
    if surface.kind == "api":
        response = send(client, surface, HTTP_X_CSRFTOKEN=token)
    else:
        surface = replace(surface, data={**surface.data, "csrfmiddlewaretoken": token})
        response = send(client, surface)
    assert response.status_code < 400
    assert upstream_calls(upscope_fake)
    assert AuditEvent.objects.filter(outcome="success").exists()
