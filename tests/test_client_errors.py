"""Every answer Upscope can give that is not a success, mapped to its UpscopeError subclass."""

from __future__ import annotations

import datetime as dt
import email.utils

import pytest
import requests
import responses

from django_upscope import client as client_module
from django_upscope.exceptions import (
    UpscopeAPIError,
    UpscopeAuthenticationError,
    UpscopeConnectionError,
    UpscopeError,
    UpscopeInvalidResponse,
    UpscopeRateLimited,
    UpscopeSubscriptionLimit,
    UpscopeTimeout,
    UpscopeUnavailable,
    UpscopeVisitorNotFound,
)

from .test_client_payloads import (
    CLOUD_URL,
    ONPREM_API,
    USAGE,
    cloud_client,
    onprem_client,
    record_sleeps,
    visitor,
)


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def cloud():
    client = cloud_client(max_retries=0)
    record_sleeps(client)
    return client


@pytest.fixture
def onprem():
    client = onprem_client(max_retries=0)
    record_sleeps(client)
    return client


# (name, method, url, call) for every cloud operation.
CLOUD_OPERATIONS = [
    ("usage", "GET", f"{CLOUD_URL}/usage.json", lambda c: c.get_usage()),
    ("search", "GET", f"{CLOUD_URL}/list.json", lambda c: c.search_visitors("joe")),
    ("visitor", "GET", f"{CLOUD_URL}/visitors/ABCD1234.json", lambda c: c.get_visitor("ABCD1234")),
    (
        "delete",
        "DELETE",
        f"{CLOUD_URL}/visitors/ABCD1234.json",
        lambda c: c.delete_visitor("ABCD1234"),
    ),
    ("purge", "DELETE", f"{CLOUD_URL}/visitors.json", lambda c: c.delete_offline_visitors()),
    (
        "watch_url",
        "POST",
        f"{CLOUD_URL}/visitors/ABCD1234/watch_url.json",
        lambda c: c.create_watch_url("ABCD1234", agent_id="1", agent_name="A"),
    ),
    (
        "stop_session",
        "DELETE",
        f"{CLOUD_URL}/visitors/ABCD1234/session",
        lambda c: c.stop_session("ABCD1234"),
    ),
]
VISITOR_OPERATIONS = [op for op in CLOUD_OPERATIONS if "ABCD1234" in op[2]]
NO_VISITOR_OPERATIONS = [op for op in CLOUD_OPERATIONS if "ABCD1234" not in op[2]]
IDS = [op[0] for op in CLOUD_OPERATIONS]


def _raise(rsps, client, method, url, call, **answer):
    rsps.add(method, url, **answer)
    with pytest.raises(UpscopeError) as info:
        call(client)
    return info.value


# -- 401 ----------------------------------------------------------------------------------

AUTH_CODES = [
    "invalid_api_key",
    "subscription_expired",
    "api_not_enabled",
    "no_subscription",
    "please_contact_team",
]


@pytest.mark.parametrize("code", AUTH_CODES)
@pytest.mark.parametrize(("name", "method", "url", "call"), CLOUD_OPERATIONS, ids=IDS)
def test_401_codes_surface_as_authentication_errors(rsps, cloud, code, name, method, url, call):
    error = _raise(
        rsps, cloud, method, url, call, status=401, json={"status": "error", "error": code}
    )
    assert type(error) is UpscopeAuthenticationError
    assert error.status_code == 401
    assert error.code == code
    assert "UPSCOPE['API_KEY']" in str(error)
    assert len(rsps.calls) == 1


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("", "text/plain"),
        ("<html>Unauthorized</html>", "text/html"),
        ('{"status": "error", "error": "something_new"}', "application/json"),
    ],
)
def test_401_without_a_known_code_is_invalid_api_key(rsps, cloud, body, content_type):
    error = _raise(
        rsps,
        cloud,
        "GET",
        f"{CLOUD_URL}/usage.json",
        lambda c: c.get_usage(),
        status=401,
        body=body,
        content_type=content_type,
    )
    assert type(error) is UpscopeAuthenticationError
    assert (error.status_code, error.code) == (401, "invalid_api_key")


