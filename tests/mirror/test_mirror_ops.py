"""remove_visitors, mark_removed_upstream, prune_candidates, record_usage, concurrent upserts."""

from __future__ import annotations

import pytest

from django_upscope import mirror, models, resources
from django_upscope.mirror import upsert
from tests.concurrency.conftest import IS_POSTGRES, run_concurrently, values

from .helpers import visitor, visitors

USAGE = {
    "usage": {
        "visitors": {"online_now": 100, "last_24_hrs": 1000, "last_30_days": 40000},
        "agents": {"today": 5, "last_30_days": 20},
        "session_counts": {"now": 3, "today": 30, "last_30_days": 100},
        "session_seconds": {"today": 400, "last_30_days": 10000},
    }
}


@pytest.mark.django_db
def test_remove_visitors_deletes_rows_and_their_sessions_only():
    mirror.upsert_visitors(visitors(3))
    assert mirror.remove_visitors(["V00001"]) == 1
    assert sorted(models.Visitor.objects.values_list("pk", flat=True)) == ["V00000", "V00002"]
    assert not models.Session.objects.filter(visitor_id="V00001").exists()
    assert models.Session.objects.count() == 6
    assert models.Agent.objects.count() == 3  # agents outlive the sessions they were in
    assert mirror.remove_visitors([]) == 0


@pytest.mark.django_db
def test_mark_then_seen_again_clears_the_mark():
    mirror.upsert_visitors([visitor("A")])
    assert mirror.mark_removed_upstream(["A"]) == 1
    row = models.Visitor.objects.get()
    assert row.removed_upstream_at is not None
    result = mirror.upsert_visitors([visitor("A")])
    assert result.updated_ids == ["A"]
    assert models.Visitor.objects.get().removed_upstream_at is None


@pytest.mark.django_db
def test_prune_candidates_pages_through_the_mirror():
    mirror.upsert_visitors(visitors(25, sessions=0))
    pages = list(mirror.prune_candidates({"V00003"}, chunk_size=10))
    assert [len(p) for p in pages] == [9, 10, 5]
    assert "V00003" not in [sid for page in pages for sid in page]


@pytest.mark.django_db
def test_record_usage():
    snapshot = mirror.record_usage(resources.Usage.from_payload(USAGE))
    snapshot.refresh_from_db()
    assert snapshot.visitors_online_now == 100
    assert snapshot.visitors_last_30_days == 40000
    assert snapshot.agents_today == 5
    assert snapshot.sessions_now == 3
    assert snapshot.session_seconds_last_30_days == 10000
    assert snapshot.raw == USAGE["usage"]
    assert models.UsageSnapshot.objects.latest() == snapshot


@pytest.mark.django_db
def test_a_stale_read_does_not_duplicate_or_fail(monkeypatch):
    """Two syncs race: the second loaded 'what exists' before the first committed, so it
    believes every row is new. The upsert must neither raise IntegrityError nor duplicate."""
    first = visitors(20)
    mirror.upsert_visitors(first)
    for loader in ("_stored_visitors", "_stored_sessions", "_stored_agents"):
        monkeypatch.setattr(upsert, loader, lambda keys: {})
    result = mirror.upsert_visitors(visitors(30, is_online=False))
    assert result.created == 30  # as far as it could tell
    assert models.Visitor.objects.count() == 30
    assert models.Session.objects.count() == 90
    assert not models.Visitor.objects.filter(is_online=True).exists()
    assert models.Session.agents.through.objects.count() == 90


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
@pytest.mark.skipif(not IS_POSTGRES, reason="needs a PostgreSQL DATABASE_URL")
def test_two_concurrent_syncs_of_overlapping_visitors():
    """Real threads, each with its own connection and transaction, released together on
    a barrier: on PostgreSQL the two upserts truly overlap (SQLite would serialise them,
    so the test runs on PostgreSQL only, like tests/concurrency/)."""
    batches = [visitors(60), visitors(60)[30:] + visitors(90)[60:]]
    values(run_concurrently(*(lambda b=batch: mirror.upsert_visitors(b) for batch in batches)))
    assert models.Visitor.objects.count() == 90
    assert models.Session.objects.count() == 270
    assert models.Agent.objects.count() == 90
    assert models.Session.agents.through.objects.count() == 270
