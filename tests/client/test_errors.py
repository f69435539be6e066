"""Every answer Upscope can give that is not a success, mapped to its UpscopeError subclass."""

from __future__ import annotations

import datetime as dt
import email.utils

import pytest
import requests

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

from ..payloads import (
    CLOUD_URL,
    ONPREM_API,
    USAGE,
    cloud_client,
    onprem_client,
    visitor,
)


@pytest.fixture
def cloud():
    return cloud_client(max_retries=0)


@pytest.fixture
def onprem():
    return onprem_client(max_retries=0)


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
    ("purge", "DELETE", f"{CLOUD_URL}/visitors.json", lambda c: c.purge_offline_visitors()),
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


# -- one request, one answer, one error: the table -------------------------------------

USAGE_CALL = ("GET", f"{CLOUD_URL}/usage.json", lambda c: c.get_usage())
WATCH_CALL = (
    "POST",
    f"{CLOUD_URL}/visitors/ABCD1234/watch_url.json",
    lambda c: c.create_watch_url("ABCD1234", agent_id="1", agent_name="A"),
)
ONPREM_LATEST = ("GET", f"{ONPREM_API}/visitors/list/latest", lambda c: c.latest_visitors())
ONPREM_VISITOR = ("GET", f"{ONPREM_API}/visitors/1234", lambda c: c.get_visitor("1234"))
LIST_CALL = ("GET", f"{CLOUD_URL}/list.json", lambda c: c.search_visitors())
DELETE_CALL = (
    "DELETE",
    f"{CLOUD_URL}/visitors/ABCD1234.json",
    lambda c: c.delete_visitor("ABCD1234"),
)


def _error(code: str | None = None) -> dict:
    return {"json": {"status": "error", **({"error": code} if code else {})}}


# (id, mode, request, answer, error class, status_code, code, text in the message or None)
CASES = [
    ("onprem 401", "onprem", ONPREM_LATEST, {"status": 401, "body": "Unauthorized"},
     UpscopeAuthenticationError, 401, "invalid_api_key", "UPSCOPE['REST_KEY']"),
    ("402 watch_url", "cloud", WATCH_CALL, {"status": 402, "body": "Payment Required"},
     UpscopeSubscriptionLimit, 402, "subscription_limit", "this screen share"),
    ("402 keeps code", "cloud", WATCH_CALL, {"status": 402, **_error("too_many_sessions")},
     UpscopeSubscriptionLimit, 402, "too_many_sessions", None),
    ("onprem 404 visitor", "onprem", ONPREM_VISITOR, {"status": 404, **_error("not_found")},
     UpscopeVisitorNotFound, 404, "visitor_not_found", "'1234'"),
    ("onprem 404 list", "onprem", ONPREM_LATEST, {"status": 404},
     UpscopeAPIError, 404, "http_404", "check UPSCOPE['BASE_ENDPOINT']"),
    *[
        (f"{status}", "cloud", USAGE_CALL, {"status": status, "body": "nope"},
         UpscopeAPIError, status, f"http_{status}", f"answered {status} to GET /usage.json.")
        for status in (400, 403, 405, 409, 422)
    ],
    ("code not a token", "cloud", USAGE_CALL, {"status": 400, **_error("<script>x</script>")},
     UpscopeAPIError, 400, "http_400", None),
    ("429 seconds", "cloud", USAGE_CALL, {"status": 429, "headers": {"Retry-After": "12"}},
     UpscopeRateLimited, 429, "rate_limited", "rate limiting requests (GET /usage.json)"),
    ("200 status error", "cloud", LIST_CALL, {"status": 200, **_error("search_failed")},
     UpscopeAPIError, 200, "search_failed", "(search_failed) for GET /list.json"),
    ("200 status error no code", "cloud", USAGE_CALL, {"status": 200, **_error()},
     UpscopeAPIError, 200, "api_error", None),
    ("200 status error auth", "cloud", USAGE_CALL, {"status": 200, **_error("api_not_enabled")},
     UpscopeAuthenticationError, 200, "api_not_enabled", "UPSCOPE['API_KEY']"),
    ("200 status error delete", "cloud", DELETE_CALL, {"status": 200, **_error("busy")},
     UpscopeAPIError, 200, "busy", None),
    ("html watch_url", "cloud", WATCH_CALL, {"body": "<html>x</html>", "content_type": "text/html"},
     UpscopeInvalidResponse, 200, "invalid_response", "not JSON (14 bytes)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("mode", "call", "answer", "error_class", "status_code", "code", "text"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_answer_maps_to_one_error(
    rsps, cloud, onprem, mode, call, answer, error_class, status_code, code, text
):
    method, url, operation = call
    error = _raise(rsps, onprem if mode == "onprem" else cloud, method, url, operation, **answer)
    assert type(error) is error_class
    assert (error.status_code, error.code) == (status_code, code)
    if text is not None:
        assert text in str(error)
    assert "<script>" not in str(error)
    assert len(rsps.calls) == 1


@pytest.mark.parametrize(
    ("name", "method", "url", "call"), VISITOR_OPERATIONS, ids=[o[0] for o in VISITOR_OPERATIONS]
)
def test_404_on_a_visitor_is_visitor_not_found(rsps, cloud, name, method, url, call):
    # Upscope's own error shape: only that says the visitor is not found.
    error = _raise(rsps, cloud, method, url, call, status=404, **_error("not_found"))
    assert type(error) is UpscopeVisitorNotFound
    assert (error.status_code, error.code) == (404, "visitor_not_found")
    assert "'ABCD1234'" in str(error)


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


def test_429_with_retry_after_http_date(rsps):
    now = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    cloud = cloud_client(max_retries=0, wall_clock=now.timestamp)
    later = email.utils.format_datetime(now + dt.timedelta(seconds=90), usegmt=True)
    error = _raise(rsps, cloud, *USAGE_CALL, status=429, headers={"Retry-After": later})
    assert type(error) is UpscopeRateLimited
    assert error.retry_after == 90.0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("", None), ("soon", None), ("-5", 0.0), ("Wed, 01 Jan 2000 00:00:00 GMT", 0.0)],
)
def test_429_with_unusable_or_past_retry_after(rsps, cloud, value, seconds):
    error = _raise(rsps, cloud, *USAGE_CALL, status=429, headers={"Retry-After": value})
    assert type(error) is UpscopeRateLimited
    assert error.retry_after == seconds


