"""GET usage/, usage/history/ and sessions/."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_upscope.fake import state
from django_upscope.models import UsageSnapshot
from django_upscope.testing.factories import (
    AgentFactory,
    SessionFactory,
    UsageSnapshotFactory,
    VisitorFactory,
)

from .conftest import api

USAGE = ["view_usagesnapshot"]
SESSIONS = ["view_session"]


@pytest.mark.django_db(transaction=True)
def test_usage_is_live_and_not_stored(upscope_fake, client_for):
    upscope_fake.seed(5, seed=3)
    response = client_for(USAGE).get(api("usage"))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"visitors", "agents", "session_counts", "session_seconds"}
    assert set(body["visitors"]) == {"online_now", "last_24_hrs", "last_30_days"}
    assert len(upscope_fake.requests("usage")) == 1
    expected = state.usage()
    assert body["visitors"]["online_now"] == expected["visitors"]["online_now"]
    assert body["session_counts"]["last_30_days"] == expected["session_counts"]["last_30_days"]
    # A GET writes nothing: snapshots come from upscope_sync / upscope_usage_snapshot.
    assert not UsageSnapshot.objects.exists()


@pytest.mark.django_db
def test_usage_history_newest_first_with_dates(client_for):
    now = timezone.now()
    old = UsageSnapshotFactory(taken_at=now - dt.timedelta(days=10), visitors_online_now=1)
    mid = UsageSnapshotFactory(taken_at=now - dt.timedelta(days=5), visitors_online_now=2)
    new = UsageSnapshotFactory(taken_at=now - dt.timedelta(days=1), visitors_online_now=3)
    client = client_for(USAGE)

    everything = client.get(api("usage-history")).json()
    assert [r["visitors"]["online_now"] for r in everything["results"]] == [3, 2, 1]
    assert everything["results"][0]["taken_at"].startswith(str(new.taken_at.date()))
    assert set(everything["results"][0]) == {
        "taken_at",
        "visitors",
        "agents",
        "session_counts",
        "session_seconds",
    }

    window = client.get(
        api("usage-history"),
        {
            "since": (mid.taken_at - dt.timedelta(hours=1)).isoformat(),
            "until": (new.taken_at - dt.timedelta(hours=1)).isoformat(),
        },
    ).json()
    assert [r["visitors"]["online_now"] for r in window["results"]] == [2]
    assert old.pk  # created


@pytest.mark.django_db
def test_sessions_filters(client_for):
    ada, bob = VisitorFactory(), VisitorFactory()
    agent = AgentFactory(agent_identifier="42", upscope_id=7001)
    other = AgentFactory(agent_identifier="43", upscope_id=7002)
    now = timezone.now()
    s1 = SessionFactory(visitor=ada, agents=[agent], started_at=now - dt.timedelta(days=3))
    s2 = SessionFactory(visitor=ada, agents=[other], started_at=now - dt.timedelta(days=1))
    s3 = SessionFactory(visitor=bob, agents=[agent, other], started_at=now - dt.timedelta(hours=1))
    client = client_for(SESSIONS)

    def ids(**params):
        response = client.get(api("session-list"), params)
        assert response.status_code == 200, response.content
        return [s["id"] for s in response.json()["results"]]

    assert ids() == [s3.id, s2.id, s1.id]
    assert ids(visitor=ada.short_id) == [s2.id, s1.id]
    assert ids(agent="42") == [s3.id, s1.id]
    assert ids(agent="7002") == [s3.id, s2.id]
    assert ids(since=(now - dt.timedelta(days=2)).isoformat()) == [s3.id, s2.id]
    assert ids(until=(now - dt.timedelta(days=2)).isoformat()) == [s1.id]
    assert ids(visitor=bob.short_id, agent="42") == [s3.id]


@pytest.mark.django_db
def test_session_shape(client_for):
    agent = AgentFactory(agent_identifier="42", name="Ada", upscope_id=9)
    session = SessionFactory(agents=[agent], metadata={"ticket": "T-1"})
    (body,) = client_for(SESSIONS).get(api("session-list")).json()["results"]
    assert body["id"] == session.id
    assert body["visitor"] == session.visitor_id
    assert body["metadata"] == {"ticket": "T-1"}
    assert body["agents"] == [
        {"id": 9, "name": "Ada", "agent_identifier": "42", "type": agent.type}
    ]


@pytest.mark.django_db
def test_sessions_query_count_does_not_grow(client_for):
    client = client_for(SESSIONS)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(api("session-list")).status_code == 200
        return len(queries)

    SessionFactory.create_batch(2, agents=2)
    few = count()
    SessionFactory.create_batch(20, agents=2)
    assert count() == few


@pytest.mark.django_db
def test_invalid_visitor_filter_is_400(client_for):
    response = client_for(SESSIONS).get(api("session-list"), {"visitor": "bad id"})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["visitor"]
