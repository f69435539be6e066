"""The fake's on-premise API and the documented search syntax.

As documented in docs/upscope-api.md, "On-premise endpoints" and "Search syntax".
"""

from __future__ import annotations

import datetime as dt

import pytest

from django_upscope.fake import state
from django_upscope.fake.search import tokens

# -- on-premise -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization, key",
    [
        (None, None),
        ("wrong", None),
        ("Bearer fake_rest_key", None),
        (None, "fake_test_key"),  # a cloud key is not the REST key
    ],
)
def test_onprem_needs_the_rest_key_in_authorization(api, visitor, authorization, key):
    for path in ("/visitors/list/latest", "/visitors/list/search", "/visitors/VIS00001"):
        response = api.onprem(path, authorization=authorization, key=key)
        assert response.status_code == 401
        assert response.json() == {"status": "error", "error": "invalid_api_key"}


def test_onprem_rest_key_comes_from_settings_and_must_look_fake(api, visitor, settings):
    settings.UPSCOPE = {**settings.UPSCOPE, "FAKE_REST_KEY": "fake_other"}
    assert api.onprem("/visitors/VIS00001", authorization="fake_other").status_code == 200
    assert api.onprem("/visitors/VIS00001").status_code == 401
    settings.UPSCOPE = {**settings.UPSCOPE, "FAKE_REST_KEY": "real-looking-key"}
    response = api.onprem("/visitors/VIS00001", authorization="real-looking-key")
    assert response.status_code == 401


def test_onprem_latest_lists_online_visitors_latest_first(api):
    now = state.now()
    state.create_visitor(short_id="ON1", is_online=True, last_seen_at=now)
    state.create_visitor(short_id="ON2", is_online=True, last_seen_at=now - dt.timedelta(seconds=5))
    state.create_visitor(short_id="OFF", is_online=False, last_seen_at=now)
    body = api.onprem("/visitors/list/latest").json()
    assert body["status"] == "ok"
    assert [v["short_id"] for v in body["visitors"]] == ["ON1", "ON2"]


def test_onprem_search_uses_q_and_empty_returns_latest(api, visitor):
    state.create_visitor(short_id="OTHER", identities=["Alan Turing"], is_online=False)
    found = api.onprem("/visitors/list/search", q="hopper").json()["visitors"]
    assert [v["short_id"] for v in found] == ["VIS00001"]
    everyone = api.onprem("/visitors/list/search").json()["visitors"]
    assert {v["short_id"] for v in everyone} == {"VIS00001", "OTHER"}


def test_onprem_visitor_and_404(api, visitor):
    body = api.onprem("/visitors/VIS00001").json()
    assert body["status"] == "ok"
    assert body["visitor"]["short_id"] == "VIS00001"
    assert body["visitor"]["identities"] == ["Grace Hopper", "grace@navy.example"]
    missing = api.onprem("/visitors/NOPE")
    assert missing.status_code == 404
    assert missing.json() == {"status": "error", "error": "not_found"}


def test_onprem_has_no_undocumented_endpoints(api, visitor):
    assert api.onprem("/usage.json").status_code == 404
    response = api.call("DELETE", "onprem:/visitors/VIS00001", key=None, authorization="x")
    assert response.status_code == 405


def test_onprem_requests_are_logged_with_authorization_redacted(api, visitor):
    api.onprem("/visitors/list/search", q="grace")
    (entry,) = state.received_requests()
    assert entry.endpoint == "onprem_search"
    assert entry.path == "/__upscope__/onprem/api/visitors/list/search"
    assert entry.query == {"q": "grace"}
    assert entry.header("Authorization") == "[redacted]"
    assert entry.credentials == "valid"


# -- search -----------------------------------------------------------------------------


@pytest.fixture
def crowd(db):
    now = state.now()
    people = [
        dict(short_id="ADA", identities=["Ada Lovelace", "ada@engines.example"], unique_id="u-1",
             is_online=True, ip_address="10.0.0.1", lookup_code="1234", tags=["#vip"],
             last_url="https://shop.example.com/checkout", integration="intercom",
             integration_ids={"intercom": "555"}),
        dict(short_id="BOB", identities=["Bob Marley"], unique_id="u-2", is_online=False,
             ip_address="10.0.0.2", lookup_code="9876", tags=["#customer", "#vip"],
             last_url="https://shop.example.com/cart"),
        dict(short_id="CAROL", identities=None, unique_id=None, is_online=True,
             ip_address="10.0.0.3", tags=[], last_url="https://app.example.com/dashboard"),
    ]  # fmt: skip
    for offset, fields in enumerate(people):
        state.create_visitor(last_seen_at=now - dt.timedelta(minutes=offset), **fields)


def _search(api, query):
    response = api.get("/list.json", search=query)
    assert response.status_code == 200
    return [v["short_id"] for v in response.json()["visitors"]]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", ["ADA", "BOB", "CAROL"]),
        ("online", ["ADA", "CAROL"]),
        ("-online", ["BOB"]),
        ("ip:10.0.0.2", ["BOB"]),
        ("id:u-1", ["ADA"]),
        ("1234", ["ADA"]),
        ("9876", ["BOB"]),
        ("#vip", ["ADA", "BOB"]),
        ("#customer", ["BOB"]),
        ("#cust", []),
        ("integration_id:intercom:555", ["ADA"]),
        ("integration_id:intercom:556", []),
        ("lovelace", ["ADA"]),
        ("ADA@ENGINES.example", ["ADA"]),
        ("carol", ["CAROL"]),  # the short_id
        ("u-2", ["BOB"]),  # the unique_id, as free text
        ("checkout", ["ADA"]),  # the last URL
        ("shop.example.com", ["ADA", "BOB"]),
        ("#vip online", ["ADA"]),
        ("#vip -online", ["BOB"]),
        ('"bob marley"', ["BOB"]),
        ("nobody-like-this", []),
    ],
)
def test_search_tokens(api, crowd, query, expected):
    assert _search(api, query) == expected


def test_search_text_with_like_wildcards_is_literal(api, crowd):
    assert _search(api, "%") == []
    assert _search(api, "_") == []


def test_tokens_keep_quoted_phrases():
    assert tokens('#vip "Ada Lovelace"  online') == ["#vip", "Ada Lovelace", "online"]
    assert tokens(None) == []
