"""Every error answers {"error": code, "detail": text} with the documented status."""

from __future__ import annotations

import pytest
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.test import APIClient

from django_upscope.api import views

from .conftest import ADMIN_ROLE, READER, api

pytestmark = pytest.mark.django_db(transaction=True)


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def upscope_settings(settings, **changes):
    settings.UPSCOPE = {**settings.UPSCOPE, **changes}


# -- Upscope's errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ({"status": 404}, 404, "visitor_not_found"),
        ({"status": 500}, 503, "http_500"),
        ({"status": 503}, 503, "http_503"),
        ({"status": 429}, 503, "rate_limited"),
        ({"status": 418}, 502, "http_418"),
        ({"drop": True}, 503, "connection_error"),
        ({"body": "<html>oops</html>", "content_type": "text/html"}, 502, "invalid_response"),
        ({"body": {"status": "ok", "visitor": "nope"}}, 502, "invalid_response"),
    ],
    ids=lambda v: str(v),
)
def test_upstream_failures_map_to_http(upscope_fake, client_for, fault, status, code):
    short_id = upscope_fake.add_visitor()
    upscope_fake.fail("visitor_get", times=None, **fault)
    response = client_for(READER).get(api("visitor-detail", short_id))
    assert_error(response, status, code)


def test_unavailable_says_retry_after_when_upscope_did(upscope_fake, client_for):
    upscope_fake.fail("list", status=503, retry_after=30, times=None)
    response = client_for(READER).get(api("visitor-list"))
    assert_error(response, 503, "http_503")
    assert response["Retry-After"] == "30"


def test_an_upstream_500_is_described_as_a_server_error(upscope_fake, client_for):
    upscope_fake.fail("list", status=500, times=None)
    body = assert_error(client_for(READER).get(api("visitor-list")), 503, "http_500")
    assert body["detail"] == "Upscope answered 500 (a server error) to GET /list.json."


def test_unavailable_without_retry_after_sends_none(upscope_fake, client_for):
    upscope_fake.fail("list", status=502, times=None)
    response = client_for(READER).get(api("visitor-list"))
    assert_error(response, 503, "http_502")
    assert "Retry-After" not in response


def test_timeout_is_504(upscope_fake, client_for, settings):
    upscope_settings(settings, TIMEOUT=0.2, MAX_RETRIES=0)
    upscope_fake.fail("list", delay=1.0)
    assert_error(client_for(READER).get(api("visitor-list")), 504, "timeout")


@pytest.mark.parametrize(
    "key",
    [
        "fake_subscription_expired",
        "fake_api_not_enabled",
        "fake_no_subscription",
        "fake_please_contact_team",
        "wrong_key_123",
    ],
)
def test_authentication_errors_are_502_with_the_upstream_code_and_no_key(
    upscope_fake, client_for, settings, key
):
    upscope_settings(settings, API_KEY=key)
    response = client_for(READER).get(api("visitor-list"))
    expected = key.removeprefix("fake_") if key.startswith("fake_") else "invalid_api_key"
    body = assert_error(response, 502, expected)
    assert key not in response.content.decode()
    assert "administrator" in body["detail"]


def test_missing_configuration_is_502_not_configured(upscope_fake, client_for, settings):
    upscope_settings(settings, API_KEY=None)
    response = client_for(READER).get(api("visitor-list"))
    assert_error(response, 502, "not_configured")
    assert upscope_fake.requests() == []


def test_usage_errors(upscope_fake, manager_client):
    upscope_fake.fail("usage", status=401, code="api_not_enabled")
    assert_error(manager_client.get(api("usage")), 502, "api_not_enabled")


def test_purge_errors(upscope_fake, manager_client):
    upscope_fake.fail("purge", status=504, times=None)
    assert_error(manager_client.post(api("visitor-purge")), 503, "http_504")


# -- DRF's own errors ----------------------------------------------------------------------


def test_anonymous_with_session_auth_is_403_not_authenticated(db):
    response = APIClient().get(api("visitor-list"))
    assert_error(response, 403, "not_authenticated")


def test_anonymous_with_a_challenge_scheme_is_401(db, monkeypatch):
    monkeypatch.setattr(
        views.VisitorListView,
        "authentication_classes",
        [BasicAuthentication, SessionAuthentication],
    )
    response = APIClient().get(api("visitor-list"))
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Basic")


def test_wrong_credentials_are_401_authentication_failed(db, monkeypatch):
    monkeypatch.setattr(views.VisitorListView, "authentication_classes", [BasicAuthentication])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic bm9ib2R5Om5vcGU=")  # nobody:nope
    assert_error(client.get(api("visitor-list")), 401, "authentication_failed")


def test_method_not_allowed_is_405(client_for):
    client = client_for(ADMIN_ROLE)
    assert_error(
        client.put(api("visitor-detail", "ABC"), {}, format="json"), 405, "method_not_allowed"
    )
    assert_error(client.get(api("visitor-purge")), 405, "method_not_allowed")


def test_invalid_query_is_400_with_fields(client_for):
    response = client_for(READER).get(api("visitor-list"), {"source": "elsewhere"})
    body = assert_error(response, 400, "invalid")
    assert "source" in body["fields"]
    assert body["detail"].startswith("source: ")


def test_malformed_json_is_400_parse_error(client_for):
    response = client_for(ADMIN_ROLE).post(
        api("visitor-watch-url", "ABC"), "{not json", content_type="application/json"
    )
    assert_error(response, 400, "parse_error")


def test_invalid_dates_are_400(client_for):
    client = client_for(ADMIN_ROLE)
    assert_error(client.get(api("session-list"), {"since": "yesterday"}), 400, "invalid")
    body = assert_error(
        client.get(api("usage-history"), {"since": "2024-02-01", "until": "2024-01-01"}),
        400,
        "invalid",
    )
    assert list(body["fields"]) == ["until"]


def test_project_exception_handler_is_not_needed(client_for, settings):
    # A project handler that would break the shape is not used by these views.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "EXCEPTION_HANDLER": "tests.api.test_errors.broken_handler",
    }
    assert_error(client_for([]).get(api("visitor-list")), 403, "permission_denied")


def broken_handler(exc, context):  # pragma: no cover - must never be called
    raise AssertionError("the project's EXCEPTION_HANDLER was used")
