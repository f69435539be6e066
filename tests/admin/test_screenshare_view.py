"""The screen-share page and the stop view, against the embedded fake over HTTP."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from django_upscope.models import AuditEvent, Visitor
from django_upscope.testing.factories import VisitorFactory

from ..helpers import make_user
from .conftest import assert_secret_free, audit_text

IFRAME_RE = re.compile(r'<iframe id="upscope-watch-frame" src="([^"]+)"')


def page_url(short_id):
    return reverse("admin:django_upscope_visitor_screenshare", args=[short_id])


def stop_url(short_id):
    return reverse("admin:django_upscope_visitor_stop_session", args=[short_id])


def watch_requests(upscope_fake):
    return [r for r in upscope_fake.requests() if r.endpoint == "watch_url"]


def test_url_is_in_the_visitor_admin():
    assert page_url("abc") == "/admin/django_upscope/visitor/abc/screenshare/"
    assert stop_url("abc") == "/admin/django_upscope/visitor/abc/session/stop/"


def test_the_old_url_redirects_to_the_admin_page(client, upscope_fake):
    old = reverse("django_upscope:screenshare", args=["abc"])
    assert old == "/upscope/visitors/abc/screenshare/"
    response = client.get(old)
    assert (response.status_code, response["Location"]) == (302, page_url("abc"))
    assert upscope_fake.requests() == []


# -- who may open it ------------------------------------------------------------------


def test_anonymous_goes_to_admin_login_without_upstream_call(client, upscope_fake):
    short_id = upscope_fake.add_visitor()
    response = client.get(page_url(short_id))
    assert response.status_code == 302
    login = urlsplit(response["Location"])
    assert login.path == reverse("admin:login")
    assert parse_qs(login.query)["next"] == [page_url(short_id)]
    assert upscope_fake.requests() == []
    assert AuditEvent.objects.count() == 0


def test_non_staff_goes_to_admin_login_without_upstream_call(login, upscope_fake):
    short_id = upscope_fake.add_visitor()
    user = make_user("customer", ["screenshare_visitor"], staff=False)
    response = login(user).get(page_url(short_id))
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse("admin:login")
    assert upscope_fake.requests() == []


def test_staff_without_screenshare_permission_is_refused_and_audited(login, upscope_fake):
    short_id = upscope_fake.add_visitor()
    user = make_user("helper", ["view_visitor", "audio_visitor"])
    response = login(user).get(page_url(short_id))
    assert response.status_code == 403
    assert b"permission to start a screen share" in response.content
    assert upscope_fake.requests() == []
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome, event.username) == ("watch_url", "denied", "helper")
    assert event.visitor_short_id == short_id


@pytest.mark.parametrize("short_id", ["bad.id", "x" * 129, "a%2Fb", "%00"])
def test_invalid_short_id_is_404_without_upstream_call(login, agent, upscope_fake, short_id):
    client = login(agent)
    assert client.get(f"/admin/django_upscope/visitor/{short_id}/screenshare/").status_code == 404
    assert client.get(f"/upscope/visitors/{short_id}/screenshare/").status_code == 404
    assert upscope_fake.requests() == []


# -- the page -------------------------------------------------------------------------


def test_page_mints_watch_url_and_renders_iframe(login, agent, upscope_fake, secrets_log):
    short_id = upscope_fake.add_visitor(identities=["Grace Hopper"], device_type="desktop")
    response = login(agent).get(page_url(short_id), HTTP_X_REQUEST_ID="rid-1")
    assert response.status_code == 200
    html = response.content.decode()

    [minted] = watch_requests(upscope_fake)
    assert minted.method == "POST"
    assert minted.json["agent"] == {"id": str(agent.pk), "name": "Ada Lovelace"}
    assert minted.json["branding"] == {
        "naked": True,
        "on_end_url": (
            f"http://testserver/upscope/visitors/{short_id}/screenshare/ended/?admin_site=admin"
        ),
        "retry_url": f"http://testserver{page_url(short_id)}",
    }
    assert minted.json["permissions"] == {
        "allow_console": False,
        "allow_click": False,
        "allow_draw": False,
        "allow_scroll": False,
        "allow_audio": False,
        "allow_type": False,
        "allow_agent_redirect": False,
    }
    assert minted.json["metadata"] == {
        "django_user_id": str(agent.pk),
        "request_id": "rid-1",
        "source": "admin",
    }

    [watch_url] = IFRAME_RE.findall(html)
    assert watch_url.startswith(upscope_fake.url + "/watch/")
    # The bearer URL appears once: in the iframe's src, nowhere else on the page.
    assert html.count(watch_url) == 1
    origin = json.loads(
        re.search(
            r'<script id="upscope-watch-origin" type="application/json">(.*?)</script>', html
        ).group(1)
    )
    assert origin == upscope_fake.url.rsplit("/__upscope__", 1)[0]
    # A view-only agent (no allow_audio): a sandboxed frame with no microphone or autoplay.
    assert (
        'sandbox="allow-scripts allow-same-origin allow-top-navigation-by-user-activation"' in html
    )
    assert 'allow="' not in html.split('id="upscope-watch-frame"', 1)[1].split(">", 1)[0]
    assert 'id="upscope-session-state" data-state="waiting"' in html
    assert "event.origin !== origin" in html and "event.source !== frame.contentWindow" in html
    for message_type in ("sessionStatusUpdate", "upscope.sessionState.update", "sessionEnded"):
        assert message_type in html
    assert f'action="{stop_url(short_id)}"' in html
    assert "csrfmiddlewaretoken" in html
    assert "Grace Hopper" in html
    assert '<div class="breadcrumbs">' in html

    assert response["Cache-Control"].startswith("no-store")
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Content-Security-Policy"] == "frame-ancestors 'none'"

    event = AuditEvent.objects.get()
    assert (event.outcome, event.request_id, event.user_id) == ("success", "rid-1", agent.pk)
    assert event.client_ip == "127.0.0.1"
    assert_secret_free(audit_text() + secrets_log.text, watch_url, upscope_fake.api_key)


def test_each_visit_mints_a_fresh_watch_url(login, agent, upscope_fake):
    short_id = upscope_fake.add_visitor()
    client = login(agent)
    first = IFRAME_RE.findall(client.get(page_url(short_id)).content.decode())
    second = IFRAME_RE.findall(client.get(page_url(short_id)).content.decode())
    assert first and second and first != second
    assert len(watch_requests(upscope_fake)) == 2
    hashes = set(AuditEvent.objects.values_list("watch_url_hash", flat=True))
    assert len(hashes) == 2


def test_the_fake_watch_page_loads_without_logo(login, agent, upscope_fake):
    """The iframe's URL really opens the (fake) watch page, naked."""
    import requests

    short_id = upscope_fake.add_visitor()
    html = login(agent).get(page_url(short_id)).content.decode()
    [watch_url] = IFRAME_RE.findall(html)
    page = requests.get(watch_url.replace("&amp;", "&"), timeout=5)
    assert page.status_code == 200
    assert 'data-testid="upscope-logo"' not in page.text


