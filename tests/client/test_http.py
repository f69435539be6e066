"""The real UpscopeClient over HTTP against the embedded fake, in cloud and on-premise mode.

Each test asserts both the client's result and what went over the wire, from
the fake's request log. Retries never sleep: the client's ``sleep`` seam records.
"""

from __future__ import annotations

import pytest

from django_upscope.client import USER_AGENT, UpscopeClient
from django_upscope.exceptions import (
    UpscopeAuthenticationError,
    UpscopeConnectionError,
    UpscopeInvalidResponse,
    UpscopeNotSupported,
    UpscopeRateLimited,
    UpscopeSubscriptionLimit,
    UpscopeUnavailable,
    UpscopeVisitorNotFound,
)
from django_upscope.fake import state
from django_upscope.resources import WatchURL

from ..payloads import never_wait

CLOUD = "/__upscope__/v1.1"
ONPREM = "/__upscope__/onprem/api"


@pytest.fixture
def sleeps() -> list[float]:
    """The waits the retries of the ``cloud``/``onprem`` clients asked for."""
    return []


@pytest.fixture
def cloud(upscope_fake, sleeps):
    return upscope_fake.client(
        max_retries=2, retry_backoff=0.01, retry_max_time=30, sleep=sleeps.append
    )


@pytest.fixture
def onprem(upscope_fake_onprem, sleeps):
    return upscope_fake_onprem.client(
        max_retries=2, retry_backoff=0.01, retry_max_time=30, sleep=sleeps.append
    )


@pytest.fixture
def grace(transactional_db):
    return state.create_visitor(
        short_id="GRACE001",
        identities=["Grace Hopper", "grace@navy.example"],
        unique_id="u-42",
        tags=["#vip"],
        is_online=True,
        history={"pageviews": [{"url": "https://shop.example.com/"}], "screenshots": []},
    )


def _only_request():
    (request,) = state.received_requests()
    return request


def _assert_common_headers(request, *, on_premise=False):
    assert request.header("Accept") == "application/json"
    assert request.header("User-Agent") == USER_AGENT
    assert request.header("User-Agent").startswith("django-upscope/")
    if on_premise:
        assert request.header("Authorization") == "[redacted]"
        assert request.header("X-Api-Key") is None
    else:
        assert request.header("X-Api-Key") == "[redacted]"
        assert request.header("Authorization") is None
    assert request.credentials == "valid"


# -- cloud: every operation -------------------------------------------------------------


def test_get_usage(cloud, grace):
    usage = cloud.get_usage()
    assert usage.visitors.online_now == 1
    assert usage.session_counts.now == 0
    request = _only_request()
    assert (request.method, request.path, request.query) == ("GET", f"{CLOUD}/usage.json", {})
    _assert_common_headers(request)


def test_search_visitors_with_a_query(cloud, grace):
    state.create_visitor(short_id="ALAN0001", identities=["Alan Turing"])
    found = cloud.search_visitors("#vip hopper")
    assert [v.short_id for v in found] == ["GRACE001"]
    assert found[0].identities == ["Grace Hopper", "grace@navy.example"]
    assert found[0].tags == ["#vip"]
    request = _only_request()
    assert (request.method, request.path) == ("GET", f"{CLOUD}/list.json")
    assert request.query == {"search": "#vip hopper"}
    _assert_common_headers(request)


def test_search_and_latest_without_a_query_send_no_search(cloud, grace):
    state.create_visitor(short_id="ALAN0001")
    assert {v.short_id for v in cloud.search_visitors()} == {"GRACE001", "ALAN0001"}
    assert {v.short_id for v in cloud.latest_visitors()} == {"GRACE001", "ALAN0001"}
    assert [(r.path, r.query) for r in state.received_requests()] == [
        (f"{CLOUD}/list.json", {}),
        (f"{CLOUD}/list.json", {}),
    ]


def test_get_visitor(cloud, grace):
    visitor = cloud.get_visitor("GRACE001")
    assert visitor.short_id == "GRACE001"
    assert visitor.is_online is True
    assert visitor.history is None
    request = _only_request()
    assert (request.method, request.path, request.query) == (
        "GET",
        f"{CLOUD}/visitors/GRACE001.json",
        {},
    )
    _assert_common_headers(request)


def test_get_visitor_with_history(cloud, grace):
    visitor = cloud.get_visitor("GRACE001", with_history=True)
    assert visitor.history == {
        "pageviews": [{"url": "https://shop.example.com/"}],
        "screenshots": [],
    }
    assert _only_request().query == {"with_history": "true"}