def test_429_without_retry_after(rsps, cloud):
    error = _raise(rsps, cloud, *USAGE_CALL, status=429)
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
    # The host it tried (a wrong port shows), not the path of the API.
    assert "at https://api.upscope.test:443 for GET /usage.json" in str(info.value)
    cause = info.value.__cause__
    assert isinstance(cause, requests.ConnectionError)
    assert str(cause) == "refused"
    # Its frames (requests, urllib3) hold the request headers as locals: dropped.
    assert cause.__traceback__ is None

    rsps.replace("GET", f"{CLOUD_URL}/usage.json", body=requests.ReadTimeout("slow"))
    with pytest.raises(UpscopeTimeout) as info:
        cloud.get_usage()
    assert (info.value.status_code, info.value.code) == (None, "timeout")
    assert "at https://api.upscope.test:443 did not answer GET /usage.json within 7.5 s" in str(
        info.value
    )
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
    # The size, never what Upscope's headers say about the body.
    assert f"is not JSON ({len(body.encode())} bytes)" in str(error)
    assert content_type not in str(error)


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
    ("purge", f"{CLOUD_URL}/visitors.json", lambda c: c.purge_offline_visitors(), [1]),
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


def test_the_host_in_errors_has_its_port_and_no_credentials(rsps):
    client = cloud_client(api_url="http://user:pw@127.0.0.1:8123/v1.1", max_retries=0)
    rsps.get("http://user:pw@127.0.0.1:8123/v1.1/usage.json", body=requests.ConnectionError("x"))
    with pytest.raises(UpscopeConnectionError) as info:
        client.get_usage()
    assert "at http://127.0.0.1:8123 for GET /usage.json" in str(info.value)
    assert "pw" not in str(info.value) and "/v1.1" not in str(info.value)


def test_a_parser_error_is_a_new_error_naming_the_request(rsps, cloud):
    error = _raise(rsps, cloud, *USAGE_CALL, status=200, json=[1, 2])
    assert type(error) is UpscopeInvalidResponse
    assert str(error).startswith(
        "Upscope's answer to GET /usage.json is not the documented shape: "
    )
    assert error.args == (error.message,)
    # Raised anew (from None), not the parser's error patched in place.
    assert error.__cause__ is None and error.__suppress_context__


def test_usage_payload_still_parses_after_errors(rsps, cloud):
    # A failing answer leaves the client usable: the next call succeeds.
    rsps.get(f"{CLOUD_URL}/usage.json", status=503)
    with pytest.raises(UpscopeUnavailable):
        cloud.get_usage()
    rsps.replace("GET", f"{CLOUD_URL}/usage.json", json=USAGE)
    assert cloud.get_usage().visitors.online_now == 100
