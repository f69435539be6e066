"""django_upscope.services: permission first, then Upscope, then the mirror and the audit trail.

Unit tests with ``responses``: each test registers exactly the requests it allows, and
``responses`` refuses anything else, so "no upstream call" is asserted by an empty log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

import pytest
import requests
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from django_upscope import services
from django_upscope.exceptions import (
    UpscopeAuthenticationError,
    UpscopeConfigurationError,
    UpscopeConnectionError,
    UpscopeInvalidInput,
    UpscopeInvalidResponse,
    UpscopeNotSupported,
    UpscopeSubscriptionLimit,
    UpscopeUnavailable,
    UpscopeVisitorNotFound,
)
from django_upscope.models import AuditEvent, UsageSnapshot, Visitor
from django_upscope.testing.factories import VisitorFactory, visitor_payload

from .helpers import make_user

pytestmark = pytest.mark.django_db

API_KEY = "fake_services_secret_key"
API = "http://upscope.test/v1.1"
WATCH_URL = "https://o.upscope.io/watch?token=s3cr3t-w4tch-t0ken"
#: Upscope's answer for a visitor it does not have (only this body means "not found").
UPSCOPE_NOT_FOUND = {"status": "error", "error": "not_found"}
ALL_KEYS = (
    "allow_console",
    "allow_click",
    "allow_draw",
    "allow_scroll",
    "allow_audio",
    "allow_type",
    "allow_agent_redirect",
)


@pytest.fixture(autouse=True)
def upscope_settings(settings):
    settings.UPSCOPE = {
        "API_KEY": API_KEY,
        "API_URL": API,
        "RETRY_BACKOFF": 0.0,
        "MAX_RETRIES": 1,
        "FAKE_ENABLED": True,
    }
    settings.ALLOWED_HOSTS = ["*"]
    return settings


def actor_for(user, *, path="/upscope/visitors/V1/screenshare/", **meta):
    request = RequestFactory().get(path, HTTP_HOST="support.example.com", **meta)
    request.user = user
    return services.actor_from_request(request, "admin")


def watch_ok(rsps, short_id="V1"):
    rsps.post(f"{API}/visitors/{short_id}/watch_url.json", json={"watch_url": WATCH_URL})


def sent_json(call):
    return json.loads(call.request.body)


def assert_no_secrets(*texts):
    for text in texts:
        assert API_KEY not in text
        assert WATCH_URL not in text
        assert "s3cr3t-w4tch-t0ken" not in text


def audit_dump():
    return json.dumps(list(AuditEvent.objects.values()), default=str)


# -- start_screenshare ------------------------------------------------------------


def test_start_screenshare_sends_agent_branding_permissions_and_metadata(rsps):
    user = make_user(
        "agent", ["screenshare_visitor", "audio_visitor"], first_name="Ada", last_name="Lovelace"
    )
    watch_ok(rsps)
    rsps.get(f"{API}/visitors/V1.json", json={"visitor": visitor_payload("V1")})
    actor = actor_for(user, HTTP_X_REQUEST_ID="req-42", REMOTE_ADDR="203.0.113.9")

    share = services.start_screenshare(actor, "V1", metadata={"ticket": "T-7"})

    assert share.watch_url == WATCH_URL
    # The mint, then the write-back's refresh of the visitor (tests/test_writeback.py).
    assert [c.request.method for c in rsps.calls] == ["POST", "GET"]
    call = rsps.calls[0]
    assert call.request.method == "POST"
    assert call.request.headers["X-Api-Key"] == API_KEY
    body = sent_json(call)
    assert body["agent"] == {"id": str(user.pk), "name": "Ada Lovelace"}
    assert body["branding"] == {
        "naked": True,
        "on_end_url": "http://support.example.com/upscope/visitors/V1/screenshare/ended/",
        "retry_url": "http://support.example.com/upscope/visitors/V1/screenshare/",
    }
    assert body["permissions"] == {**dict.fromkeys(ALL_KEYS, False), "allow_audio": True}
    assert body["metadata"] == {
        "ticket": "T-7",
        "django_user_id": str(user.pk),
        "request_id": "req-42",
        "source": "admin",
    }
    assert share.permissions == body["permissions"]
    assert share.metadata == body["metadata"]

    event = share.audit_event
    event.refresh_from_db()
    assert (event.action, event.outcome) == ("watch_url", "success")
    assert (event.user_id, event.username, event.visitor_short_id) == (user.pk, "agent", "V1")
    assert event.client_ip == "203.0.113.9"
    assert event.request_id == "req-42"
    assert event.permissions == body["permissions"]
    assert event.metadata == body["metadata"]
    expected_hash = hmac.new(b"tests-only-secret-key", WATCH_URL.encode(), hashlib.sha256)
    assert event.watch_url_hash == expected_hash.hexdigest()
    assert_no_secrets(audit_dump(), repr(share))


def test_agent_name_falls_back_to_username(rsps):
    watch_ok(rsps)
    services.start_screenshare(actor_for(make_user("agent", ["screenshare_visitor"])), "V1")
    assert sent_json(rsps.calls[0])["agent"] == {
        "id": str(User.objects.get().pk),
        "name": "agent",
    }


def test_caller_may_narrow_but_never_widen(rsps):
    user = make_user("agent", ["screenshare_visitor", "remote_control_visitor"])
    watch_ok(rsps)
    share = services.start_screenshare(
        actor_for(user), "V1", permissions={"allow_click": False, "allow_console": True}
    )
    expected = {
        **dict.fromkeys(ALL_KEYS, False),
        "allow_type": True,
        "allow_scroll": True,
        "allow_draw": True,
    }
    assert sent_json(rsps.calls[0])["permissions"] == expected
    assert share.permissions == expected


def test_unknown_requested_permission_is_refused_before_upstream(rsps):
    user = make_user("agent", ["screenshare_visitor"])
    with pytest.raises(UpscopeInvalidInput, match="allow_teleport"):
        services.start_screenshare(actor_for(user), "V1", permissions={"allow_teleport": True})
    assert len(rsps.calls) == 0
    event = AuditEvent.objects.get()
    assert (event.outcome, event.error_code) == ("failure", "invalid_permissions")


def hook(request, short_id):
    return {"team": "blue", "visitor": short_id, "django_user_id": "forged"}


@pytest.mark.parametrize("metadata_hook", [hook, "tests.test_services.hook"])
def test_metadata_hook_is_merged_but_cannot_override_stamps(rsps, settings, metadata_hook):
    settings.UPSCOPE = {**settings.UPSCOPE, "METADATA_HOOK": metadata_hook}
    user = make_user("agent", ["screenshare_visitor"])
    watch_ok(rsps)
    services.start_screenshare(
        actor_for(user), "V1", metadata={"request_id": "forged", "ticket": "T-1"}
    )
    metadata = sent_json(rsps.calls[0])["metadata"]
    assert metadata["team"] == "blue"
    assert metadata["visitor"] == "V1"
    assert metadata["ticket"] == "T-1"
    assert metadata["django_user_id"] == str(user.pk)
    assert metadata["request_id"] != "forged"


def test_non_flat_hook_output_is_a_configuration_error(rsps, settings):
    settings.UPSCOPE = {**settings.UPSCOPE, "METADATA_HOOK": lambda r, s: {"nested": {"a": 1}}}
    user = make_user("agent", ["screenshare_visitor"])
    with pytest.raises(UpscopeConfigurationError, match="METADATA_HOOK"):
        services.start_screenshare(actor_for(user), "V1")
    assert len(rsps.calls) == 0
    assert AuditEvent.objects.get().error_code == "invalid_metadata_hook"


@pytest.mark.parametrize(
    "codenames",
    [[], ["remote_control_visitor", "audio_visitor", "remote_console_visitor"]],
    ids=["nothing", "everything-but-screenshare"],
)
def test_denied_user_gets_permission_denied_and_no_upstream_call(rsps, codenames):
    user = make_user("agent", codenames)
    with pytest.raises(PermissionDenied):
        services.start_screenshare(actor_for(user), "V1")
    assert len(rsps.calls) == 0
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome, event.username) == ("watch_url", "denied", "agent")
    assert event.watch_url_hash == ""


def test_command_without_user_cannot_mint(rsps):
    actor = services.Actor(user=None, source="command")
    with pytest.raises(PermissionDenied):
        services.start_screenshare(actor, "V1")
    assert len(rsps.calls) == 0


@pytest.mark.parametrize(
    ("status", "body", "error_class", "code"),
    [
        (404, {"status": "error", "error": "not_found"}, UpscopeVisitorNotFound,
         "visitor_not_found"),
        (402, {"status": "error", "error": "subscription_limit"}, UpscopeSubscriptionLimit,
         "subscription_limit"),
        (401, {"status": "error", "error": "subscription_expired"}, UpscopeAuthenticationError,
         "subscription_expired"),
        (401, {"status": "error", "error": "api_not_enabled"}, UpscopeAuthenticationError,
         "api_not_enabled"),
        (401, {"status": "error", "error": "invalid_api_key"}, UpscopeAuthenticationError,
         "invalid_api_key"),
        (503, {"status": "error"}, UpscopeUnavailable, "http_503"),
        (200, "<html>proxy</html>", UpscopeInvalidResponse, "invalid_response"),
    ],
)  # fmt: skip
def test_upstream_errors_are_raised_and_audited(rsps, caplog, status, body, error_class, code):
    user = make_user("agent", ["screenshare_visitor"])
    if isinstance(body, dict):
        rsps.post(f"{API}/visitors/V1/watch_url.json", status=status, json=body)
    else:
        rsps.post(f"{API}/visitors/V1/watch_url.json", status=status, body=body)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(error_class):
        services.start_screenshare(actor_for(user), "V1")
    assert len(rsps.calls) == 1  # POST is never retried
    event = AuditEvent.objects.get()
    assert (event.outcome, event.error_code, event.status_code) == ("failure", code, status)
    assert event.detail
    assert_no_secrets(audit_dump(), caplog.text)


def test_connection_error_is_audited(rsps):
    user = make_user("agent", ["screenshare_visitor"])
    rsps.post(f"{API}/visitors/V1/watch_url.json", body=requests.ConnectionError("refused"))
    with pytest.raises(UpscopeConnectionError):
        services.start_screenshare(actor_for(user), "V1")
    event = AuditEvent.objects.get()
    assert (event.outcome, event.error_code, event.status_code) == (
        "failure",
        "connection_error",
        None,
    )


def test_invalid_short_id_is_audited_without_upstream_call(rsps):
    user = make_user("agent", ["screenshare_visitor"])
    with pytest.raises(UpscopeInvalidInput):
        services.start_screenshare(actor_for(user), "../etc")
    assert len(rsps.calls) == 0
    assert AuditEvent.objects.get().error_code == "invalid_short_id"


def test_success_logs_no_secrets(rsps, caplog):
    caplog.set_level(logging.DEBUG)
    watch_ok(rsps)
    services.start_screenshare(actor_for(make_user("agent", ["screenshare_visitor"])), "V1")
    assert "Watch URL minted" in caplog.text
    assert_no_secrets(caplog.text)


# -- stop_session -------------------------------------------------------------------


def test_stop_session(rsps):
    rsps.delete(f"{API}/visitors/V1/session", body="ok")
    rsps.get(f"{API}/visitors/V1.json", json={"visitor": visitor_payload("V1")})
    event = services.stop_session(actor_for(make_user("agent", ["screenshare_visitor"])), "V1")
    # The stop, then the write-back's refresh of the visitor (tests/test_writeback.py).
    assert [c.request.method for c in rsps.calls] == ["DELETE", "GET"]
    assert (event.action, event.outcome) == ("stop_session", "success")
    assert event.visitor_short_id == "V1"


def test_stop_session_failure_is_audited(rsps):
    rsps.delete(f"{API}/visitors/V1/session", status=401, json={"error": "invalid_api_key"})
    with pytest.raises(UpscopeAuthenticationError):
        services.stop_session(actor_for(make_user("agent", ["screenshare_visitor"])), "V1")
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome, event.error_code) == (
        "stop_session",
        "failure",
        "invalid_api_key",
    )


def test_stop_session_denied(rsps):
    with pytest.raises(PermissionDenied):
        services.stop_session(actor_for(make_user("agent", ["audio_visitor"])), "V1")
    assert len(rsps.calls) == 0
    assert AuditEvent.objects.get().outcome == "denied"


# -- delete --------------------------------------------------------------------------


def test_delete_removes_local_row_after_upscope_confirms(rsps):
    VisitorFactory(short_id="V1")
    rsps.delete(f"{API}/visitors/V1.json", json={"status": "ok"})
    result = services.delete_visitor(actor_for(make_user("agent", ["delete_visitor"])), "V1")
    assert (result.already_gone, result.removed_locally) == (False, 1)
    assert not Visitor.objects.filter(pk="V1").exists()
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome) == ("delete_visitor", "success")


def test_delete_404_means_already_gone_and_removes_locally(rsps):
    VisitorFactory(short_id="V1")
    rsps.delete(f"{API}/visitors/V1.json", status=404, json=UPSCOPE_NOT_FOUND)
    result = services.delete_visitor(actor_for(make_user("agent", ["delete_visitor"])), "V1")
    assert result.already_gone is True
    assert not Visitor.objects.filter(pk="V1").exists()
    event = AuditEvent.objects.get()
    assert (event.outcome, event.status_code) == ("success", 404)
    assert "already deleted" in event.detail


@pytest.mark.parametrize(
    ("status", "error_class"), [(500, UpscopeUnavailable), (401, UpscopeAuthenticationError)]
)
def test_delete_failure_keeps_local_row(rsps, status, error_class):
    VisitorFactory(short_id="V1")
    rsps.delete(f"{API}/visitors/V1.json", status=status, json={"error": "invalid_api_key"})
    with pytest.raises(error_class):
        services.delete_visitor(actor_for(make_user("agent", ["delete_visitor"])), "V1")
    assert Visitor.objects.filter(pk="V1").exists()
    event = AuditEvent.objects.get()
    assert (event.outcome, event.status_code) == ("failure", status)
    assert "Nothing was deleted locally" in event.detail


def test_delete_denied_keeps_row_and_sends_nothing(rsps):
    VisitorFactory(short_id="V1")
    with pytest.raises(PermissionDenied):
        services.delete_visitor(actor_for(make_user("agent", ["screenshare_visitor"])), "V1")
    assert len(rsps.calls) == 0
    assert Visitor.objects.filter(pk="V1").exists()
    assert AuditEvent.objects.get().outcome == "denied"


def test_delete_visitors_reports_partial_failures(rsps):
    for short_id in ("V1", "V2", "V3"):
        VisitorFactory(short_id=short_id)
    rsps.delete(f"{API}/visitors/V1.json", json={"status": "ok"})
    rsps.delete(f"{API}/visitors/V2.json", status=503)
    rsps.delete(f"{API}/visitors/V3.json", status=404, json=UPSCOPE_NOT_FOUND)
    result = services.delete_visitors(
        actor_for(make_user("agent", ["delete_visitor"])), ["V1", "V2", "V3"]
    )
    assert result.succeeded == ["V1", "V3"]
    assert result.already_gone == ["V3"]
    assert [(sid, type(err)) for sid, err in result.failed] == [("V2", UpscopeUnavailable)]
    assert set(Visitor.objects.values_list("pk", flat=True)) == {"V2"}
    outcomes = dict(AuditEvent.objects.values_list("visitor_short_id", "outcome"))
    assert outcomes == {"V1": "success", "V2": "failure", "V3": "success"}


def test_command_actor_may_delete(rsps):
    rsps.delete(f"{API}/visitors/V1.json", json={"status": "ok"})
    services.delete_visitor(services.Actor(user=None, source="command"), "V1")
    event = AuditEvent.objects.get()
    assert (event.source, event.user_id, event.outcome) == ("command", None, "success")


def test_api_actor_without_user_is_denied(rsps):
    with pytest.raises(PermissionDenied):
        services.delete_visitor(services.Actor(user=None, source="api"), "V1")
    assert len(rsps.calls) == 0


# -- purge, refresh, reads -------------------------------------------------------------


def test_purge_is_audited_and_keeps_mirror(rsps):
    VisitorFactory(short_id="V1", is_online=False)
    rsps.delete(f"{API}/visitors.json?all=true", json={"status": "ok"})
    event = services.purge_offline_visitors(
        actor_for(make_user("agent", ["purge_offline_visitors"]))
    )
    assert rsps.calls[0].request.url == f"{API}/visitors.json?all=true"
    assert (event.action, event.outcome) == ("purge_offline_visitors", "success")
    assert "asynchronously" in event.detail
    assert Visitor.objects.filter(pk="V1").exists()


def test_purge_denied(rsps):
    with pytest.raises(PermissionDenied):
        services.purge_offline_visitors(actor_for(make_user("agent", ["delete_visitor"])))
    assert len(rsps.calls) == 0
    assert AuditEvent.objects.get().action == "purge_offline_visitors"


def test_refresh_visitor_updates_mirror(rsps):
    VisitorFactory(short_id="V1", identities=["Old Name"])
    rsps.get(
        f"{API}/visitors/V1.json",
        json={"status": "ok", "visitor": visitor_payload("V1", identities=["New Name"])},
    )
    row = services.refresh_visitor(actor_for(make_user("agent", ["refresh_visitor"])), "V1")
    assert row.display_name == "New Name"
    assert Visitor.objects.get(pk="V1").display_name == "New Name"
    assert AuditEvent.objects.get().action == "refresh_visitor"


def test_refresh_not_found_is_audited(rsps):
    rsps.get(f"{API}/visitors/V9.json", status=404, json=UPSCOPE_NOT_FOUND)
    with pytest.raises(UpscopeVisitorNotFound):
        services.refresh_visitor(actor_for(make_user("agent", ["refresh_visitor"])), "V9")
    assert AuditEvent.objects.get().error_code == "visitor_not_found"


def test_refresh_not_found_marks_the_mirror_row_removed_upstream(rsps):
    VisitorFactory(short_id="V9")
    VisitorFactory(short_id="V8")
    rsps.get(f"{API}/visitors/V9.json", status=404, json=UPSCOPE_NOT_FOUND)
    with pytest.raises(UpscopeVisitorNotFound):
        services.refresh_visitor(actor_for(make_user("agent", ["refresh_visitor"])), "V9")
    # Upscope confirmed it has no such visitor: the row is kept as the record, marked.
    assert Visitor.objects.get(pk="V9").removed_upstream_at is not None
    assert Visitor.objects.get(pk="V8").removed_upstream_at is None
    event = AuditEvent.objects.get()
    assert (event.outcome, event.error_code, event.status_code) == (
        "failure",
        "visitor_not_found",
        404,
    )


def test_get_visitor_not_found_marks_the_mirror_row_removed_upstream(rsps):
    VisitorFactory(short_id="V9")
    rsps.get(f"{API}/visitors/V9.json", status=404, json=UPSCOPE_NOT_FOUND)
    with pytest.raises(UpscopeVisitorNotFound):
        services.get_visitor("V9")
    assert Visitor.objects.get(pk="V9").removed_upstream_at is not None
    assert not AuditEvent.objects.exists()  # a read, not an action


def test_get_visitor_not_found_leaves_the_mirror_without_read_through(rsps, settings):
    settings.UPSCOPE = {**settings.UPSCOPE, "MIRROR_READ_THROUGH": False}
    VisitorFactory(short_id="V9")
    rsps.get(f"{API}/visitors/V9.json", status=404, json=UPSCOPE_NOT_FOUND)
    with pytest.raises(UpscopeVisitorNotFound):
        services.get_visitor("V9")
    assert Visitor.objects.get(pk="V9").removed_upstream_at is None


def test_other_refresh_errors_leave_the_mirror_row_unmarked(rsps):
    VisitorFactory(short_id="V9")
    rsps.get(f"{API}/visitors/V9.json", status=500)
    with pytest.raises(UpscopeUnavailable):
        services.refresh_visitor(actor_for(make_user("agent", ["refresh_visitor"])), "V9")
    assert Visitor.objects.get(pk="V9").removed_upstream_at is None


def test_search_and_get_visitor_read_through(rsps):
    rsps.get(
        f"{API}/list.json",
        json={"status": "ok", "visitors": [visitor_payload("V1"), visitor_payload("V2")]},
    )
    rsps.get(f"{API}/visitors/V3.json", json={"status": "ok", "visitor": visitor_payload("V3")})
    assert [v.short_id for v in services.search_visitors()] == ["V1", "V2"]
    assert services.get_visitor("V3").short_id == "V3"
    assert set(Visitor.objects.values_list("pk", flat=True)) == {"V1", "V2", "V3"}


def test_get_usage_records_snapshot(rsps):
    usage = {"usage": {"visitors": {"online_now": 7}, "session_counts": {"today": 3}}}
    rsps.get(f"{API}/usage.json", json=usage)
    result = services.get_usage()
    assert result.visitors.online_now == 7
    snapshot = UsageSnapshot.objects.get()
    assert (snapshot.visitors_online_now, snapshot.sessions_today) == (7, 3)
    services.get_usage(record=False)
    assert UsageSnapshot.objects.count() == 1


def test_on_premise_mint_is_not_supported_and_audited(rsps, settings):
    settings.UPSCOPE = {"BASE_ENDPOINT": "http://onprem.test/cobrowse", "REST_KEY": "rest"}
    with pytest.raises(UpscopeNotSupported):
        services.start_screenshare(actor_for(make_user("agent", ["screenshare_visitor"])), "V1")
    assert len(rsps.calls) == 0
    assert AuditEvent.objects.get().error_code == "not_supported_on_premise"


def test_actor_from_request_ignores_unsafe_request_id():
    actor = actor_for(make_user(), HTTP_X_REQUEST_ID="bad id\nwith newline", REMOTE_ADDR="x")
    assert actor.request_id != "bad id\nwith newline"
    assert len(actor.request_id) == 32
    assert actor.client_ip is None