def test_permissions_of_user_reach_upscope(login, upscope_fake):
    short_id = upscope_fake.add_visitor()
    user = make_user(
        "controller", ["screenshare_visitor", "remote_control_visitor", "agent_redirect_visitor"]
    )
    response = login(user).get(page_url(short_id))
    assert response.status_code == 200
    [minted] = watch_requests(upscope_fake)
    granted = {key for key, value in minted.json["permissions"].items() if value}
    assert granted == {
        "allow_click",
        "allow_type",
        "allow_scroll",
        "allow_draw",
        "allow_agent_redirect",
    }
    assert "allow_console" not in response.content.decode().split('id="upscope-granted"')[1][:400]


def test_details_are_as_fetched_for_this_share_not_the_stale_row(login, agent, upscope_fake):
    # The row says online under an old name; Upscope says the visitor is offline.
    short_id = upscope_fake.add_visitor(identities=["Upstream Name"], is_online=False)
    VisitorFactory(
        short_id=short_id, identities=["Mirror Name"], display_name="Mirror Name", is_online=True
    )
    html = login(agent).get(page_url(short_id)).content.decode()
    sidebar = html.split('id="upscope-visitor"')[1].split("</dl>")[0]
    assert "Upstream Name" in sidebar
    assert "Mirror Name" not in sidebar
    assert re.search(r"<dt>Online</dt><dd>no</dd>", sidebar)
    # One GET after the mint, and the row was refreshed from it.
    assert [r.endpoint for r in upscope_fake.requests()] == ["watch_url", "visitor_get"]
    row = Visitor.objects.get(pk=short_id)
    assert (row.display_name, row.is_online, row.is_in_session) == ("Upstream Name", False, True)


