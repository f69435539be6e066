"""Retry rules: which requests are repeated, when, how often and for how long.

The client's ``sleep`` seam is a recorder, so the delays it would have waited
are asserted and nothing ever sleeps.
"""

from __future__ import annotations

import pytest
import requests

from django_upscope.exceptions import (
    UpscopeAPIError,
    UpscopeAuthenticationError,
    UpscopeConnectionError,
    UpscopeError,
    UpscopeRateLimited,
    UpscopeTimeout,
    UpscopeUnavailable,
    UpscopeVisitorNotFound,
)

from ..payloads import (
    CLOUD_URL,
    ONPREM_API,
    USAGE,
    WATCH_URL,
    cloud_client,
    onprem_client,
    visitor_detail,
    visitor_list,
)

USAGE_URL = f"{CLOUD_URL}/usage.json"
VISITOR_URL = f"{CLOUD_URL}/visitors/ABCD1234.json"
SESSION_URL = f"{CLOUD_URL}/visitors/ABCD1234/session"
WATCH_URL_ENDPOINT = f"{CLOUD_URL}/visitors/ABCD1234/watch_url.json"
PURGE_URL = f"{CLOUD_URL}/visitors.json"
#: What Upscope answers for a visitor it does not have (docs/upscope-api.md, "Errors").
UPSCOPE_NOT_FOUND = {"status": "error", "error": "not_found"}

TRANSIENT = [
    ("connection error", {"body": requests.ConnectionError("refused")}, UpscopeConnectionError),
    ("read timeout", {"body": requests.ReadTimeout("slow")}, UpscopeTimeout),
    ("connect timeout", {"body": requests.ConnectTimeout("slow")}, UpscopeTimeout),
    ("429", {"status": 429}, UpscopeRateLimited),
    ("502", {"status": 502}, UpscopeUnavailable),
    ("503", {"status": 503}, UpscopeUnavailable),
    ("504", {"status": 504}, UpscopeUnavailable),
]
TRANSIENT_IDS = [t[0] for t in TRANSIENT]


def make(**kwargs):
    """A cloud client whose retry waits are recorded in the list returned beside it."""
    delays: list[float] = []
    return cloud_client(sleep=delays.append, **kwargs), delays


def urls(rsps):
    return [(c.request.method, c.request.url) for c in rsps.calls]


@pytest.mark.parametrize(("label", "failure", "error_class"), TRANSIENT, ids=TRANSIENT_IDS)
def test_get_is_retried_on_transient_failures_then_succeeds(rsps, label, failure, error_class):
    client, delays = make(max_retries=2, retry_backoff=0.5)
    rsps.get(USAGE_URL, **failure)
    rsps.get(USAGE_URL, **failure)
    rsps.get(USAGE_URL, json=USAGE)
    assert client.get_usage().visitors.online_now == 100
    assert urls(rsps) == [("GET", USAGE_URL)] * 3
    # Exponential backoff from RETRY_BACKOFF.
    assert delays == [0.5, 1.0]


@pytest.mark.parametrize(("label", "failure", "error_class"), TRANSIENT, ids=TRANSIENT_IDS)
def test_retries_are_bounded_by_max_retries(rsps, label, failure, error_class):
    client, delays = make(max_retries=3, retry_backoff=0.25)
    rsps.get(USAGE_URL, **failure)
    with pytest.raises(error_class):
        client.get_usage()
    assert len(rsps.calls) == 4
    assert delays == [0.25, 0.5, 1.0]


def test_no_retry_when_max_retries_is_zero(rsps):
    client, delays = make(max_retries=0)
    rsps.get(USAGE_URL, status=503)
    with pytest.raises(UpscopeUnavailable):
        client.get_usage()
    assert len(rsps.calls) == 1
    assert delays == []


