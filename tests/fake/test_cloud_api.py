"""The fake's cloud API v1.1: every endpoint, each error, state across calls.

As documented in docs/upscope-api.md, "Cloud endpoints (v1.1)".
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from django_upscope.fake import state
from django_upscope.fake.models import FakeSession, FakeVisitor, FakeWatchToken

VISITOR_KEYS = {
    "api_key", "browser_name", "device_name", "device_type", "first_seen_at", "identities",
    "integration", "ip_address", "is_in_session", "is_online", "js_configuration",
    "last_seen_at", "last_url", "location_city", "location_country", "location_country_name",
    "lookup_code", "short_id", "tags", "unique_id", "sessions", "_type",
}  # fmt: skip
UTC_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")


# -- authentication -------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, code",
    [
        (None, "invalid_api_key"),
        ("", "invalid_api_key"),
        ("sk_live_0123456789abcdef", "invalid_api_key"),
        ("FAKE_uppercase_is_not_fake", "invalid_api_key"),
        ("fake_subscription_expired", "subscription_expired"),
        ("fake_api_not_enabled", "api_not_enabled"),
        ("fake_no_subscription", "no_subscription"),
        ("fake_please_contact_team", "please_contact_team"),
    ],
)
def test_refused_keys_answer_401_with_the_code(api, key, code):
    response = api.get("/usage.json", key=key)
    assert response.status_code == 401
    assert response.json() == {"status": "error", "error": code}


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/list.json"),
        ("GET", "/visitors/VIS00001.json"),
        ("DELETE", "/visitors/VIS00001.json"),
        ("DELETE", "/visitors.json?all=true"),
        ("POST", "/visitors/VIS00001/watch_url.json"),
        ("DELETE", "/visitors/VIS00001/session"),
    ],
)
def test_every_cloud_endpoint_checks_the_key_before_changing_anything(api, visitor, method, path):
    response = api.call(method, path, key="real_looking_key", body={})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_api_key"
    visitor.refresh_from_db()
    assert not visitor.is_in_session
    assert FakeVisitor.objects.filter(pk="VIS00001").exists()


def test_the_request_log_judges_the_key_but_never_stores_it(api):
    api.get("/usage.json", key="fake_secret_value_123")
    api.get("/usage.json", key="not_fake_secret_456")
    first, second = state.received_requests()
    assert first.credentials == "valid"
    assert second.credentials == "invalid"
    assert first.header("x-api-key") == "[redacted]"
    from django_upscope.fake.models import FakeRequest

    stored = repr(list(FakeRequest.objects.values()))
    assert "fake_secret_value_123" not in stored
    assert "not_fake_secret_456" not in stored


# -- usage ----------------------------------------------------------------------------


def test_usage_counts_visitors_sessions_and_agents(api, visitor, clock):
    state.create_visitor(short_id="OFFLINE1", is_online=False)
    state.create_visitor(
        short_id="OLD00001",
        is_online=False,
        last_seen_at=state.now() - dt.timedelta(days=40),
        first_seen_at=state.now() - dt.timedelta(days=50),
    )
    state.add_session("OFFLINE1", agent_identifier="a-1", length_seconds=120)
    state.add_session("OFFLINE1", agent_identifier="a-2", length_seconds=30)
    assert api.watch("VIS00001").status_code == 200

    response = api.get("/usage.json")
    assert response.status_code == 200
    body = response.json()
    assert "status" not in body  # Upscope's example has none
    usage = body["usage"]
    assert usage["visitors"] == {"online_now": 1, "last_24_hrs": 2, "last_30_days": 2}
    assert usage["agents"] == {"today": 3, "last_30_days": 3}
    assert usage["session_counts"] == {"now": 1, "today": 3, "last_30_days": 3}
    # Two ended sessions (120 s + 30 s) and the active one, 0 s old on a frozen clock.
    assert usage["session_seconds"] == {"today": 150, "last_30_days": 150}


# -- list and visitor -------------------------------------------------------------------


def test_list_without_search_returns_latest_visitors_first(api):
    now = state.now()
    for index in range(3):
        state.create_visitor(
            short_id=f"V{index}",
            last_seen_at=now - dt.timedelta(minutes=index),
            first_seen_at=now - dt.timedelta(days=1),
        )
    body = api.get("/list.json").json()
    assert body["status"] == "ok"
    assert [v["short_id"] for v in body["visitors"]] == ["V0", "V1", "V2"]


def test_list_is_capped_like_the_real_one(api):
    state.seed(visitors=130, seed=5)
    assert len(api.get("/list.json").json()["visitors"]) == 100


def test_visitor_has_the_documented_shape(api, visitor):
    state.add_session("VIS00001", agent_identifier="ext-123", agent_name="Joe Smith")
    response = api.get("/visitors/VIS00001.json")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    payload = body["visitor"]
    assert set(payload) == VISITOR_KEYS
    assert payload["_type"] == "visitor"
    assert payload["identities"] == ["Grace Hopper", "grace@navy.example"]
    assert UTC_Z.match(payload["last_seen_at"]) and UTC_Z.match(payload["first_seen_at"])
    (session,) = payload["sessions"]
    assert session["_type"] == "session"
    assert session["visitor_id"] == "VIS00001"
    assert session["team"]["_type"] == "team"
    assert WITH_OFFSET.match(session["started_at"]) and session["started_at"].endswith("+01:00")
    assert session["length_seconds"] == 60 and session["formatted_length"] == "1 minute"
    (agent,) = session["agents"]
    assert agent["_type"] == "external_agent"
    assert agent["agent_identifier"] == "ext-123"
    assert agent["name"] == "Joe Smith"
    assert isinstance(agent["id"], int)


def test_history_only_with_history(api, visitor):
    history = {"pageviews": [{"url": "https://shop.example.com/"}], "screenshots": []}
    state.update_visitor("VIS00001", history=history)
    assert "history" not in api.get("/visitors/VIS00001.json").json()["visitor"]
    with_history = api.get("/visitors/VIS00001.json", with_history="true").json()
    assert with_history["visitor"]["history"] == history


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/visitors/NOPE.json"),
        ("DELETE", "/visitors/NOPE.json"),
        ("POST", "/visitors/NOPE/watch_url.json"),
        ("DELETE", "/visitors/NOPE/session"),
    ],
)
def test_unknown_visitor_is_404_on_every_visitor_route(api, method, path):
    response = api.call(method, path, body={"agent": {"id": "1", "name": "A"}})
    assert response.status_code == 404
    assert response.json() == {"status": "error", "error": "not_found"}


def test_wrong_method_is_405_and_unknown_api_path_is_404(api):
    response = api.post("/usage.json", body={})
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert api.get("/visitors/list/latest").status_code == 404
    assert api.get("/nothing-here.json").json() == {"status": "error", "error": "not_found"}


# -- delete and purge -------------------------------------------------------------------


def test_delete_removes_the_visitor_for_the_next_call(api, visitor):
    response = api.delete("/visitors/VIS00001.json")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert api.get("/visitors/VIS00001.json").status_code == 404
    assert api.delete("/visitors/VIS00001.json").status_code == 404


def test_purge_removes_only_offline_visitors_after_the_delay(api, settings, monkeypatch):
    settings.UPSCOPE = {**settings.UPSCOPE, "FAKE_PURGE_DELAY": 60}
    state.create_visitor(short_id="ONLINE01", is_online=True)
    state.create_visitor(short_id="OFFLINE1", is_online=False)
    state.create_visitor(short_id="OFFLINE2", is_online=False)

    response = api.delete("/visitors.json", all="true")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    # Asynchronous, as documented: nothing is gone yet.
    listed = {v["short_id"] for v in api.get("/list.json").json()["visitors"]}
    assert listed == {"ONLINE01", "OFFLINE1", "OFFLINE2"}

    later = state.now() + dt.timedelta(seconds=61)
    monkeypatch.setattr(state, "now", lambda: later)
    listed = {v["short_id"] for v in api.get("/list.json").json()["visitors"]}
    assert listed == {"ONLINE01"}


def test_purge_with_no_delay_applies_on_the_next_request(api, settings):
    settings.UPSCOPE = {**settings.UPSCOPE, "FAKE_PURGE_DELAY": 0}
    state.create_visitor(short_id="OFFLINE1", is_online=False)
    api.delete("/visitors.json", all="true")
    assert api.get("/visitors/OFFLINE1.json").status_code == 404


def test_purge_needs_all_true(api):
    state.create_visitor(short_id="OFFLINE1", is_online=False)
    response = api.delete("/visitors.json")
    assert response.status_code == 400
    assert response.json()["status"] == "error"
    assert not state.received_requests()[-1].query


# -- watch URL and sessions ---------------------------------------------------------------


def test_watch_url_starts_a_session_with_the_external_agent_and_metadata(api, visitor):
    response = api.watch(
        "VIS00001",
        branding={"naked": True, "on_end_url": "https://example.com/ended"},
        permissions={"allow_click": False},
        metadata={"ticket": "T-1", "priority": 2},
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"watch_url"}
    url = body["watch_url"]
    assert re.fullmatch(r"http://testserver/__upscope__/watch/[A-Za-z0-9_-]{40,}", url)

    payload = api.get("/visitors/VIS00001.json").json()["visitor"]
    assert payload["is_in_session"] is True
    session = payload["sessions"][0]
    assert session["ended_at"] is None
    assert session["went_live"] is True
    assert session["metadata"] == {"ticket": "T-1", "priority": 2}
    assert [(a["_type"], a["agent_identifier"], a["name"]) for a in session["agents"]] == [
        ("external_agent", "agent-7", "Ada Agent")
    ]
    token = url.rsplit("/", 1)[1]
    stored = FakeWatchToken.objects.get()
    assert stored.token_hash != token and token not in repr(FakeWatchToken.objects.values())
    assert stored.permissions["allow_click"] is False
    assert stored.permissions["allow_draw"] is True
    assert stored.permissions["allow_console"] is False


def test_watch_url_for_an_offline_visitor_waits(api):
    state.create_visitor(short_id="OFFLINE1", is_online=False)
    assert api.watch("OFFLINE1").status_code == 200
    session = FakeSession.objects.get()
    assert session.went_live is False
    state.set_online("OFFLINE1")
    session.refresh_from_db()
    assert session.went_live is True


def test_second_agent_joins_the_active_session(api, visitor):
    api.watch("VIS00001")
    second = {"agent": {"id": 99, "name": "Bo Agent"}}
    assert api.post("/visitors/VIS00001/watch_url.json", body=second).status_code == 200
    session = api.get("/visitors/VIS00001.json").json()["visitor"]["sessions"][0]
    assert sorted(a["agent_identifier"] for a in session["agents"]) == ["99", "agent-7"]
    assert FakeSession.objects.count() == 1


def test_stop_session_ends_it_and_answers_plain_ok(api, visitor):
    api.watch("VIS00001")
    response = api.delete("/visitors/VIS00001/session")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")
    payload = api.get("/visitors/VIS00001.json").json()["visitor"]
    assert payload["is_in_session"] is False
    session = payload["sessions"][0]
    assert WITH_OFFSET.match(session["ended_at"])


def test_a_stopped_session_keeps_its_real_length_and_usage_counts_it(api, visitor, clock):
    assert api.watch("VIS00001").status_code == 200
    clock.advance(60)
    # While active, the session has lasted as long as the clock says.
    assert api.get("/usage.json").json()["usage"]["session_seconds"]["today"] == 60

    clock.advance(65)
    assert api.delete("/visitors/VIS00001/session").status_code == 200
    clock.advance(600)  # after the end, the length no longer grows

    (session,) = api.get("/visitors/VIS00001.json").json()["visitor"]["sessions"]
    assert (session["length_seconds"], session["formatted_length"]) == (125, "2 minutes")
    assert FakeSession.objects.get().length_seconds == 125
    seconds = api.get("/usage.json").json()["usage"]["session_seconds"]
    assert seconds == {"today": 125, "last_30_days": 125}


def test_stop_session_answers_ok_with_no_session(api, visitor):
    response = api.delete("/visitors/VIS00001/session")
    assert (response.status_code, response.content) == (200, b"ok")
    assert not FakeSession.objects.exists()


def test_session_limit_answers_402(api, settings):
    settings.UPSCOPE = {**settings.UPSCOPE, "FAKE_SESSION_LIMIT": 2}
    for short_id in ("A1", "A2", "A3"):
        state.create_visitor(short_id=short_id)
    assert api.watch("A1").status_code == 200
    assert api.watch("A2").status_code == 200
    refused = api.watch("A3")
    assert refused.status_code == 402
    assert refused.json() == {"status": "error", "error": "subscription_limit"}
    assert not FakeVisitor.objects.get(pk="A3").is_in_session
    # Ending a session frees a slot.
    api.delete("/visitors/A1/session")
    assert api.watch("A3").status_code == 200


@pytest.mark.parametrize(
    "body, code",
    [
        ("not json", "invalid_json"),
        ([], "invalid_json"),
        ({}, "agent_required"),
        ({"agent": {"name": "A"}}, "agent_id_required"),
        ({"agent": {"id": "1"}}, "agent_name_required"),
        ({"agent": {"id": "1", "name": "A"}, "permissions": {"allow_fly": True}},
         "invalid_permissions"),
        ({"agent": {"id": "1", "name": "A"}, "permissions": {"allow_click": "yes"}},
         "invalid_permissions"),
        ({"agent": {"id": "1", "name": "A"}, "branding": {"on_end_url": "javascript:alert(1)"}},
         "invalid_branding"),
        ({"agent": {"id": "1", "name": "A"}, "metadata": {"nested": {"a": 1}}},
         "invalid_metadata"),
    ],
)  # fmt: skip
def test_watch_url_refuses_bad_bodies(api, visitor, body, code):
    response = api.post("/visitors/VIS00001/watch_url.json", body=body)
    assert response.status_code == 400
    assert response.json() == {"status": "error", "error": code}
    assert not FakeSession.objects.exists()


def test_request_log_records_method_path_query_and_json_body(api, visitor):
    api.get("/list.json", search="#vip online")
    api.watch("VIS00001", metadata={"ticket": "T-9"})
    listed, minted = state.received_requests()
    assert (listed.method, listed.path, listed.endpoint) == (
        "GET",
        "/__upscope__/v1.1/list.json",
        "list",
    )
    assert listed.query == {"search": "#vip online"}
    assert listed.status == 200
    assert minted.endpoint == "watch_url"
    assert minted.json == {
        "agent": {"id": "agent-7", "name": "Ada Agent"},
        "metadata": {"ticket": "T-9"},
    }
    assert minted.header("Content-Type") == "application/json"
    assert [r.endpoint for r in state.received_requests("list")] == ["list"]