def test_fields_upscope_sends_as_null_show_as_nothing(login, agent, upscope_fake):
    short_id = upscope_fake.add_visitor(
        identities=["Ada"], location_city=None, location_country_name="france",
        device_type="tablet", device_name=None,
    )  # fmt: skip
    sidebar = login(agent).get(page_url(short_id)).content.decode()
    sidebar = sidebar.split('id="upscope-visitor"')[1].split("</dl>")[0]
    assert "None" not in sidebar
    # The positive control: the values Upscope did send are there.
    assert re.search(r"<dt>Location</dt><dd>France</dd>", sidebar)
    assert re.search(r"<dt>Device</dt><dd>tablet </dd>", sidebar)


def test_details_come_from_upscope_when_not_mirrored(login, agent, upscope_fake):
    short_id = upscope_fake.add_visitor(identities=["Upstream Name"])
    html = login(agent).get(page_url(short_id)).content.decode()
    assert "Upstream Name" in html
    assert [r.endpoint for r in upscope_fake.requests()] == ["watch_url", "visitor_get"]
    assert Visitor.objects.get(pk=short_id).display_name == "Upstream Name"


# -- errors -------------------------------------------------------------------------


ERROR_CASES = [
    # (fault kwargs, or None for "visitor unknown"; expected status; code; words on the page)
    (None, 404, "visitor_not_found", "Visitor not found"),
    ({"status": 402, "code": "subscription_limit"}, 402, "subscription_limit",
     "limits of your Upscope subscription"),
    ({"status": 401, "code": "subscription_expired"}, 502, "subscription_expired",
     "subscription has expired"),
    ({"status": 401, "code": "no_subscription"}, 502, "no_subscription", "no active subscription"),
    ({"status": 401, "code": "api_not_enabled"}, 502, "api_not_enabled",
     "does not include REST API access"),
    ({"status": 401, "code": "invalid_api_key"}, 502, "invalid_api_key",
     "did not recognise the API key"),
    ({"status": 401, "code": "please_contact_team"}, 502, "please_contact_team", "contact Upscope"),
    ({"status": 503}, 503, "http_503", "Upscope reported a server error"),
    ({"status": 500}, 503, "http_500", "Upscope answered with a server error (HTTP 500)"),
    ({"drop": True}, 503, "connection_error", "Upscope could not be reached"),
    ({"body": "<html>gateway</html>", "content_type": "text/html"}, 502, "invalid_response",
     "unexpected answer"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fault", "status", "code", "words"), ERROR_CASES, ids=[case[2] for case in ERROR_CASES]
)
def test_upstream_errors_become_pages(
    login, agent, upscope_fake, secrets_log, fault, status, code, words
):
    if fault is None:
        short_id = "NoSuchVisitor"
    else:
        short_id = upscope_fake.add_visitor()
        upscope_fake.fail("watch_url", **fault)
    response = login(agent).get(page_url(short_id))
    html = response.content.decode()
    assert response.status_code == status
    assert f'data-error-code="{code}"' in html
    assert words in html
    assert "<iframe" not in html
    if code in {
        "subscription_expired",
        "no_subscription",
        "api_not_enabled",
        "invalid_api_key",
        "please_contact_team",
    }:
        assert "An administrator must fix the UPSCOPE settings" in html
    if status == 503:
        assert f'id="upscope-retry" href="{page_url(short_id)}"' in html
    assert response["Cache-Control"].startswith("no-store")
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome, event.error_code) == ("watch_url", "failure", code)
    assert_secret_free(html + audit_text() + secrets_log.text, upscope_fake.api_key)


