"""Watch URL, stop session and purge over HTTP against the embedded fake Upscope."""

from __future__ import annotations

import json

import pytest

from django_upscope.models import AuditEvent, Visitor
from django_upscope.services import watch_url_hmac
from django_upscope.testing.factories import VisitorFactory

from .conftest import AGENT, VIEW_ONLY_AGENT, api

pytestmark = pytest.mark.django_db(transaction=True)

ALL_FALSE = {
    "allow_console": False,
    "allow_click": False,
    "allow_draw": False,
    "allow_scroll": False,
    "allow_audio": False,
    "allow_type": False,
    "allow_agent_redirect": False,
}
# AGENT: screen share + remote control + remote console + audio (no agent redirect).
AGENT_GRANTS = {
    **ALL_FALSE,
    "allow_console": True,
    "allow_click": True,
    "allow_draw": True,
    "allow_scroll": True,
    "allow_audio": True,
    "allow_type": True,
}


def sent(fake, endpoint):
    return [r for r in fake.requests() if r.endpoint == endpoint]


def mint(client, short_id, body=None, **kwargs):
    return client.post(api("visitor-watch-url", short_id), body, format="json", **kwargs)


# -- watch URL ----------------------------------------------------------------------------


def test_watch_url_is_minted_for_the_requesting_user(upscope_fake, client_for):
    short_id = upscope_fake.add_visitor()
    client = client_for(AGENT, first_name="Ada", last_name="Lovelace")

    response = mint(client, short_id)

    assert response.status_code == 201
    body = response.json()
    assert body["watch_url"].startswith("http")
    assert body["permissions"] == AGENT_GRANTS
    assert body["metadata"]["django_user_id"] == str(client.user.pk)
    assert body["metadata"]["source"] == "api"
    (request,) = sent(upscope_fake, "watch_url")
    assert request.method == "POST" and short_id in request.path
    assert request.json["agent"] == {"id": str(client.user.pk), "name": "Ada Lovelace"}
    assert request.json["permissions"] == AGENT_GRANTS
    assert request.json["branding"]["naked"] is True
    assert request.json["metadata"] == body["metadata"]


def test_watch_url_is_not_cacheable(upscope_fake, agent_client):
    response = mint(agent_client, upscope_fake.add_visitor())
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"


def test_watch_url_audit_keeps_only_an_hmac(upscope_fake, agent_client):
    short_id = upscope_fake.add_visitor()
    watch_url = mint(agent_client, short_id).json()["watch_url"]

    event = AuditEvent.objects.get()
    assert (event.action, event.outcome, event.source) == ("watch_url", "success", "api")
    assert event.visitor_short_id == short_id
    assert event.user == agent_client.user
    assert event.permissions == AGENT_GRANTS
    assert event.watch_url_hash == watch_url_hmac(watch_url)
    stored = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert watch_url not in stored


def test_permissions_in_the_body_narrow(upscope_fake, agent_client):
    response = mint(
        agent_client, upscope_fake.add_visitor(), {"permissions": {"allow_click": False}}
    )
    assert response.status_code == 201
    expected = {**AGENT_GRANTS, "allow_click": False}
    assert response.json()["permissions"] == expected
    (request,) = sent(upscope_fake, "watch_url")
    assert request.json["permissions"] == expected


def test_permissions_in_the_body_never_widen(upscope_fake, client_for):
    client = client_for(VIEW_ONLY_AGENT)
    response = mint(
        client,
        upscope_fake.add_visitor(),
        {"permissions": dict.fromkeys(ALL_FALSE, True)},
    )
    # Documented choice: refused permissions are forced to false, not a 403.
    assert response.status_code == 201
    assert response.json()["permissions"] == ALL_FALSE
    (request,) = sent(upscope_fake, "watch_url")
    assert request.json["permissions"] == ALL_FALSE


def test_remote_console_is_never_obtained_from_the_body(upscope_fake, client_for):
    # A superuser holds every Django permission, but the console needs SUPERUSER_CONSOLE.
    clients = [
        client_for(VIEW_ONLY_AGENT),
        client_for([*VIEW_ONLY_AGENT, "remote_control_visitor"]),
        client_for([], is_superuser=True),
    ]
    for client in clients:
        response = mint(
            client, upscope_fake.add_visitor(), {"permissions": {"allow_console": True}}
        )
        assert response.status_code == 201
        assert response.json()["permissions"]["allow_console"] is False
    assert [r.json["permissions"]["allow_console"] for r in sent(upscope_fake, "watch_url")] == [
        False,
        False,
        False,
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"permissions": {"allow_everything": True}}, "permissions"),
        ({"permissions": {"allow_click": "sometimes"}}, "permissions"),
        ({"permissions": ["allow_click"]}, "permissions"),
        ({"metadata": {"nested": {"a": 1}}}, "metadata"),
        ({"metadata": {"list": [1, 2]}}, "metadata"),
        ({"metadata": "flat?"}, "metadata"),
        ({"on_end_url": "https://evil.example/"}, "on_end_url"),
        ({"on_end_url": "//evil.example/"}, "on_end_url"),
        ({"retry_url": "javascript:alert(1)"}, "retry_url"),
        ({"retry_url": "relative/path"}, "retry_url"),
    ],
)
def test_invalid_bodies_are_400_without_upstream(upscope_fake, agent_client, body, field):
    response = mint(agent_client, upscope_fake.add_visitor(), body)
    assert response.status_code == 400
    data = response.json()
    assert data["error"] == "invalid"
    assert list(data["fields"]) == [field]
    assert data["detail"].startswith(f"{field}: ")
    assert sent(upscope_fake, "watch_url") == []