def test_retries_are_bounded_by_retry_max_time(rsps):
    # 0.5 + 1.0 + 2.0 = 3.5 s of backoff would pass the 2 s budget at the third wait.
    client, delays = make(max_retries=10, retry_backoff=0.5, retry_max_time=2.0)
    rsps.get(USAGE_URL, status=503)
    with pytest.raises(UpscopeUnavailable):
        client.get_usage()
    assert delays == [0.5, 1.0]
    assert len(rsps.calls) == 3


def test_429_retry_after_is_honoured(rsps):
    client, delays = make(max_retries=2, retry_backoff=0.5)
    rsps.get(USAGE_URL, status=429, headers={"Retry-After": "7"})
    rsps.get(USAGE_URL, json=USAGE)
    client.get_usage()
    assert delays == [7.0]
    assert len(rsps.calls) == 2


def test_retry_after_shorter_than_backoff_keeps_the_backoff(rsps):
    client, delays = make(max_retries=2, retry_backoff=2.0)
    rsps.get(USAGE_URL, status=503, headers={"Retry-After": "1"})
    rsps.get(USAGE_URL, json=USAGE)
    client.get_usage()
    assert delays == [2.0]


def test_retry_after_beyond_retry_max_time_gives_up_at_once(rsps):
    client, delays = make(max_retries=5, retry_backoff=0.5, retry_max_time=30.0)
    rsps.get(USAGE_URL, status=429, headers={"Retry-After": "120"})
    with pytest.raises(UpscopeRateLimited) as info:
        client.get_usage()
    assert delays == []
    assert len(rsps.calls) == 1
    # The caller learns how long Upscope asked to wait.
    assert info.value.retry_after == 120.0


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (500, UpscopeUnavailable),
        (400, UpscopeAPIError),
        (401, UpscopeAuthenticationError),
        (403, UpscopeAPIError),
        (404, UpscopeAPIError),
    ],
)
def test_no_retry_on_500_or_4xx(rsps, status, error_class):
    client, delays = make(max_retries=3)
    rsps.get(USAGE_URL, status=status)
    with pytest.raises(error_class):
        client.get_usage()
    assert len(rsps.calls) == 1
    assert delays == []


def test_invalid_response_is_not_retried(rsps):
    client, delays = make(max_retries=3)
    rsps.get(USAGE_URL, body="<html>", content_type="text/html")
    with pytest.raises(UpscopeError):
        client.get_usage()
    assert len(rsps.calls) == 1
    assert delays == []


@pytest.mark.parametrize(("label", "failure", "error_class"), TRANSIENT, ids=TRANSIENT_IDS)
def test_post_is_never_retried(rsps, label, failure, error_class):
    client, delays = make(max_retries=5)
    rsps.post(WATCH_URL_ENDPOINT, **failure)
    rsps.post(WATCH_URL_ENDPOINT, json={"watch_url": WATCH_URL})
    with pytest.raises(error_class):
        client.create_watch_url("ABCD1234", agent_id="1", agent_name="A")
    assert urls(rsps) == [("POST", WATCH_URL_ENDPOINT)]
    assert delays == []


@pytest.mark.parametrize(("label", "failure", "error_class"), TRANSIENT, ids=TRANSIENT_IDS)
def test_delete_visitor_is_retried(rsps, label, failure, error_class):
    client, delays = make(max_retries=2)
    rsps.delete(VISITOR_URL, **failure)
    rsps.delete(VISITOR_URL, json={"status": "ok"})
    assert client.delete_visitor("ABCD1234") is None
    assert urls(rsps) == [("DELETE", VISITOR_URL)] * 2
    assert delays == [0.5]


def test_a_404_answering_a_retried_delete_counts_as_done(rsps):
    client, _ = make(max_retries=2)
    rsps.delete(VISITOR_URL, body=requests.ConnectionError("answer lost"))
    rsps.delete(VISITOR_URL, status=404, json=UPSCOPE_NOT_FOUND)
    assert client.delete_visitor("ABCD1234") is None
    assert len(rsps.calls) == 2


