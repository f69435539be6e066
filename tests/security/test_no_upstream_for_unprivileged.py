"""Anonymous users, users without permissions, and non-staff users in the admin
reach no upstream call on any surface: the fake's request log stays empty.

A privileged control drives the same surfaces and must reach Upscope, so a
surface that silently does nothing cannot pass for a refused one.
"""

from __future__ import annotations

import pytest

from django_upscope.models import AuditEvent

from ..helpers import make_user
from .conftest import ADMIN_SURFACES, SURFACES, all_codenames, params, send, upstream_calls


def _refused(response, surface) -> None:
    assert response.status_code < 500
    if surface.kind == "api":
        assert response.status_code in (401, 403), response.content
        assert response.json()["error"] in ("not_authenticated", "permission_denied")


@pytest.mark.parametrize("surface", SURFACES)
def test_anonymous_reaches_no_upstream(client, upscope_fake, visitor, surface):
    response = send(client, surface)
    _refused(response, surface)
    if surface.kind == "admin":
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]
    assert upstream_calls(upscope_fake) == []


@pytest.mark.parametrize("staff", [True, False], ids=["staff", "non-staff"])
@pytest.mark.parametrize("surface", SURFACES)
def test_user_without_permissions_reaches_no_upstream(
    client, upscope_fake, visitor, surface, staff
):
    client.force_login(make_user("nobody", (), staff=staff))
    response = send(client, surface)
    _refused(response, surface)
    assert upstream_calls(upscope_fake) == []
    # A refusal by the service layer is audited as denied; nothing succeeded.
    assert not AuditEvent.objects.exclude(outcome="denied").exists()


@pytest.mark.parametrize("surface", params(ADMIN_SURFACES))
def test_non_staff_with_every_permission_reaches_no_upstream_through_the_admin(
    client, upscope_fake, visitor, surface
):
    client.force_login(make_user("customer", all_codenames(), staff=False))
    response = send(client, surface)
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert "/admin/login/" in response["Location"]
    assert upstream_calls(upscope_fake) == []
    assert not AuditEvent.objects.exclude(outcome="denied").exists()


@pytest.mark.parametrize("surface", params([s for s in ADMIN_SURFACES if s.state_changing]))
def test_staff_who_may_only_view_reaches_no_upstream_through_admin_actions(
    client, upscope_fake, visitor, surface
):
    client.force_login(make_user("viewer", ["view_visitor"]))
    response = send(client, surface)
    assert response.status_code < 500
    assert upstream_calls(upscope_fake) == []


@pytest.mark.parametrize("surface", SURFACES)
def test_control_privileged_staff_reaches_upstream(client, upscope_fake, visitor, surface):
    client.force_login(make_user("boss", all_codenames()))
    response = send(client, surface)
    assert response.status_code < 400, response.content[:500]
    assert bool(upstream_calls(upscope_fake)) is surface.upstream
