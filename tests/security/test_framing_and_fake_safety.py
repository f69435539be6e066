"""The screen-share page cannot be framed by another origin, and the fake refuses
to run unless DEBUG is on (or it is enabled explicitly, which E010 reports)."""

from __future__ import annotations

import pytest
from django.core import checks
from django.urls import reverse

from django_upscope.fake import state

from ..helpers import make_user
from .conftest import all_codenames


def assert_not_framable(response) -> None:
    assert response["X-Frame-Options"] == "DENY"
    csp = response["Content-Security-Policy"]
    directives = {d.strip().split()[0]: d.strip() for d in csp.split(";") if d.strip()}
    assert directives["frame-ancestors"] == "frame-ancestors 'none'"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]


def page(short_id):
    return reverse("admin:django_upscope_visitor_screenshare", args=[short_id])


def test_screenshare_page_is_not_framable(client, upscope_fake, visitor):
    client.force_login(make_user("agent", ["screenshare_visitor", "view_visitor"]))
    response = client.get(page(visitor), HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 200
    assert b"upscope-watch-frame" in response.content
    assert_not_framable(response)


@pytest.mark.parametrize(
    "situation", ["no permission", "not staff", "upstream error", "unknown visitor"]
)
def test_screenshare_error_pages_are_not_framable_either(client, upscope_fake, situation):
    short_id = upscope_fake.add_visitor()
    if situation == "no permission":
        client.force_login(make_user("staff", ["view_visitor"]))
        expected = 403
    elif situation == "not staff":
        client.force_login(make_user("customer", all_codenames(), staff=False))
        expected = 302
    else:
        client.force_login(make_user("agent", ["screenshare_visitor"]))
        expected = 503 if situation == "upstream error" else 404
        if situation == "upstream error":
            upscope_fake.fail("watch_url", status=503)
        else:
            short_id = "NOSUCHVISITOR"
    response = client.get(page(short_id))
    assert response.status_code == expected
    if situation == "not staff":
        # The admin sends a non-staff user to its login page, which holds nothing to frame
        # and is sent with Django's X-Frame-Options: DENY.
        assert response["Location"].startswith(reverse("admin:login"))
        login_page = client.get(response["Location"])
        assert login_page.status_code == 200
        assert login_page["X-Frame-Options"] == "DENY"
        return
    assert_not_framable(response)


# -- the fake's safety -------------------------------------------------------------------

FAKE_PATHS = [
    "/__upscope__/",
    "/__upscope__/v1.1/usage.json",
    "/__upscope__/v1.1/list.json",
    "/__upscope__/v1.1/visitors/ABC.json",
    "/__upscope__/onprem/api/visitors/list/latest",
    "/__upscope__/watch/sometoken",
    "/__upscope__/watch/sometoken/status.json",
]


@pytest.mark.django_db
@pytest.mark.parametrize("path", FAKE_PATHS)
def test_fake_answers_404_with_debug_off(client, settings, path):
    settings.DEBUG = False
    settings.UPSCOPE = {**settings.UPSCOPE, "FAKE_ENABLED": None}
    state.create_visitor(short_id="ABC")
    response = client.get(path, HTTP_X_API_KEY="fake_key", HTTP_AUTHORIZATION="fake_rest_key")
    assert response.status_code == 404
    assert b"visitor" not in response.content.lower()
    assert state.received_requests() == []


@pytest.mark.django_db
def test_fake_explicitly_disabled_answers_404_even_with_debug(client, settings):
    settings.DEBUG = True
    settings.UPSCOPE = {**settings.UPSCOPE, "FAKE_ENABLED": False}
    response = client.get("/__upscope__/v1.1/usage.json", HTTP_X_API_KEY="fake_key")
    assert response.status_code == 404


@pytest.mark.django_db
def test_control_fake_answers_with_debug_on(client, settings):
    settings.DEBUG = True
    settings.UPSCOPE = {**settings.UPSCOPE, "FAKE_ENABLED": None}
    response = client.get("/__upscope__/v1.1/usage.json", HTTP_X_API_KEY="fake_key")
    assert response.status_code == 200


def _e010(settings) -> list:
    settings.SILENCED_SYSTEM_CHECKS = []
    return [m for m in checks.run_checks(tags=[checks.Tags.security]) if m.id.endswith("E010")]


@pytest.mark.parametrize(
    ("debug", "enabled", "errors"),
    [(False, True, 1), (False, None, 0), (False, False, 0), (True, True, 0), (True, None, 0)],
)
def test_e010_when_the_fake_is_enabled_with_debug_off(settings, debug, enabled, errors):
    settings.DEBUG = debug
    settings.UPSCOPE = {**settings.UPSCOPE, "FAKE_ENABLED": enabled}
    found = _e010(settings)
    assert len(found) == errors
    if found:
        assert found[0].level == checks.ERROR
        assert found[0].is_serious()