def test_onprem_401_names_the_rest_key(rsps, onprem):
    error = _raise(
        rsps,
        onprem,
        "GET",
        f"{ONPREM_API}/visitors/list/latest",
        lambda c: c.latest_visitors(),
        status=401,
        body="Unauthorized",
    )
    assert isinstance(error, UpscopeAuthenticationError)
    assert "UPSCOPE['REST_KEY']" in str(error)


# -- 402, 404 -----------------------------------------------------------------------------


def test_402_on_watch_url_is_the_subscription_limit(rsps, cloud):
    error = _raise(
        rsps,
        cloud,
        "POST",
        f"{CLOUD_URL}/visitors/ABCD1234/watch_url.json",
        lambda c: c.create_watch_url("ABCD1234", agent_id="1", agent_name="A"),
        status=402,
        body="Payment Required",
    )
    assert type(error) is UpscopeSubscriptionLimit
    assert (error.status_code, error.code) == (402, "subscription_limit")


def test_402_keeps_upscopes_code_when_it_sends_one(rsps, cloud):
    error = _raise(
        rsps,
        cloud,
        "POST",
        f"{CLOUD_URL}/visitors/ABCD1234/watch_url.json",
        lambda c: c.create_watch_url("ABCD1234", agent_id="1", agent_name="A"),
        status=402,
        json={"status": "error", "error": "too_many_sessions"},
    )
    assert type(error) is UpscopeSubscriptionLimit
    assert error.code == "too_many_sessions"


@pytest.mark.parametrize(
    ("name", "method", "url", "call"), VISITOR_OPERATIONS, ids=[o[0] for o in VISITOR_OPERATIONS]
)
def test_404_on_a_visitor_is_visitor_not_found(rsps, cloud, name, method, url, call):
    error = _raise(rsps, cloud, method, url, call, status=404, body="Not Found")
    assert type(error) is UpscopeVisitorNotFound
    assert (error.status_code, error.code) == (404, "visitor_not_found")
    assert "'ABCD1234'" in str(error)


def test_onprem_404_on_a_visitor_is_visitor_not_found(rsps, onprem):
    error = _raise(
        rsps,
        onprem,
        "GET",
        f"{ONPREM_API}/visitors/1234",
        lambda c: c.get_visitor("1234"),
        status=404,
        json={"status": "error", "error": "not_found"},
    )
    assert type(error) is UpscopeVisitorNotFound
    assert error.status_code == 404


@pytest.mark.parametrize(
    ("name", "method", "url", "call"),
    NO_VISITOR_OPERATIONS,
    ids=[o[0] for o in NO_VISITOR_OPERATIONS],
)
def test_404_elsewhere_is_an_api_error_hinting_at_the_url(rsps, cloud, name, method, url, call):
    error = _raise(rsps, cloud, method, url, call, status=404, body="Not Found")
    assert type(error) is UpscopeAPIError
    assert (error.status_code, error.code) == (404, "http_404")
    assert "check UPSCOPE['API_URL']" in str(error)


def test_onprem_404_on_a_list_hints_at_base_endpoint(rsps, onprem):
    error = _raise(
        rsps,
        onprem,
        "GET",
        f"{ONPREM_API}/visitors/list/latest",
        lambda c: c.latest_visitors(),
        status=404,
    )
    assert type(error) is UpscopeAPIError
    assert "check UPSCOPE['BASE_ENDPOINT']" in str(error)


@pytest.mark.parametrize("status", [400, 403, 405, 409, 422])
def test_other_4xx_are_api_errors(rsps, cloud, status):
    error = _raise(
        rsps,
        cloud,
        "GET",
        f"{CLOUD_URL}/usage.json",
        lambda c: c.get_usage(),
        status=status,
        body="nope",
    )
    assert type(error) is UpscopeAPIError
    assert (error.status_code, error.code) == (status, f"http_{status}")


def test_an_error_code_that_is_not_a_short_token_is_not_copied(rsps, cloud):
    error = _raise(
        rsps,
        cloud,
        "GET",
        f"{CLOUD_URL}/usage.json",
        lambda c: c.get_usage(),
        status=400,
        json={"status": "error", "error": "<script>alert(1)</script>"},
    )
    assert error.code == "http_400"
    assert "<script>" not in str(error)


