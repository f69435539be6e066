"""Typed results: documented field names, aware datetimes, raw payload kept."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt

import pytest

from django_upscope.exceptions import UpscopeInvalidResponse
from django_upscope.resources import (
    AgentData,
    SessionData,
    Usage,
    VisitorData,
    WatchURL,
    parse_datetime,
    visitor_from_detail_payload,
    visitors_from_list_payload,
)

from .payloads import USAGE, VISITOR, WATCH_URL, visitor

UTC = dt.timezone.utc
PLUS_ONE = dt.timezone(dt.timedelta(hours=1))


def test_visitor_from_the_documented_payload():
    parsed = VisitorData.from_payload(copy.deepcopy(VISITOR))
    assert parsed.short_id == "ABCD1234"
    assert parsed.api_key == "xyzxyzxyz"
    assert parsed.browser_name == "Chrome 65"
    assert parsed.device_name is None
    assert parsed.device_type == "desktop"
    assert parsed.identities == ["Joe Smith"]
    assert parsed.integration == "intercom"
    assert parsed.ip_address == "8.8.8.8"
    assert parsed.is_in_session is False
    assert parsed.is_online is True
    assert parsed.js_configuration is False
    assert parsed.last_url == "https://your-website.com/abc"
    assert parsed.location_city == "New York, NY"
    assert parsed.location_country == "US"
    assert parsed.location_country_name == "united states"
    assert parsed.lookup_code is None
    assert parsed.tags == ["#customer"]
    assert parsed.unique_id == "123"
    assert parsed.history is None
    assert parsed.display_name == "Joe Smith"


def test_visitor_timestamps_are_aware_utc():
    parsed = VisitorData.from_payload(copy.deepcopy(VISITOR))
    assert parsed.first_seen_at == dt.datetime(2018, 3, 16, 15, 25, 59, tzinfo=UTC)
    assert parsed.last_seen_at == dt.datetime(2018, 4, 17, 14, 43, 44, tzinfo=UTC)
    assert parsed.first_seen_at.utcoffset() == dt.timedelta(0)


def test_session_timestamps_keep_their_offset():
    session = VisitorData.from_payload(copy.deepcopy(VISITOR)).sessions[0]
    assert session.started_at == dt.datetime(2018, 7, 5, 11, 53, 38, tzinfo=PLUS_ONE)
    assert session.started_at.utcoffset() == dt.timedelta(hours=1)
    assert session.ended_at.utcoffset() == dt.timedelta(hours=1)
    assert (session.ended_at - session.started_at).total_seconds() == 91


def test_session_and_agent_fields():
    session = VisitorData.from_payload(copy.deepcopy(VISITOR)).sessions[0]
    assert isinstance(session, SessionData)
    assert session.id == 1
    assert session.visitor_id == "ABCD1234"
    assert session.length_seconds == 91
    assert session.formatted_length == "1 minute"
    assert session.call_length_seconds == 0
    assert session.formatted_call_length == "-"
    assert session.went_live is True
    assert session.features_used == ["click"]
    assert (session.team.id, session.team.domain) == (1, "upscope.io")
    assert session.metadata == {}
    (agent,) = session.agents
    assert isinstance(agent, AgentData)
    assert (agent.id, agent.name, agent.agent_identifier, agent.type) == (
        1,
        "Joe Smith",
        "ext-123",
        "external_agent",
    )


def test_raw_payload_is_kept_with_unknown_fields():
    payload = visitor(new_field={"added": "later"}, score=7)
    payload["sessions"][0]["recording_url"] = "https://r.test/1"
    payload["sessions"][0]["agents"][0]["email"] = "joe@example.com"
    parsed = VisitorData.from_payload(payload)
    assert parsed.raw == payload
    assert parsed.raw["new_field"] == {"added": "later"}
    assert parsed.raw["_type"] == "visitor"
    assert parsed.sessions[0].raw["recording_url"] == "https://r.test/1"
    assert parsed.sessions[0].agents[0].raw["email"] == "joe@example.com"


def test_raw_is_not_in_repr_or_equality():
    a = VisitorData.from_payload(visitor(extra=1))
    b = VisitorData.from_payload(visitor(extra=2))
    assert a == b
    assert "raw" not in repr(a)


def test_results_are_immutable():
    parsed = VisitorData.from_payload(copy.deepcopy(VISITOR))
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.short_id = "x"  # type: ignore[misc]


def test_session_metadata_is_kept():
    payload = visitor()
    payload["sessions"][0]["metadata"] = {"ticket": 42, "source": "admin"}
    assert VisitorData.from_payload(payload).sessions[0].metadata == {
        "ticket": 42,
        "source": "admin",
    }


def test_history_is_kept_as_json():
    history = {"pageviews": [{"url": "https://x.test", "at": "2018-01-01T00:00:00Z"}]}
    assert VisitorData.from_payload(visitor(history=history)).history == history


def test_missing_and_null_fields_are_tolerated():
    # The on-premise visitor "may differ slightly": only short_id is required.
    parsed = VisitorData.from_payload({"short_id": 1234, "identities": None, "tags": None})
    assert parsed.short_id == "1234"
    assert parsed.identities == []
    assert parsed.tags == []
    assert parsed.sessions == []
    assert parsed.first_seen_at is None
    assert parsed.is_online is False
    assert parsed.display_name == "1234"


def test_the_attribute_tables_ip_addres_spelling_is_read():
    payload = visitor()
    del payload["ip_address"]
    payload["ip_addres"] = "1.2.3.4"
    assert VisitorData.from_payload(payload).ip_address == "1.2.3.4"


def test_display_name_falls_back_to_unique_id():
    assert VisitorData.from_payload(visitor(identities=[], unique_id="u-9")).display_name == "u-9"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2018-03-16T15:25:59.000Z", dt.datetime(2018, 3, 16, 15, 25, 59, tzinfo=UTC)),
        ("2018-03-16T15:25:59Z", dt.datetime(2018, 3, 16, 15, 25, 59, tzinfo=UTC)),
        (
            "2018-07-05T11:53:38.250+01:00",
            dt.datetime(2018, 7, 5, 11, 53, 38, 250000, tzinfo=PLUS_ONE),
        ),
        ("2018-07-05T11:53:38", dt.datetime(2018, 7, 5, 11, 53, 38, tzinfo=UTC)),
        (None, None),
        ("", None),
    ],
)
def test_parse_datetime(value, expected):
    parsed = parse_datetime(value, "x")
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is not None
        assert parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("value", ["yesterday", "2018-13-01T00:00:00Z", 1521213959, ["x"]])
def test_parse_datetime_refuses_what_is_not_a_timestamp(value):
    with pytest.raises(UpscopeInvalidResponse, match=r"visitor\.first_seen_at"):
        parse_datetime(value, "visitor.first_seen_at")


def test_usage_from_the_documented_payload():
    usage = Usage.from_payload(copy.deepcopy(USAGE))
    assert usage.visitors.online_now == 100
    assert usage.session_seconds.last_30_days == 10000
    assert usage.raw == USAGE["usage"]


def test_usage_keeps_unknown_sections_in_raw():
    payload = copy.deepcopy(USAGE)
    payload["usage"]["recordings"] = {"today": 2}
    assert Usage.from_payload(payload).raw["recordings"] == {"today": 2}


def test_usage_missing_figures_are_zero():
    usage = Usage.from_payload({"usage": {"visitors": {"online_now": 4}}})
    assert usage.visitors.online_now == 4
    assert usage.visitors.last_30_days == 0
    assert usage.agents.today == 0


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        {},
        {"usage": []},
        {"usage": {"visitors": []}},
        {"usage": {"agents": {"today": "5"}}},
        {"usage": {"agents": {"today": True}}},
    ],
)
def test_usage_wrong_shapes(payload):
    with pytest.raises(UpscopeInvalidResponse):
        Usage.from_payload(payload)


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "ABCD",
        {},
        {"short_id": ""},
        {"short_id": True},
        {"short_id": None},
        {"short_id": "A", "sessions": {}},
        {"short_id": "A", "identities": "Joe"},
        {"short_id": "A", "sessions": [{"id": "one"}]},
        {"short_id": "A", "sessions": [{}]},
        {"short_id": "A", "sessions": [{"id": 1, "team": "upscope"}]},
        {"short_id": "A", "sessions": [{"id": 1, "agents": ["Joe"]}]},
        {"short_id": "A", "sessions": [{"id": 1, "metadata": ["x"]}]},
        {"short_id": "A", "last_seen_at": 5},
    ],
)
def test_visitor_wrong_shapes(payload):
    with pytest.raises(UpscopeInvalidResponse):
        VisitorData.from_payload(payload)


def test_list_and_detail_envelopes():
    listed = visitors_from_list_payload({"status": "ok", "visitors": [visitor(short_id="Z1")]})
    assert [v.short_id for v in listed] == ["Z1"]
    assert visitors_from_list_payload({"visitors": None}) == []
    assert visitor_from_detail_payload({"visitor": visitor()}).short_id == "ABCD1234"
    for bad in ({"status": "ok"}, [], {"visitors": {}}):
        with pytest.raises(UpscopeInvalidResponse):
            visitors_from_list_payload(bad)
    for bad in ({"status": "ok"}, [], {"visitor": []}):
        with pytest.raises(UpscopeInvalidResponse):
            visitor_from_detail_payload(bad)


def test_watch_url_is_a_str_with_a_redacted_repr():
    url = WatchURL(WATCH_URL)
    assert isinstance(url, str)
    assert url == WATCH_URL
    assert str(url) == WATCH_URL
    assert f"{url}" == WATCH_URL
    assert repr(url) == "<WatchURL redacted>"
    assert WATCH_URL not in repr([url])
    assert WATCH_URL not in repr({"watch_url": url})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Forms Python 3.10's datetime.fromisoformat refuses; every supported Python must agree.
        (
            "2018-07-05T11:53:38.12+01:00",
            dt.datetime(2018, 7, 5, 11, 53, 38, 120000, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        ),
        (
            "2018-07-05T11:53:38+0100",
            dt.datetime(2018, 7, 5, 11, 53, 38, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        ),
        ("2018-03-16T15:25:59.000Z", dt.datetime(2018, 3, 16, 15, 25, 59, tzinfo=dt.timezone.utc)),
    ],
)
def test_timestamps_parse_the_same_on_every_python(text, expected):
    parsed = parse_datetime(text, "session.started_at")
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("text", ["yesterday", "2018-13-05T11:53:38Z", "2018-07-05T25:00:00Z"])
def test_a_timestamp_that_is_not_one_is_an_invalid_response(text):
    with pytest.raises(UpscopeInvalidResponse, match=r"session\.started_at is not an ISO 8601"):
        parse_datetime(text, "session.started_at")