def test_unknown_top_level_keys_are_400_naming_them(upscope_fake, agent_client):
    # A typo must not mint with every granted permission instead of the narrowed ones.
    body = {"permision": {"allow_click": False}, "metadata": {"ticket": "T-1"}, "zzz": 1}
    response = mint(agent_client, upscope_fake.add_visitor(), body)
    assert response.status_code == 400
    data = response.json()
    assert data["error"] == "invalid"
    assert list(data["fields"]) == ["non_field_errors"]
    assert data["detail"].startswith("Unknown keys: permision, zzz; known keys: ")
    assert "permissions" in data["detail"]
    assert sent(upscope_fake, "watch_url") == []
    assert not AuditEvent.objects.exists()


def test_a_body_that_is_not_an_object_is_400(upscope_fake, agent_client):
    response = mint(agent_client, upscope_fake.add_visitor(), ["metadata"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert sent(upscope_fake, "watch_url") == []


def test_a_body_that_is_not_json_is_415(upscope_fake, agent_client):
    response = agent_client.post(
        api("visitor-watch-url", upscope_fake.add_visitor()), {"metadata": "x"}, format="multipart"
    )
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"
    assert sent(upscope_fake, "watch_url") == []


def test_metadata_and_same_site_urls_are_passed_on(upscope_fake, agent_client):
    response = mint(
        agent_client,
        upscope_fake.add_visitor(),
        {
            "metadata": {"ticket": "T-42", "priority": 2, "vip": True},
            "on_end_url": "/console/?ended=1",
            "retry_url": "http://testserver/console/",
        },
    )
    assert response.status_code == 201
    (request,) = sent(upscope_fake, "watch_url")
    assert request.json["metadata"]["ticket"] == "T-42"
    assert request.json["metadata"]["priority"] == 2
    assert request.json["metadata"]["vip"] is True
    assert request.json["branding"]["on_end_url"] == "http://testserver/console/?ended=1"
    assert request.json["branding"]["retry_url"] == "http://testserver/console/"


def test_metadata_cannot_override_the_stamped_keys(upscope_fake, agent_client):
    response = mint(
        agent_client,
        upscope_fake.add_visitor(),
        {"metadata": {"django_user_id": "0", "source": "admin"}},
    )
    assert response.status_code == 201
    metadata = sent(upscope_fake, "watch_url")[0].json["metadata"]
    assert metadata["django_user_id"] == str(agent_client.user.pk)
    assert metadata["source"] == "api"


def test_watch_url_for_an_unknown_visitor_is_404_and_audited(upscope_fake, agent_client):
    response = mint(agent_client, "NOSUCH")
    assert response.status_code == 404
    assert response.json()["error"] == "visitor_not_found"
    event = AuditEvent.objects.get()
    assert (event.outcome, event.error_code) == ("failure", "visitor_not_found")


def test_subscription_limit_is_402(upscope_fake, agent_client):
    upscope_fake.fail("watch_url", status=402)
    response = mint(agent_client, upscope_fake.add_visitor())
    assert response.status_code == 402
    body = response.json()
    assert body["error"] == "subscription_limit"
    assert "limit" in body["detail"]


def test_watch_url_response_without_a_url_is_502_invalid_response(upscope_fake, agent_client):
    upscope_fake.fail("watch_url", body={"status": "ok"})
    response = mint(agent_client, upscope_fake.add_visitor())
    assert response.status_code == 502
    assert response.json()["error"] == "invalid_response"


# -- stop session --------------------------------------------------------------------------


def test_stop_session(upscope_fake, agent_client):
    short_id = upscope_fake.add_visitor()
    response = agent_client.delete(api("visitor-session", short_id))

    assert response.status_code == 204
    (request,) = sent(upscope_fake, "stop_session")
    assert request.method == "DELETE" and request.path.endswith(f"/visitors/{short_id}/session")
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome, event.visitor_short_id, event.source) == (
        "stop_session",
        "success",
        short_id,
        "api",
    )


def test_stop_session_failure_is_mapped_and_audited(upscope_fake, agent_client):
    upscope_fake.fail("stop_session", status=503, retry_after=7, times=None)
    response = agent_client.delete(api("visitor-session", upscope_fake.add_visitor()))
    assert response.status_code == 503
    assert response["Retry-After"] == "7"
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome, event.error_code) == (
        "stop_session",
        "failure",
        "http_503",
    )


# -- purge ----------------------------------------------------------------------------------


def test_purge_is_accepted_and_deletes_nothing_locally(upscope_fake, client_for):
    VisitorFactory.create_batch(3, is_online=False)
    response = client_for(["purge_offline_visitors"]).post(api("visitor-purge"))

    assert response.status_code == 202
    assert response.json()["status"] == "accepted"
    (request,) = sent(upscope_fake, "purge")
    assert request.method == "DELETE"
    assert request.query.get("all") in ("true", ["true"])
    assert Visitor.objects.count() == 3
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome, event.source) == (
        "purge_offline_visitors",
        "success",
        "api",
    )


def test_default_branding_sends_non_staff_agents_only_where_they_may_go(upscope_fake, client_for):
    # API agents need not be staff: the ended page is theirs too, the admin's page is not.
    short_id = upscope_fake.add_visitor()
    client = client_for(AGENT)
    assert not client.user.is_staff

    assert mint(client, short_id).status_code == 201

    (request,) = sent(upscope_fake, "watch_url")
    branding = request.json["branding"]
    assert (
        branding["on_end_url"]
        == f"http://testserver/upscope/visitors/{short_id}/screenshare/ended/"
    )
    assert "retry_url" not in branding