def test_a_404_answering_the_first_delete_is_visitor_not_found(rsps):
    client, _ = make(max_retries=2)
    rsps.delete(VISITOR_URL, status=404, json=UPSCOPE_NOT_FOUND)
    with pytest.raises(UpscopeVisitorNotFound):
        client.delete_visitor("ABCD1234")
    assert len(rsps.calls) == 1


def test_stop_session_is_retried(rsps):
    client, delays = make(max_retries=2)
    rsps.delete(SESSION_URL, status=502)
    rsps.delete(SESSION_URL, body="ok", content_type="text/plain")
    assert client.stop_session("ABCD1234") is None
    assert urls(rsps) == [("DELETE", SESSION_URL)] * 2
    assert delays == [0.5]


def test_a_404_answering_a_retried_stop_session_is_still_visitor_not_found(rsps):
    # Stopping a session does not delete the visitor: a 404 on retry means there is none.
    client, _ = make(max_retries=2)
    rsps.delete(SESSION_URL, status=503)
    rsps.delete(SESSION_URL, status=404, json=UPSCOPE_NOT_FOUND)
    with pytest.raises(UpscopeVisitorNotFound):
        client.stop_session("ABCD1234")


def test_purge_is_retried_but_a_404_on_retry_is_an_error(rsps):
    client, _ = make(max_retries=2)
    rsps.delete(PURGE_URL, status=503)
    rsps.delete(PURGE_URL, status=404)
    with pytest.raises(UpscopeAPIError) as info:
        client.purge_offline_visitors()
    assert info.value.status_code == 404
    assert [c.request.url for c in rsps.calls] == [f"{PURGE_URL}?all=true"] * 2


def test_purge_retried_then_ok(rsps):
    client, delays = make(max_retries=2)
    rsps.delete(PURGE_URL, body=requests.ConnectionError("reset"))
    rsps.delete(PURGE_URL, json={"status": "ok"})
    client.purge_offline_visitors()
    assert len(rsps.calls) == 2
    assert delays == [0.5]


@pytest.mark.parametrize(
    ("url", "call", "payload"),
    [
        (f"{CLOUD_URL}/list.json", lambda c: c.search_visitors("x"), visitor_list("AAAA1")),
        (VISITOR_URL, lambda c: c.get_visitor("ABCD1234"), visitor_detail()),
    ],
)
def test_every_get_is_retried(rsps, url, call, payload):
    client, delays = make(max_retries=1)
    rsps.get(url, status=504)
    rsps.get(url, json=payload)
    call(client)
    assert len(rsps.calls) == 2
    assert delays == [0.5]


def test_onprem_gets_are_retried(rsps):
    delays: list[float] = []
    client = onprem_client(max_retries=1, sleep=delays.append)
    rsps.get(f"{ONPREM_API}/visitors/list/latest", status=503)
    rsps.get(f"{ONPREM_API}/visitors/list/latest", json=visitor_list("1234"))
    assert [v.short_id for v in client.latest_visitors()] == ["1234"]
    assert delays == [0.5]


def test_each_retry_sends_the_same_request(rsps):
    client, _ = make(max_retries=1)
    rsps.get(f"{CLOUD_URL}/list.json", status=503)
    rsps.get(f"{CLOUD_URL}/list.json", json=visitor_list())
    client.search_visitors("joe")
    first, second = (c.request for c in rsps.calls)
    assert first.url == second.url == f"{CLOUD_URL}/list.json?search=joe"
    assert first.headers["X-Api-Key"] == second.headers["X-Api-Key"]


def test_failed_attempts_are_logged_without_detail(rsps, caplog):
    client, _ = make(max_retries=1)
    rsps.get(USAGE_URL, status=503)
    rsps.get(USAGE_URL, json=USAGE)
    with caplog.at_level("DEBUG", logger="django_upscope"):
        client.get_usage()
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == ["Upscope GET /usage.json failed (attempt 1): http_503"]