def test_redirects_are_not_followed(rsps, cloud):
    rsps.get(
        f"{CLOUD_URL}/usage.json",
        status=302,
        headers={"Location": "https://elsewhere.test/usage.json"},
    )
    with pytest.raises(UpscopeAPIError) as info:
        cloud.get_usage()
    # Only the first request went out: the API key never reached the other host.
    assert [c.request.url for c in rsps.calls] == [f"{CLOUD_URL}/usage.json"]
    assert info.value.status_code == 302
    assert "check UPSCOPE['API_URL']" in str(info.value)


# -- 429 and 5xx --------------------------------------------------------------------------


def test_429_with_retry_after_seconds(rsps, cloud):
    error = _raise(
        rsps,
        cloud,
        "GET",
        f"{CLOUD_URL}/usage.json",
        lambda c: c.get_usage(),
        status=429,
        headers={"Retry-After": "12"},
    )
    assert type(error) is UpscopeRateLimited
    assert isinstance(error, UpscopeUnavailable)
    assert (error.status_code, error.code, error.retry_after) == (429, "rate_limited", 12.0)


def test_429_with_retry_after_http_date(rsps, cloud, monkeypatch):
    now = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    monkeypatch.setattr(client_module.time, "time", now.timestamp)
    later = email.utils.format_datetime(now + dt.timedelta(seconds=90), usegmt=True)
    error = _raise(
        rsps,
        cloud,
        "GET",
        f"{CLOUD_URL}/usage.json",
        lambda c: c.get_usage(),
        status=429,
        headers={"Retry-After": later},
    )
    assert type(error) is UpscopeRateLimited
    assert error.retry_after == 90.0


@pytest.mark.parametrize("value", ["", "soon", "-5", "Wed, 01 Jan 2000 00:00:00 GMT"])
def test_429_with_unusable_or_past_retry_after(rsps, cloud, value):
    error = _raise(
        rsps,
        cloud,
        "GET",
        f"{CLOUD_URL}/usage.json",
        lambda c: c.get_usage(),
        status=429,
        headers={"Retry-After": value},
    )
    assert type(error) is UpscopeRateLimited
    assert error.retry_after in (None, 0.0)


def test_429_without_retry_after(rsps, cloud):
    error = _raise(
        rsps, cloud, "GET", f"{CLOUD_URL}/usage.json", lambda c: c.get_usage(), status=429
    )
    assert type(error) is UpscopeRateLimited
    assert error.retry_after is None


@pytest.mark.parametrize("status", [500, 502, 503, 504])
@pytest.mark.parametrize(("name", "method", "url", "call"), CLOUD_OPERATIONS, ids=IDS)
def test_5xx_is_unavailable(rsps, cloud, status, name, method, url, call):
    error = _raise(rsps, cloud, method, url, call, status=status, body="<html>Bad Gateway</html>")
    assert type(error) is UpscopeUnavailable
    assert (error.status_code, error.code) == (status, f"http_{status}")


def test_connection_error_and_timeout(rsps, cloud):
    rsps.get(f"{CLOUD_URL}/usage.json", body=requests.ConnectionError("refused"))
    with pytest.raises(UpscopeConnectionError) as info:
        cloud.get_usage()
    assert (info.value.status_code, info.value.code) == (None, "connection_error")
    cause = info.value.__cause__
    assert isinstance(cause, requests.ConnectionError)
    assert str(cause) == "refused"
    # Its frames (requests, urllib3) hold the request headers as locals: dropped.
    assert cause.__traceback__ is None

    rsps.replace("GET", f"{CLOUD_URL}/usage.json", body=requests.ReadTimeout("slow"))
    with pytest.raises(UpscopeTimeout) as info:
        cloud.get_usage()
    assert (info.value.status_code, info.value.code) == (None, "timeout")
    assert "7.5 s" in str(info.value)
    assert isinstance(info.value.__cause__, requests.ReadTimeout)


