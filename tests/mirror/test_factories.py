"""The factories users import: every model, consistent derived columns."""

from __future__ import annotations

import pytest

from django_upscope import models, resources
from django_upscope.services import watch_url_hmac
from django_upscope.testing import factories

pytestmark = pytest.mark.django_db


def test_visitor_with_sessions():
    visitor = factories.VisitorFactory.with_sessions(3, identities=["Ada Lovelace"])
    assert visitor.display_name == "Ada Lovelace"
    assert visitor.identities_text == "Ada Lovelace"
    assert visitor.sessions.count() == 3
    assert all(s.ended_at is not None and s.agents.count() == 1 for s in visitor.sessions.all())
    assert visitor.tags_text == (" " + " ".join(visitor.tags) + " " if visitor.tags else "")


def test_session_traits_and_agents():
    live = factories.SessionFactory(active=True, agents=0)
    assert live.is_active and live.agents.count() == 0
    ann = factories.AgentFactory(name="Ann Lee")
    shared = factories.SessionFactory.create_batch(2, agents=[ann])
    assert set(ann.sessions.all()) == set(shared)
    assert shared[0].features_text.strip().split() == shared[0].features_used


def test_usage_and_audit_factories():
    snapshot = factories.UsageSnapshotFactory()
    assert snapshot.raw["visitors"]["online_now"] == snapshot.visitors_online_now
    assert (
        resources.Usage.from_payload({"usage": snapshot.raw}).agents.today == snapshot.agents_today
    )
    event = factories.AuditEventFactory()
    assert event.action == models.AuditEvent.Action.WATCH_URL
    assert len(event.watch_url_hash) == 64
    denied = factories.AuditEventFactory(outcome=models.AuditEvent.Outcome.DENIED)
    assert denied.watch_url_hash == "" and denied.status_code is None


def test_payload_builders_parse():
    payload = factories.visitor_payload("XY12", sessions=2, history={"pageviews": []})
    visitor = resources.VisitorData.from_payload(payload)
    assert [s.id for s in visitor.sessions] == [1, 2]
    assert visitor.history == {"pageviews": []}


def test_session_lengths_and_timestamps_look_like_upscope_s():
    """docs/upscope-api.md, "Get a visitor": 91 seconds is "1 minute"; session
    timestamps carry an offset (+01:00)."""
    payload = factories.session_payload(1, "ABCD1234", length_seconds=91)
    assert payload["formatted_length"] == "1 minute"
    assert payload["started_at"].endswith("+01:00") and payload["ended_at"].endswith("+01:00")
    session = factories.SessionFactory(length_seconds=91)
    assert session.formatted_length == "1 minute"
    assert session.raw["formatted_length"] == "1 minute"
    assert session.raw["started_at"].endswith("+01:00")
    # The same instant, to the millisecond the payload keeps.
    started = session.started_at
    parsed = resources.SessionData.from_payload(session.raw).started_at
    assert parsed == started.replace(microsecond=started.microsecond // 1000 * 1000)
    # The fake formats lengths the same way, so factories and the fake agree.
    assert [
        factories.SessionFactory.build(length_seconds=n).formatted_length for n in (0, 59, 3600)
    ] == [
        "-",
        "59 seconds",
        "1 hour",
    ]


def test_audit_factory_keeps_the_services_hmac_of_the_watch_url():
    url = "https://o.upscope.test/watch?token=abc"
    event = factories.AuditEventFactory(watch_url=url)
    assert event.watch_url_hash == watch_url_hmac(url)
    other = factories.AuditEventFactory()
    assert other.watch_url_hash == watch_url_hmac(f"https://o.upscope.io/watch/{other.request_id}")