def test_delete_visitor(cloud, grace):
    assert cloud.delete_visitor("GRACE001") is None
    assert not state.FakeVisitor.objects.filter(pk="GRACE001").exists()
    request = _only_request()
    assert (request.method, request.path) == ("DELETE", f"{CLOUD}/visitors/GRACE001.json")
    _assert_common_headers(request)


def test_purge_offline_visitors(cloud, grace, settings):
    settings.UPSCOPE = {**settings.UPSCOPE, "FAKE_PURGE_DELAY": 0}
    state.create_visitor(short_id="GONE0001", is_online=False)
    assert cloud.purge_offline_visitors() is None
    request = _only_request()
    assert (request.method, request.path, request.query) == (
        "DELETE",
        f"{CLOUD}/visitors.json",
        {"all": "true"},
    )
    _assert_common_headers(request)
    assert [v.short_id for v in cloud.search_visitors()] == ["GRACE001"]


def test_create_watch_url_then_stop_session(cloud, grace):
    url = cloud.create_watch_url(
        "GRACE001",
        agent_id="agent-7",
        agent_name="Ada Agent",
        branding={"naked": True, "on_end_url": "https://example.com/ended"},
        permissions={"allow_console": False, "allow_click": True},
        metadata={"ticket": "T-1"},
    )
    assert isinstance(url, WatchURL)
    assert url.startswith(f"{cloud.base_url.removesuffix('/v1.1')}/watch/")
    minted = _only_request()
    assert (minted.method, minted.path) == ("POST", f"{CLOUD}/visitors/GRACE001/watch_url.json")
    assert minted.json == {
        "agent": {"id": "agent-7", "name": "Ada Agent"},
        "branding": {"naked": True, "on_end_url": "https://example.com/ended"},
        "permissions": {"allow_console": False, "allow_click": True},
        "metadata": {"ticket": "T-1"},
    }
    assert minted.header("Content-Type") == "application/json"
    _assert_common_headers(minted)

    visitor = cloud.get_visitor("GRACE001")
    assert visitor.is_in_session is True
    session = visitor.sessions[0]
    assert session.ended_at is None and session.metadata == {"ticket": "T-1"}
    assert [(a.type, a.agent_identifier, a.name) for a in session.agents] == [
        ("external_agent", "agent-7", "Ada Agent")
    ]

    assert cloud.stop_session("GRACE001") is None
    stopped = state.received_requests()[-1]
    assert (stopped.method, stopped.path) == ("DELETE", f"{CLOUD}/visitors/GRACE001/session")
    _assert_common_headers(stopped)
    ended = cloud.get_visitor("GRACE001")
    assert ended.is_in_session is False
    assert ended.sessions[0].ended_at is not None


def test_stop_session_without_a_session_is_fine(cloud, grace):
    assert not state.FakeSession.objects.filter(visitor_id="GRACE001").exists()
    assert cloud.stop_session("GRACE001") is None
    request = _only_request()
    assert (request.method, request.path) == ("DELETE", f"{CLOUD}/visitors/GRACE001/session")
    assert (request.endpoint, request.credentials) == ("stop_session", "valid")
    # Upscope answers a plain "ok" when no session is active (the client checks it).
    assert request.status == 200
    # The fake neither started nor ended anything.
    assert not state.FakeSession.objects.filter(visitor_id="GRACE001").exists()
    assert cloud.get_visitor("GRACE001").is_in_session is False


# -- on-premise: every operation ----------------------------------------------------------


def test_onprem_latest_visitors(onprem, grace):
    state.create_visitor(short_id="OFF00001", is_online=False)
    assert [v.short_id for v in onprem.latest_visitors()] == ["GRACE001"]
    request = _only_request()
    assert (request.method, request.path) == ("GET", f"{ONPREM}/visitors/list/latest")
    _assert_common_headers(request, on_premise=True)


def test_onprem_search_visitors(onprem, grace):
    assert [v.short_id for v in onprem.search_visitors("grace")] == ["GRACE001"]
    assert len(onprem.search_visitors()) == 1
    first, second = state.received_requests()
    assert (first.path, first.query) == (f"{ONPREM}/visitors/list/search", {"q": "grace"})
    assert (second.path, second.query) == (f"{ONPREM}/visitors/list/search", {})
    _assert_common_headers(first, on_premise=True)