def test_a_dropped_body_is_a_connection_error(rsps, cloud):
    rsps.get(
        f"{CLOUD_URL}/usage.json",
        body=requests.exceptions.ChunkedEncodingError("connection broken"),
    )
    with pytest.raises(UpscopeConnectionError):
        cloud.get_usage()


# -- bodies that are not the documented JSON ---------------------------------------------

BAD_BODIES = [
    ("html", "<html><body>502 Bad Gateway</body></html>", "text/html"),
    ("truncated", '{"usage": {"visitors": {"online_now": 1', "application/json"),
    ("empty", "", "application/json"),
]


@pytest.mark.parametrize(("label", "body", "content_type"), BAD_BODIES)
@pytest.mark.parametrize(
    ("name", "url", "call"),
    [
        ("usage", f"{CLOUD_URL}/usage.json", lambda c: c.get_usage()),
        ("search", f"{CLOUD_URL}/list.json", lambda c: c.search_visitors()),
        ("visitor", f"{CLOUD_URL}/visitors/ABCD1234.json", lambda c: c.get_visitor("ABCD1234")),
    ],
)
def test_a_success_status_with_a_non_json_body_is_invalid(
    rsps, cloud, label, body, content_type, name, url, call
):
    error = _raise(rsps, cloud, "GET", url, call, status=200, body=body, content_type=content_type)
    assert type(error) is UpscopeInvalidResponse
    assert (error.status_code, error.code) == (200, "invalid_response")
    assert content_type in str(error)


def test_html_on_watch_url_is_invalid(rsps, cloud):
    error = _raise(
        rsps,
        cloud,
        "POST",
        f"{CLOUD_URL}/visitors/ABCD1234/watch_url.json",
        lambda c: c.create_watch_url("ABCD1234", agent_id="1", agent_name="A"),
        body="<html>login</html>",
        content_type="text/html",
    )
    assert type(error) is UpscopeInvalidResponse


WRONG_SHAPES = [
    ("usage", f"{CLOUD_URL}/usage.json", lambda c: c.get_usage(), [1, 2]),
    ("usage", f"{CLOUD_URL}/usage.json", lambda c: c.get_usage(), {"status": "ok"}),
    (
        "usage",
        f"{CLOUD_URL}/usage.json",
        lambda c: c.get_usage(),
        {"usage": {"visitors": {"online_now": "many"}}},
    ),
    ("search", f"{CLOUD_URL}/list.json", lambda c: c.search_visitors(), {"status": "ok"}),
    (
        "search",
        f"{CLOUD_URL}/list.json",
        lambda c: c.search_visitors(),
        {"visitors": "AAAA"},
    ),
    ("search", f"{CLOUD_URL}/list.json", lambda c: c.search_visitors(), {"visitors": [{}]}),
    (
        "search",
        f"{CLOUD_URL}/list.json",
        lambda c: c.search_visitors(),
        {"visitors": [visitor(last_seen_at="yesterday")]},
    ),
    (
        "visitor",
        f"{CLOUD_URL}/visitors/ABCD1234.json",
        lambda c: c.get_visitor("ABCD1234"),
        {"status": "ok"},
    ),
    (
        "visitor",
        f"{CLOUD_URL}/visitors/ABCD1234.json",
        lambda c: c.get_visitor("ABCD1234"),
        {"visitor": visitor(sessions=[{"length_seconds": 3}])},
    ),
    (
        "visitor",
        f"{CLOUD_URL}/visitors/ABCD1234.json",
        lambda c: c.get_visitor("ABCD1234"),
        {"visitor": visitor(sessions="none")},
    ),
    (
        "watch_url",
        f"{CLOUD_URL}/visitors/ABCD1234/watch_url.json",
        lambda c: c.create_watch_url("ABCD1234", agent_id="1", agent_name="A"),
        {"status": "ok"},
    ),
    (
        "watch_url",
        f"{CLOUD_URL}/visitors/ABCD1234/watch_url.json",
        lambda c: c.create_watch_url("ABCD1234", agent_id="1", agent_name="A"),
        {"watch_url": "javascript:alert(1)"},
    ),
    (
        "watch_url",
        f"{CLOUD_URL}/visitors/ABCD1234/watch_url.json",
        lambda c: c.create_watch_url("ABCD1234", agent_id="1", agent_name="A"),
        {"watch_url": 42},
    ),
    ("purge", f"{CLOUD_URL}/visitors.json", lambda c: c.delete_offline_visitors(), [1]),
    (
        "delete",
        f"{CLOUD_URL}/visitors/ABCD1234.json",
        lambda c: c.delete_visitor("ABCD1234"),
        {"status": "pending"},
    ),
]