def test_auth_error_from_the_key_itself(login, agent, upscope_fake, settings):
    short_id = upscope_fake.add_visitor()
    settings.UPSCOPE = {**settings.UPSCOPE, "API_KEY": "fake_api_not_enabled"}
    response = login(agent).get(page_url(short_id))
    assert response.status_code == 502
    assert b"does not include REST API access" in response.content
    assert b"fake_api_not_enabled" not in response.content


def test_missing_configuration_is_502_as_in_the_api(login, agent, upscope_fake, settings):
    short_id = upscope_fake.add_visitor()
    settings.UPSCOPE = {**settings.UPSCOPE, "API_KEY": None}
    response = login(agent).get(page_url(short_id))
    html = response.content.decode()
    assert response.status_code == 502  # the REST API's status for not_configured too
    assert 'data-error-code="not_configured"' in html
    assert "Upscope is not configured" in html
    assert "An administrator must fix the UPSCOPE settings" in html
    assert "UPSCOPE[&#x27;API_KEY&#x27;]" in html  # the message names the setting
    assert upscope_fake.requests() == []


def test_retry_after_is_passed_on(login, agent, upscope_fake):
    short_id = upscope_fake.add_visitor()
    upscope_fake.fail("watch_url", status=429, retry_after=30)
    response = login(agent).get(page_url(short_id))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    html = response.content.decode()
    assert "Upscope asked this site to slow down" in html
    assert "Upscope asked to wait: try again in 30 seconds." in html


# -- stop ----------------------------------------------------------------------------


def test_stop_with_fetch_answers_json(login, agent, upscope_fake):
    short_id = upscope_fake.add_visitor()
    response = login(agent).post(stop_url(short_id), HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    # The stop, then the write-back's refresh of the visitor.
    assert [(r.method, r.path) for r in upscope_fake.requests()] == [
        ("DELETE", f"/__upscope__/v1.1/visitors/{short_id}/session"),
        ("GET", f"/__upscope__/v1.1/visitors/{short_id}.json"),
    ]
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome) == ("stop_session", "success")


def test_stop_without_js_redirects_with_message(login, agent, upscope_fake):
    short_id = upscope_fake.add_visitor()
    response = login(agent).post(stop_url(short_id), follow=False)
    assert response.status_code == 302
    assert response["Location"] == f"/admin/django_upscope/visitor/{short_id}/change/"


def test_stop_failure_answers_json_error(login, agent, upscope_fake):
    short_id = upscope_fake.add_visitor()
    upscope_fake.fail("stop_session", status=401, code="subscription_expired")
    response = login(agent).post(stop_url(short_id), HTTP_ACCEPT="application/json")
    assert response.status_code == 502
    assert response.json()["error"] == "subscription_expired"
    assert AuditEvent.objects.get().outcome == "failure"


def test_stop_failure_message_names_a_server_error(login, agent, upscope_fake):
    short_id = upscope_fake.add_visitor()
    upscope_fake.fail("stop_session", status=500, times=None)
    client = login(agent)
    response = client.post(stop_url(short_id), HTTP_ACCEPT="application/json")
    assert response.status_code == 503
    assert response.json()["detail"] == (
        "Upscope reported a server error: Upscope answered with a server error (HTTP 500). "
        "This is usually temporary: try again in a moment."
    )
    page = client.post(stop_url(short_id), follow=True)
    assert "Upscope reported a server error" in page.content.decode()


