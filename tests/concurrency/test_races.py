"""Races: two agents starting a screen share on the same visitor at once, two syncs
at once, a delete during a sync. Nothing duplicated, nothing lost, every attempt
audited. Threads are lined up on a barrier (no sleeps); each has its own
database connection, so on PostgreSQL the transactions truly overlap.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.auth.models import User

from django_upscope import mirror, resources, services
from django_upscope.client import UpscopeClient
from django_upscope.models import Agent, AuditEvent, Session, Visitor
from django_upscope.testing.factories import session_payload, visitor_payload
from tests.helpers import make_user

from .conftest import postgres_only, run_concurrently, values

AGENT_CODENAMES = ["screenshare_visitor", "refresh_visitor", "delete_visitor", "view_visitor"]


def actor(user: User) -> services.Actor:
    return services.Actor(user=user, source="api")


# -- two agents, one visitor ---------------------------------------------------------------


@pytest.mark.parametrize("_", [pytest.param(None, marks=postgres_only, id="pg")])
def test_two_agents_start_a_screenshare_on_one_visitor_at_once(upscope_fake, _):
    short_id = upscope_fake.add_visitor(identities=["Vera Visitor"])
    ada, bob = make_user("ada", AGENT_CODENAMES), make_user("bob", AGENT_CODENAMES)

    shares = values(
        run_concurrently(
            lambda: services.start_screenshare(actor(ada), short_id),
            lambda: services.start_screenshare(actor(bob), short_id),
        )
    )

    assert len({str(s.watch_url) for s in shares}) == 2
    assert len(upscope_fake.requests("watch_url")) == 2
    minted = AuditEvent.objects.filter(action="watch_url")
    assert sorted(minted.values_list("username", "outcome")) == [
        ("ada", "success"),
        ("bob", "success"),
    ]
    assert len(set(minted.values_list("watch_url_hash", flat=True))) == 2

    # Both agents refresh the visitor at once: the mirror holds each upstream session once.
    values(
        run_concurrently(
            lambda: services.refresh_visitor(actor(ada), short_id),
            lambda: services.refresh_visitor(actor(bob), short_id),
        )
    )
    upstream = upscope_fake.client().get_visitor(short_id)
    assert sorted(Session.objects.filter(visitor_id=short_id).values_list("id", flat=True)) == (
        sorted(s.id for s in upstream.sessions)
    )
    agents = set(
        Agent.objects.filter(sessions__visitor_id=short_id).values_list(
            "agent_identifier", flat=True
        )
    )
    assert agents == {str(ada.pk), str(bob.pk)}
    assert Agent.objects.filter(agent_identifier__in=agents).count() == 2
    assert AuditEvent.objects.filter(action="refresh_visitor", outcome="success").count() == 2


# -- two syncs at once -----------------------------------------------------------------------

SHARED_AGENTS = [
    {"id": 9000 + n, "name": f"Agent {n}", "agent_identifier": None, "_type": "agent"}
    for n in range(4)
]


def payloads(numbers: range, *, online: bool = False) -> list[resources.VisitorData]:
    """Visitors with two sessions each; every session has two of four shared agents."""
    result = []
    for n in numbers:
        short_id = f"R{n:05d}"
        sessions = [
            session_payload(
                n * 10 + j,
                short_id,
                agents=[SHARED_AGENTS[(n + j) % 4], SHARED_AGENTS[(n + j + 1) % 4]],
            )
            for j in range(2)
        ]
        payload = visitor_payload(short_id, sessions=sessions, is_online=online)
        result.append(resources.VisitorData.from_payload(payload))
    return result


def assert_mirror_holds(numbers: range, *, online: bool) -> None:
    ids = {f"R{n:05d}" for n in numbers}
    assert set(Visitor.objects.values_list("short_id", flat=True)) == ids
    assert set(Visitor.objects.values_list("is_online", flat=True)) == {online}
    assert Session.objects.count() == 2 * len(ids)
    assert Agent.objects.count() == len(SHARED_AGENTS)
    assert Session.agents.through.objects.count() == 4 * len(ids)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("_", [pytest.param(None, marks=postgres_only, id="pg")])
def test_two_syncs_of_overlapping_visitors_at_once(_):
    first, second = range(0, 60), range(30, 90)

    results = values(
        run_concurrently(
            lambda: mirror.upsert_visitors(payloads(first)),
            lambda: mirror.upsert_visitors(payloads(second)),
        )
    )

    for result, numbers in zip(results, (first, second), strict=True):
        assert result.created + result.updated + result.unchanged == len(numbers)
    created = set(results[0].created_ids) | set(results[1].created_ids)
    assert created == {f"R{n:05d}" for n in range(90)}
    assert_mirror_holds(range(90), online=False)

    # Again, with every visitor changed: each is written, none duplicated.
    results = values(
        run_concurrently(
            lambda: mirror.upsert_visitors(payloads(first, online=True)),
            lambda: mirror.upsert_visitors(payloads(second, online=True)),
        )
    )
    for result, numbers in zip(results, (first, second), strict=True):
        assert result.created == 0
        assert result.updated + result.unchanged == len(numbers)
    assert_mirror_holds(range(90), online=True)


@pytest.mark.parametrize("_", [pytest.param(None, marks=postgres_only, id="pg")])
def test_two_sync_runs_against_upscope_at_once(upscope_fake, _):
    short_ids = upscope_fake.seed(40, seed=3)

    reports = values(
        run_concurrently(
            lambda: mirror.sync_from_upscope(upscope_fake.client(), usage=False, batch_size=7),
            lambda: mirror.sync_from_upscope(upscope_fake.client(), usage=False, batch_size=11),
        )
    )

    for report in reports:
        assert report.listed == 40
        assert report.result.failed == 0
        assert report.result.created + report.result.updated + report.result.unchanged == 40
    assert set(Visitor.objects.values_list("short_id", flat=True)) == set(short_ids)
    expected_sessions = {
        s.id for sid in short_ids for s in upscope_fake.client().get_visitor(sid).sessions
    }
    assert set(Session.objects.values_list("id", flat=True)) == expected_sessions


# -- a delete during a sync -------------------------------------------------------------------


@pytest.mark.parametrize("_", [pytest.param(None, marks=postgres_only, id="pg")])
def test_delete_during_a_sync_loses_nothing_and_is_audited(upscope_fake, _):
    short_ids = sorted(upscope_fake.seed(30, seed=5))
    mirror.sync_from_upscope(upscope_fake.client(), usage=False)
    doomed = short_ids[15]
    user = make_user("ada", AGENT_CODENAMES)

    results = run_concurrently(
        lambda: mirror.sync_from_upscope(
            upscope_fake.client(), usage=False, batch_size=5, full=True
        ),
        lambda: services.delete_visitor(actor(user), doomed),
    )

    report, deleted = values(results)
    assert deleted.already_gone is False
    assert report.result.failed == 0
    assert doomed not in {v.short_id for v in upscope_fake.client().search_visitors()}
    # Nothing else lost.
    survivors = set(Visitor.objects.values_list("short_id", flat=True))
    assert set(short_ids) - {doomed} <= survivors
    [event] = AuditEvent.objects.filter(action="delete_visitor")
    assert (event.outcome, event.visitor_short_id) == ("success", doomed)
    # Whatever the interleaving, the next sync with prune leaves the visitor marked gone.
    mirror.sync_from_upscope(upscope_fake.client(), usage=False, prune=True)
    assert not Visitor.objects.filter(short_id=doomed, removed_upstream_at__isnull=True).exists()


class PausingClient(UpscopeClient):
    """Holds the sync after it fetched one visitor, until the test says go on."""

    def __init__(self, pause_on: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pause_on = pause_on
        self.fetched = threading.Event()
        self.go_on = threading.Event()

    def get_visitor(self, short_id: str, with_history: bool = False) -> resources.VisitorData:
        visitor = super().get_visitor(short_id, with_history)
        if short_id == self.pause_on:
            self.fetched.set()
            assert self.go_on.wait(60), "the test never let the sync go on"
        return visitor


def test_visitor_deleted_after_the_sync_fetched_it_does_not_reappear(upscope_fake):
    short_ids = sorted(upscope_fake.seed(6, seed=8))
    doomed = short_ids[2]
    mirror.sync_from_upscope(upscope_fake.client(), usage=False)
    client = PausingClient(doomed, api_key=upscope_fake.api_key, api_url=upscope_fake.api_url)
    user = make_user("ada", AGENT_CODENAMES)
    outcome: dict[str, Any] = {}

    def run_sync() -> None:
        try:
            # full: the listing is unchanged, and the test needs the payload fetched.
            outcome["report"] = mirror.sync_from_upscope(
                client, usage=False, batch_size=10, full=True
            )
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            from django.db import connections

            connections.close_all()

    thread = threading.Thread(target=run_sync, daemon=True)
    thread.start()
    try:
        assert client.fetched.wait(60)
        services.delete_visitor(actor(user), doomed)  # while the sync holds its payload
    finally:
        client.go_on.set()
        thread.join(60)
        client.close()
    assert "error" not in outcome, outcome.get("error")
    assert AuditEvent.objects.get(action="delete_visitor").outcome == "success"
    assert not Visitor.objects.filter(short_id=doomed).exists()