def test_onprem_get_visitor(onprem, grace):
    visitor = onprem.get_visitor("GRACE001")
    assert visitor.identities == ["Grace Hopper", "grace@navy.example"]
    request = _only_request()
    assert (request.method, request.path) == ("GET", f"{ONPREM}/visitors/GRACE001")
    _assert_common_headers(request, on_premise=True)


def test_onprem_not_found(onprem, transactional_db):
    with pytest.raises(UpscopeVisitorNotFound) as caught:
        onprem.get_visitor("NOPE")
    assert caught.value.status_code == 404


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get_usage(),
        lambda c: c.delete_visitor("GRACE001"),
        lambda c: c.purge_offline_visitors(),
        lambda c: c.create_watch_url("GRACE001", agent_id="1", agent_name="A"),
        lambda c: c.stop_session("GRACE001"),
        lambda c: c.get_visitor("GRACE001", with_history=True),
    ],
)
def test_onprem_refuses_undocumented_operations_without_a_request(onprem, grace, call):
    with pytest.raises(UpscopeNotSupported):
        call(onprem)
    assert state.received_requests() == []


def test_onprem_wrong_rest_key(upscope_fake_onprem, transactional_db):
    client = UpscopeClient(rest_key="not-the-key", base_endpoint=upscope_fake_onprem.base_endpoint)
    try:
        with pytest.raises(UpscopeAuthenticationError) as caught:
            client.latest_visitors()
    finally:
        client.close()
    assert (caught.value.status_code, caught.value.code) == (401, "invalid_api_key")
    assert _only_request().credentials == "invalid"


# -- typed errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, code",
    [
        ("live_real_looking_key", "invalid_api_key"),
        ("fake_subscription_expired", "subscription_expired"),
        ("fake_api_not_enabled", "api_not_enabled"),
        ("fake_no_subscription", "no_subscription"),
        ("fake_please_contact_team", "please_contact_team"),
    ],
)
def test_401_codes_are_authentication_errors_and_never_retried(upscope_fake, key, code):
    client = UpscopeClient(
        api_key=key, api_url=upscope_fake.api_url, max_retries=3, sleep=never_wait
    )
    try:
        with pytest.raises(UpscopeAuthenticationError) as caught:
            client.get_usage()
    finally:
        client.close()
    assert (caught.value.status_code, caught.value.code) == (401, code)
    assert key not in str(caught.value)
    assert len(state.received_requests()) == 1


def test_402_is_a_subscription_limit(cloud, settings):
    settings.UPSCOPE = {**settings.UPSCOPE, "FAKE_SESSION_LIMIT": 1}
    state.create_visitor(short_id="ONE00001")
    state.create_visitor(short_id="TWO00001")
    cloud.create_watch_url("ONE00001", agent_id="1", agent_name="A")
    with pytest.raises(UpscopeSubscriptionLimit) as caught:
        cloud.create_watch_url("TWO00001", agent_id="1", agent_name="A")
    assert caught.value.status_code == 402
    assert len(state.received_requests("watch_url")) == 2


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get_visitor("NOPE"),
        lambda c: c.delete_visitor("NOPE"),
        lambda c: c.create_watch_url("NOPE", agent_id="1", agent_name="A"),
        lambda c: c.stop_session("NOPE"),
    ],
)
def test_404_is_visitor_not_found(cloud, transactional_db, call):
    with pytest.raises(UpscopeVisitorNotFound) as caught:
        call(cloud)
    assert caught.value.status_code == 404
    assert len(state.received_requests()) == 1


@pytest.mark.parametrize(
    "fault",
    [
        {"body": "<html><body>Maintenance</body></html>"},
        {"body": '{"status": "ok", "visitors": [{"short_id"'},
        {"body": {"status": "ok", "visitors": {"short_id": "X"}}},
        {"body": {"status": "ok", "visitors": [{"short_id": None}]}},
        {"body": ["not", "an", "object"]},
        {"body": {"status": "ok", "visitors": [{"short_id": "X", "last_seen_at": "yesterday"}]}},
    ],
)
def test_invalid_responses_are_typed_and_not_retried(cloud, upscope_fake, fault):
    upscope_fake.fail("list", **fault)
    with pytest.raises(UpscopeInvalidResponse):
        cloud.search_visitors()
    assert len(state.received_requests()) == 1


