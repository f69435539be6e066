"""Signals derived from sync diffs, sent after commit, once per batch."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from django_upscope import mirror, models, signals

from .helpers import session_payload, visitor

pytestmark = pytest.mark.django_db

START = dt.datetime(2024, 7, 5, 10, tzinfo=dt.timezone.utc)


@pytest.fixture
def received():
    calls: list[tuple[str, dict]] = []

    def make(name):
        def receiver(sender, **kwargs):
            kwargs.pop("signal")
            calls.append((name, {"sender": sender, **kwargs}))

        return receiver

    receivers = {
        name: make(name)
        for name in ("visitor_synced", "visitor_deleted", "session_started", "session_ended")
    }
    for name, receiver in receivers.items():
        getattr(signals, name).connect(receiver)
    yield calls
    for name, receiver in receivers.items():
        getattr(signals, name).disconnect(receiver)


def test_visitor_synced_lists_created_and_updated(received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        mirror.upsert_visitors([visitor("A"), visitor("B")])
    assert received == [
        ("visitor_synced", {"sender": models.Visitor, "created": ["A", "B"], "updated": []})
    ]
    received.clear()
    with django_capture_on_commit_callbacks(execute=True):
        mirror.upsert_visitors([visitor("A"), visitor("B", is_online=False), visitor("C")])
    assert received == [
        ("visitor_synced", {"sender": models.Visitor, "created": ["C"], "updated": ["B"]})
    ]


def test_nothing_is_sent_for_unchanged_data(received, django_capture_on_commit_callbacks):
    active = session_payload(1, "A", started_at=START, active=True)
    with django_capture_on_commit_callbacks(execute=True):
        mirror.upsert_visitors([visitor("A", sessions=[active])])
    received.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        mirror.upsert_visitors([visitor("A", sessions=[active])])
    assert callbacks == []
    assert received == []


def test_session_started_and_ended(received, django_capture_on_commit_callbacks):
    running = session_payload(1, "A", started_at=START, active=True)
    with django_capture_on_commit_callbacks(execute=True):
        mirror.upsert_visitors([visitor("A", sessions=[running])])
    assert ("session_started", {"sender": models.Session, "session_ids": [1]}) in received
    assert not [c for c in received if c[0] == "session_ended"]
    received.clear()

    finished = session_payload(1, "A", started_at=START, length_seconds=300)
    with django_capture_on_commit_callbacks(execute=True):
        mirror.upsert_visitors([visitor("A", sessions=[finished])])
    assert [c for c in received if c[0].startswith("session")] == [
        ("session_ended", {"sender": models.Session, "session_ids": [1], "first_seen": []})
    ]


def test_a_session_first_seen_already_ended_is_only_ended(
    received, django_capture_on_commit_callbacks
):
    sessions = [
        session_payload(5, "A", started_at=START),
        session_payload(6, "A", started_at=START, active=True),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        mirror.upsert_visitors([visitor("A", sessions=sessions)])
    by_name = {name: kwargs for name, kwargs in received}
    assert by_name["session_started"]["session_ids"] == [6]
    assert by_name["session_ended"]["session_ids"] == [5]
    assert by_name["session_ended"]["first_seen"] == [5]


def test_signals_wait_for_the_commit_and_are_dropped_on_rollback(
    received, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            mirror.upsert_visitors([visitor("A")])
            assert received == []  # not before the commit
            raise RuntimeError("rolled back")
    assert callbacks == []
    assert received == []
    assert not models.Visitor.objects.exists()


def test_a_failing_receiver_does_not_break_the_sync(
    received, django_capture_on_commit_callbacks, caplog
):
    def broken(sender, **kwargs):
        raise ValueError("integrator bug")

    signals.visitor_synced.connect(broken)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            result = mirror.upsert_visitors([visitor("A")])
    finally:
        signals.visitor_synced.disconnect(broken)
    assert result.created == 1
    assert [name for name, _ in received] == ["visitor_synced"]
    assert "integrator bug" in caplog.text


def test_visitor_deleted_on_remove_and_on_mark(received, django_capture_on_commit_callbacks):
    mirror.upsert_visitors([visitor("A", sessions=2), visitor("B"), visitor("C")])
    received.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert mirror.remove_visitors(["A", "missing"]) == 1
        assert mirror.mark_removed_upstream(["B"]) == 1
        assert mirror.mark_removed_upstream(["B"]) == 0  # already marked: no second signal
    assert received == [
        ("visitor_deleted", {"sender": models.Visitor, "short_ids": ["A"],
                             "removed_locally": True}),
        ("visitor_deleted", {"sender": models.Visitor, "short_ids": ["B"],
                             "removed_locally": False}),
    ]  # fmt: skip
