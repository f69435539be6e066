"""The database lease behind "one sync at a time", and the one-chain periodic schedule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from django_upscope import locks
from django_upscope.models import SyncState

pytestmark = pytest.mark.django_db


def test_a_held_lease_refuses_a_second_holder_until_released():
    first = locks.acquire("job", ttl=60)
    assert first is not None
    assert locks.acquire("job", ttl=60) is None
    locks.release("job", first, ok=True, summary="created=1")
    second = locks.acquire("job", ttl=60)
    assert second is not None and second != first
    row = SyncState.objects.get(name="job")
    assert (row.holder, row.ok, row.summary) == (second, True, "created=1")


def test_an_expired_lease_is_taken_over_and_the_old_holder_cannot_renew_or_release():
    stale = locks.acquire("job", ttl=60)
    # A worker that died: its lease ran out.
    SyncState.objects.filter(name="job").update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    fresh = locks.acquire("job", ttl=60)
    assert fresh is not None
    assert locks.renew("job", stale, ttl=60) is False
    locks.release("job", stale, ok=False, summary="late")
    assert SyncState.objects.get(name="job").holder == fresh
    assert locks.renew("job", fresh, ttl=60) is True


def test_held_frees_the_lease_and_records_an_exception():
    with pytest.raises(RuntimeError), locks.held("job", ttl=60) as token:
        assert token is not None
        raise RuntimeError("boom")
    row = SyncState.objects.get(name="job")
    assert (row.holder, row.ok) == ("", False)
    assert "boom" in row.summary
    assert locks.acquire("job", ttl=60) is not None


def test_the_summary_is_scrubbed_of_the_api_key(settings):
    settings.UPSCOPE = {**settings.UPSCOPE, "API_KEY": "fake_secret_key_123"}
    token = locks.acquire("job", ttl=60)
    locks.release("job", token, ok=False, summary="refused fake_secret_key_123")
    assert SyncState.objects.get(name="job").summary == "refused [redacted]"


def test_only_one_next_run_is_claimed_at_a_time():
    first = locks.claim_next_run("job", 60)
    assert first is not None
    # A second chain (a sync run by hand meanwhile) does not schedule another run.
    assert locks.claim_next_run("job", 60) is None
    # Once the scheduled run's time has come, that run schedules the next one.
    SyncState.objects.filter(name="job").update(next_run_at=timezone.now())
    later = locks.claim_next_run("job", 60)
    assert later is not None and later > first