def test_stop_needs_post_staff_and_csrf(client, login, agent, upscope_fake):
    from django.test import Client

    short_id = upscope_fake.add_visitor()
    anonymous = client.post(stop_url(short_id), HTTP_ACCEPT="application/json")
    assert (anonymous.status_code, urlsplit(anonymous["Location"]).path) == (
        302,
        reverse("admin:login"),
    )
    assert login(agent).get(stop_url(short_id)).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent)
    assert strict.post(stop_url(short_id)).status_code == 403
    assert upscope_fake.requests() == []


def test_stop_denied_without_permission(login, upscope_fake):
    short_id = upscope_fake.add_visitor()
    user = make_user("viewer", ["view_visitor"])
    response = login(user).post(stop_url(short_id), HTTP_ACCEPT="application/json")
    assert response.status_code == 403
    assert upscope_fake.requests() == []
    assert AuditEvent.objects.get().outcome == "denied"


# -- where Upscope sends the agent when the session ends --------------------------------


def ended_url(short_id):
    return reverse("django_upscope:screenshare_ended", args=[short_id])


def test_ended_page_may_be_framed_by_our_origin_only_and_links_out_of_the_frame(login, agent, db):
    response = login(agent).get(ended_url("V1"))
    assert response.status_code == 200
    # Upscope opens on_end_url inside the iframe: DENY here would leave a refused frame.
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert response["Content-Security-Policy"] == "frame-ancestors 'self'"
    assert response["Referrer-Policy"] == "no-referrer"
    html = response.content.decode()
    assert 'href="/admin/django_upscope/visitor/V1/change/" target="_top"' in html
    assert f'href="{page_url("V1")}" target="_top"' in html


def test_ended_page_is_for_logged_in_agents_with_admin_links_for_staff_only(client, login, db):
    assert client.get(ended_url("V1")).status_code == 302
    # Agents of the REST API need not be staff: their frame must not be refused at the end.
    api_agent = make_user("api-agent", ["screenshare_visitor"], staff=False)
    response = login(api_agent).get(ended_url("V1"))
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    html = response.content.decode()
    assert "The screen share has ended." in html
    assert "/admin/" not in html
    assert page_url("V1") not in html


# -- a navigation started by another site does not mint --------------------------------


@pytest.mark.parametrize("fetch_site", ["cross-site", "same-site"])
def test_foreign_navigation_asks_before_minting(login, agent, upscope_fake, fetch_site):
    short_id = upscope_fake.add_visitor()
    response = login(agent).get(page_url(short_id), HTTP_SEC_FETCH_SITE=fetch_site)
    assert response.status_code == 200
    assert b'id="upscope-start-form"' in response.content
    assert b"upscope-watch-frame" not in response.content
    assert watch_requests(upscope_fake) == []
    assert AuditEvent.objects.count() == 0


def test_own_navigation_mints_at_once(login, agent, upscope_fake):
    short_id = upscope_fake.add_visitor()
    response = login(agent).get(page_url(short_id), HTTP_SEC_FETCH_SITE="same-origin")
    assert IFRAME_RE.search(response.content.decode())
    assert len(watch_requests(upscope_fake)) == 1


def test_the_confirmation_post_needs_the_csrf_token_then_mints(agent, upscope_fake):
    from django.test import Client

    short_id = upscope_fake.add_visitor()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(agent)
    page = browser.get(page_url(short_id), HTTP_SEC_FETCH_SITE="cross-site")
    assert browser.post(page_url(short_id)).status_code == 403
    assert watch_requests(upscope_fake) == []
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    response = browser.post(page_url(short_id), {"csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert IFRAME_RE.search(response.content.decode())
    assert len(watch_requests(upscope_fake)) == 1