def test_invalid_watch_url_response(cloud, upscope_fake, grace):
    upscope_fake.fail("watch_url", body={"watch_url": "javascript:alert(1)"})
    with pytest.raises(UpscopeInvalidResponse):
        cloud.create_watch_url("GRACE001", agent_id="1", agent_name="A")


def test_stop_session_answer_other_than_ok(cloud, upscope_fake, grace):
    upscope_fake.fail("stop_session", body="maybe", content_type="text/plain")
    with pytest.raises(UpscopeInvalidResponse):
        cloud.stop_session("GRACE001")


# -- retries --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [502, 503, 504, 429])
def test_get_is_retried_on_transient_statuses_then_succeeds(cloud, sleeps, upscope_fake, status):
    upscope_fake.fail("usage", status=status, times=2)
    cloud.get_usage()
    assert [r.status for r in state.received_requests()] == [status, status, 200]
    assert sleeps == [0.01, 0.02]  # RETRY_BACKOFF doubled


@pytest.mark.parametrize("status", [502, 503, 504])
def test_retries_are_bounded(cloud, upscope_fake, status):
    upscope_fake.fail("list", status=status, times=10)
    with pytest.raises(UpscopeUnavailable) as caught:
        cloud.search_visitors()
    assert caught.value.status_code == status
    assert len(state.received_requests()) == 3  # the first try and MAX_RETRIES=2


def test_429_is_rate_limited_and_retry_after_is_honoured(cloud, sleeps, upscope_fake):
    upscope_fake.fail("usage", status=429, retry_after=3, times=10)
    with pytest.raises(UpscopeRateLimited) as caught:
        cloud.get_usage()
    assert caught.value.retry_after == 3
    assert sleeps == [3.0, 3.0]
    assert len(state.received_requests()) == 3


def test_500_is_not_retried(cloud, upscope_fake):
    upscope_fake.fail("usage", status=500, times=10)
    with pytest.raises(UpscopeUnavailable) as caught:
        cloud.get_usage()
    assert caught.value.status_code == 500
    assert len(state.received_requests()) == 1


def test_delete_is_retried(cloud, upscope_fake, grace):
    upscope_fake.fail("visitor_delete", status=503)
    cloud.delete_visitor("GRACE001")
    assert [r.status for r in state.received_requests()] == [503, 200]
    assert not state.FakeVisitor.objects.filter(pk="GRACE001").exists()


def test_stop_session_is_retried(cloud, upscope_fake, grace):
    upscope_fake.fail("stop_session", status=502)
    cloud.stop_session("GRACE001")
    assert [r.status for r in state.received_requests()] == [502, 200]


@pytest.mark.parametrize("status", [502, 503, 504, 429])
def test_post_watch_url_is_never_retried(cloud, sleeps, upscope_fake, grace, status):
    upscope_fake.fail("watch_url", status=status, times=10)
    with pytest.raises(UpscopeUnavailable):
        cloud.create_watch_url("GRACE001", agent_id="1", agent_name="A")
    assert len(state.received_requests("watch_url")) == 1
    assert sleeps == []


def test_post_watch_url_is_not_retried_after_a_dropped_connection(cloud, upscope_fake, grace):
    upscope_fake.fail("watch_url", drop=True, times=10)
    with pytest.raises(UpscopeConnectionError):
        cloud.create_watch_url("GRACE001", agent_id="1", agent_name="A")
    assert len(state.received_requests("watch_url")) == 1


@pytest.mark.parametrize("drop", [True, "partial"])
def test_dropped_connections_are_retried_for_get(cloud, upscope_fake, grace, drop):
    upscope_fake.fail("visitor_get", drop=drop)
    assert cloud.get_visitor("GRACE001").short_id == "GRACE001"
    assert [r.status for r in state.received_requests()] == [0, 200]


@pytest.mark.parametrize("drop", [True, "partial"])
def test_dropped_connections_become_connection_errors(cloud, upscope_fake, drop):
    upscope_fake.fail("usage", drop=drop, times=10)
    with pytest.raises(UpscopeConnectionError) as caught:
        cloud.get_usage()
    assert caught.value.status_code is None
    assert len(state.received_requests()) == 3


def test_onprem_retries_too(onprem, upscope_fake_onprem, grace):
    upscope_fake_onprem.fail("onprem_search", status=503, times=1)
    assert [v.short_id for v in onprem.search_visitors("grace")] == ["GRACE001"]
    assert [r.status for r in state.received_requests()] == [503, 200]