@pytest.mark.parametrize(("name", "url", "call", "payload"), WRONG_SHAPES)
def test_wrong_shape_json_is_invalid(rsps, cloud, name, url, call, payload):
    method = {"watch_url": "POST", "purge": "DELETE", "delete": "DELETE"}.get(name, "GET")
    error = _raise(rsps, cloud, method, url, call, status=200, json=payload)
    assert type(error) is UpscopeInvalidResponse
    assert (error.status_code, error.code) == (200, "invalid_response")


def test_status_error_with_200_is_an_api_error(rsps, cloud):
    error = _raise(
        rsps,
        cloud,
        "GET",
        f"{CLOUD_URL}/list.json",
        lambda c: c.search_visitors(),
        status=200,
        json={"status": "error", "error": "search_failed"},
    )
    assert type(error) is UpscopeAPIError
    assert (error.status_code, error.code) == (200, "search_failed")


def test_status_error_without_code_with_200(rsps, cloud):
    error = _raise(
        rsps,
        cloud,
        "GET",
        f"{CLOUD_URL}/usage.json",
        lambda c: c.get_usage(),
        status=200,
        json={"status": "error"},
    )
    assert type(error) is UpscopeAPIError
    assert (error.status_code, error.code) == (200, "api_error")


def test_status_error_with_an_authentication_code_is_an_authentication_error(rsps, cloud):
    error = _raise(
        rsps,
        cloud,
        "GET",
        f"{CLOUD_URL}/usage.json",
        lambda c: c.get_usage(),
        status=200,
        json={"status": "error", "error": "api_not_enabled"},
    )
    assert type(error) is UpscopeAuthenticationError
    assert error.code == "api_not_enabled"


def test_status_error_on_a_deletion_is_an_api_error(rsps, cloud):
    error = _raise(
        rsps,
        cloud,
        "DELETE",
        f"{CLOUD_URL}/visitors/ABCD1234.json",
        lambda c: c.delete_visitor("ABCD1234"),
        status=200,
        json={"status": "error", "error": "busy"},
    )
    assert type(error) is UpscopeAPIError
    assert error.code == "busy"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("error", "text/plain"),
        ("", "text/plain"),
        ("<html>ok</html>", "text/html"),
        ('{"status": "error", "error": "x"}', "application/json"),
        ("not ok", "text/plain"),
    ],
)
def test_stop_session_answering_anything_but_ok_is_invalid(rsps, cloud, body, content_type):
    error = _raise(
        rsps,
        cloud,
        "DELETE",
        f"{CLOUD_URL}/visitors/ABCD1234/session",
        lambda c: c.stop_session("ABCD1234"),
        status=200,
        body=body,
        content_type=content_type,
    )
    assert type(error) is UpscopeInvalidResponse
    assert error.status_code == 200


def test_every_error_class_has_status_code_and_code():
    from django_upscope import exceptions

    classes = [
        obj
        for obj in vars(exceptions).values()
        if isinstance(obj, type) and issubclass(obj, UpscopeError)
    ]
    assert len(classes) == 13
    for cls in classes:
        error = cls("message")
        assert error.status_code is None
        assert isinstance(error.code, str) and error.code
        assert error.code == cls.default_code
        assert repr(error).startswith(f"{cls.__name__}('message', status_code=None")


def test_usage_payload_from_the_seed_still_parses_after_errors(rsps, cloud):
    # A failing answer leaves the client usable: the next call succeeds.
    rsps.get(f"{CLOUD_URL}/usage.json", status=503)
    with pytest.raises(UpscopeUnavailable):
        cloud.get_usage()
    rsps.replace("GET", f"{CLOUD_URL}/usage.json", json=USAGE)
    assert cloud.get_usage().visitors.online_now == 100
