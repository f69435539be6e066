"""Seeding (deterministic, realistic), the management command, and the fake's safety rules."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.checks import Error, Tags, Warning, run_checks
from django.core.management import CommandError, call_command

from django_upscope.fake import state
from django_upscope.fake.checks import check_fake_safety
from django_upscope.fake.models import FakeSession, FakeVisitor
from django_upscope.fake.payloads import fake_visitor_payload
from django_upscope.fake.seeding import FIXED_ANCHOR


def _snapshot(short_ids):
    """Payloads of the seeded visitors, without the database's own ids."""
    snapshot = []
    for short_id in short_ids:
        payload = fake_visitor_payload(
            FakeVisitor.objects.get(pk=short_id), FIXED_ANCHOR, with_history=True
        )
        for session in payload["sessions"]:
            session.pop("id")
            for agent in session["agents"]:
                agent.pop("id")
        snapshot.append(payload)
    return snapshot


def test_same_seed_gives_the_same_visitors(db):
    first_ids = state.seed(visitors=40, seed=7)
    first = _snapshot(first_ids)
    state.reset()
    second_ids = state.seed(visitors=40, seed=7)
    assert second_ids == first_ids
    assert _snapshot(second_ids) == first


def test_different_seeds_give_different_visitors(db):
    first = state.seed(visitors=20, seed=1)
    state.reset()
    assert state.seed(visitors=20, seed=2) != first


def test_seeding_twice_without_reset_adds_new_short_ids(db):
    first = state.seed(visitors=15, seed=3)
    second = state.seed(visitors=15, seed=3)
    assert not set(first) & set(second)
    assert FakeVisitor.objects.count() == 30


def test_seeded_visitors_are_realistic_and_varied(db):
    short_ids = state.seed(visitors=300, seed=11)
    visitors = list(FakeVisitor.objects.filter(pk__in=short_ids))
    assert len(visitors) == 300
    online = sum(v.is_online for v in visitors)
    assert 20 < online < 120
    assert len({v.location_country for v in visitors}) >= 8
    assert len({v.browser_name for v in visitors}) >= 5
    assert {v.device_type for v in visitors} >= {"desktop", "mobile", "tablet"}
    assert len({v.integration for v in visitors if v.integration}) >= 5
    assert any(v.tags for v in visitors) and any(not v.tags for v in visitors)
    codes = [v.lookup_code for v in visitors if v.lookup_code]
    assert codes and all(len(c) == 4 and c.isdigit() for c in codes)
    emails = [i for v in visitors for i in (v.identities or []) if "@" in i]
    assert len(emails) > 150
    assert any(v.identities is None for v in visitors)
    assert any(v.history for v in visitors)
    sessions_per_visitor = Counter(
        FakeSession.objects.filter(visitor__in=short_ids).values_list("visitor_id", flat=True)
    )
    assert max(sessions_per_visitor.values()) <= 5
    assert 0 < len(sessions_per_visitor) < 300  # some visitors have no past session
    assert not FakeSession.objects.filter(ended_at__isnull=True).exists()
    assert not FakeVisitor.objects.filter(is_in_session=True).exists()


def test_seeded_visitors_are_searchable(api):
    state.seed(visitors=80, seed=4)
    some = FakeVisitor.objects.exclude(identities=None).exclude(lookup_code=None).first()
    name = some.identities[0].split()[-1]
    found = [v["short_id"] for v in api.get("/list.json", search=name).json()["visitors"]]
    assert some.short_id in found
    by_code = api.get("/list.json", search=some.lookup_code).json()["visitors"]
    assert some.short_id in [v["short_id"] for v in by_code]


def test_seed_command(db, settings):
    out = io.StringIO()
    call_command("upscope_fake_seed", "--visitors", "25", "--seed", "2", stdout=out)
    assert FakeVisitor.objects.count() == 25
    assert "Seeded 25 fake visitors" in out.getvalue()
    call_command("upscope_fake_seed", "--visitors", "5", "--reset", stdout=io.StringIO())
    assert FakeVisitor.objects.count() == 5


def test_seed_command_fixed_anchor_is_deterministic(db):
    call_command("upscope_fake_seed", "--visitors", "10", "--anchor", "fixed", stdout=io.StringIO())
    first = _snapshot(FakeVisitor.objects.order_by("short_id").values_list("pk", flat=True))
    call_command(
        "upscope_fake_seed", "--visitors", "10", "--anchor", "fixed", "--reset",
        stdout=io.StringIO(),
    )  # fmt: skip
    second = _snapshot(FakeVisitor.objects.order_by("short_id").values_list("pk", flat=True))
    assert first == second


def test_seed_command_refuses_when_the_fake_is_off(db, settings):
    settings.UPSCOPE = {**settings.UPSCOPE, "FAKE_ENABLED": False}
    with pytest.raises(CommandError, match="not enabled"):
        call_command("upscope_fake_seed", "--visitors", "3", stdout=io.StringIO())
    assert not FakeVisitor.objects.exists()


# -- safety ------------------------------------------------------------------------------


def _ids(messages):
    return [m.id for m in messages]


def test_e010_when_the_fake_is_enabled_with_debug_off(settings):
    settings.DEBUG = False
    settings.UPSCOPE = {**settings.UPSCOPE, "FAKE_ENABLED": True}
    messages = check_fake_safety()
    assert _ids(messages) == ["django_upscope.E010"]
    assert isinstance(messages[0], Error)
    # Registered with the security checks when the fake app is installed.
    assert "django_upscope.E010" in _ids(run_checks(tags=[Tags.security]))


def test_no_e010_with_debug_on_or_the_fake_off(settings):
    settings.DEBUG = True
    settings.UPSCOPE = {**settings.UPSCOPE, "FAKE_ENABLED": None}
    assert check_fake_safety() == []
    settings.DEBUG = False
    settings.UPSCOPE = {**settings.UPSCOPE, "FAKE_ENABLED": None}
    assert check_fake_safety() == []


def test_w010_when_the_rest_key_looks_real(settings):
    settings.DEBUG = True
    settings.UPSCOPE = {**settings.UPSCOPE, "FAKE_REST_KEY": "prod-rest-key"}
    messages = check_fake_safety()
    assert _ids(messages) == ["django_upscope.W010"]
    assert isinstance(messages[0], Warning)


@pytest.mark.parametrize(
    "path",
    [
        "/__upscope__/",
        "/__upscope__/v1.1/usage.json",
        "/__upscope__/v1.1/list.json",
        "/__upscope__/onprem/api/visitors/list/latest",
        "/__upscope__/watch/some-token",
        "/__upscope__/watch/some-token/status.json",
    ],
)
def test_everything_answers_404_when_the_fake_is_off(client, db, settings, path):
    settings.DEBUG = False
    settings.UPSCOPE = {**settings.UPSCOPE, "FAKE_ENABLED": None}
    response = client.get(path, headers={"X-Api-Key": "fake_k", "Authorization": "fake_rest_key"})
    assert response.status_code == 404
    assert not state.received_requests()


def test_the_fake_answers_with_debug_on_and_no_explicit_setting(client, db, settings):
    settings.DEBUG = True
    settings.UPSCOPE = {**settings.UPSCOPE, "FAKE_ENABLED": None}
    response = client.get("/__upscope__/v1.1/usage.json", headers={"X-Api-Key": "fake_k"})
    assert response.status_code == 200


def test_index_page_says_what_it_is(client, db):
    state.seed(visitors=5, seed=1)
    response = client.get("/__upscope__/")
    assert response.status_code == 200
    assert b"embedded fake" in response.content
    assert b"http://testserver/__upscope__/v1.1" in response.content
