"""The app's own actions written back at once (django_upscope/writeback.py), and the share
page's relay of the watch frame's events (django_upscope/admin/relay.py).

On the fake: a mint marks the visitor in session and its row lists the new session; a stop
marks it ended. With ``rsps``: the refresh is deduplicated (one GET), a failed write-back
never fails the mint or the stop. The relay endpoint: CSRF, permission, event, rate limit.
"""

from __future__ import annotations

import re

import pytest
from django.db import DatabaseError
from django.test import Client, RequestFactory
from django.urls import reverse

from django_upscope import mirror, services, signals, writeback
from django_upscope.admin import relay
from django_upscope.fake.models import FakeSession
from django_upscope.models import AuditEvent, Session, Visitor
from django_upscope.testing.factories import VisitorFactory, session_payload, visitor_payload

from .helpers import make_user

API = "http://upscope.test/v1.1"
WATCH_URL = "https://o.upscope.io/watch?token=wb-secret-token"


@pytest.fixture
def now(monkeypatch):
    """The write-back's clock, moved by hand: ``now[0] += seconds``."""
    moment = [1_000_000.0]
    monkeypatch.setattr(writeback, "clock", lambda: moment[0])
    return moment


def actor_for(user):
    request = RequestFactory().get("/admin/", HTTP_HOST="support.example.com")
    request.user = user
    return services.actor_from_request(request, "admin")


@pytest.fixture
def agent(db):
    return make_user("agent", ["screenshare_visitor", "view_visitor"])


# -- on the fake: what a mint and a stop leave in the mirror -----------------------------


def test_mint_marks_in_session_and_lists_the_new_session(agent, upscope_fake, now):
    short_id = upscope_fake.add_visitor(identities=["Ada"])
    VisitorFactory(short_id=short_id, is_in_session=False, is_online=True)

    share = services.start_screenshare(actor_for(agent), short_id)

    (started,) = FakeSession.objects.filter(visitor_id=short_id)
    row = Visitor.objects.get(pk=short_id)
    assert row.is_in_session is True
    assert list(row.sessions.values_list("id", "ended_at")) == [(started.id, None)]
    assert share.visitor is not None and share.visitor.is_in_session is True
    endpoints = [r.endpoint for r in upscope_fake.requests()]
    assert endpoints == ["watch_url", "visitor_get"]


def test_stop_marks_the_session_ended(agent, upscope_fake, now):
    short_id = upscope_fake.add_visitor()
    services.start_screenshare(actor_for(agent), short_id)
    (session,) = Session.objects.filter(visitor_id=short_id)
    assert session.ended_at is None
    ended = []
    signals.session_ended.connect(lambda sender, **kw: ended.append(kw["session_ids"]), weak=False)
    try:
        services.stop_session(actor_for(agent), short_id)
    finally:
        signals.session_ended.receivers.clear()
    row = Visitor.objects.get(pk=short_id)
    session.refresh_from_db()
    upstream = FakeSession.objects.get(pk=session.pk)
    assert row.is_in_session is False
    assert session.ended_at is not None
    # The refresh wrote Upscope's own end and length over the local mark.
    assert session.length_seconds == upstream.length_seconds
    # Ended once, as a sync would have reported it.
    assert ended == [[session.pk]]
    assert [r.endpoint for r in upscope_fake.requests()] == [
        "watch_url",
        "visitor_get",
        "stop_session",
        "visitor_get",
    ]


def test_stop_marks_ended_even_when_the_refresh_fails(agent, upscope_fake, now):
    short_id = upscope_fake.add_visitor()
    services.start_screenshare(actor_for(agent), short_id)
    upscope_fake.fail("visitor_get", status=503, times=None)

    event = services.stop_session(actor_for(agent), short_id)

    assert (event.action, event.outcome) == ("stop_session", "success")
    row = Visitor.objects.get(pk=short_id)
    assert row.is_in_session is False
    assert row.sessions.get().ended_at is not None
    # The mark cleared the hash, so the next write of Upscope's state is never "unchanged".
    assert row.content_hash == ""


def test_a_read_through_the_services_keeps_refreshing_the_mirror(upscope_fake, db):
    short_id = upscope_fake.add_visitor(identities=["Fresh"])
    VisitorFactory(short_id=short_id, identities=["Stale"], display_name="Stale")
    services.get_visitor(short_id)
    assert Visitor.objects.get(pk=short_id).display_name == "Fresh"


# -- with rsps: deduplication and failures --------------------------------------------------


@pytest.fixture
def cloud(settings, db):
    settings.UPSCOPE = {
        "API_KEY": "fake_writeback_key",
        "API_URL": API,
        "RETRY_BACKOFF": 0.0,
        "MAX_RETRIES": 1,
        "FAKE_ENABLED": True,
    }
    settings.ALLOWED_HOSTS = ["*"]


def visitor_ok(rsps, short_id="V1", **fields):
    rsps.get(
        f"{API}/visitors/{short_id}.json", json={"visitor": visitor_payload(short_id, **fields)}
    )


def gets(rsps):
    return [c.request.url for c in rsps.calls if c.request.method == "GET"]


def test_two_refreshes_after_the_same_event_make_one_get(rsps, cloud, now):
    visitor_ok(rsps)
    assert writeback.refresh("V1", "active") is not None
    now[0] += writeback.DEDUP_SECONDS - 0.5
    assert writeback.refresh("V1", "active") is None
    assert len(gets(rsps)) == 1
    # Positive control: once the window has passed, the next refresh is made.
    now[0] += 1.0
    assert writeback.refresh("V1", "active") is not None
    assert len(gets(rsps)) == 2


def test_a_refresh_while_one_is_in_flight_is_skipped(rsps, cloud, now, monkeypatch):
    inner = []
    real_get = services.get_client().get_visitor

    def get_visitor(short_id, **kwargs):
        # A second request for the same visitor arrives while this GET is under way.
        inner.append(writeback.refresh(short_id, "active"))
        return real_get(short_id, **kwargs)

    visitor_ok(rsps)
    monkeypatch.setattr(writeback.get_client(), "get_visitor", get_visitor)
    assert writeback.refresh("V1", "active") is not None
    assert inner == [None]
    assert len(gets(rsps)) == 1


def test_mint_then_double_click_makes_one_get(rsps, cloud, now, agent):
    rsps.post(f"{API}/visitors/V1/watch_url.json", json={"watch_url": WATCH_URL})
    visitor_ok(rsps)
    first = services.start_screenshare(actor_for(agent), "V1")
    second = services.start_screenshare(actor_for(agent), "V1")
    assert [c.request.method for c in rsps.calls] == ["POST", "GET", "POST"]
    assert first.visitor is not None
    assert second.visitor is None  # skipped: the row the first refresh wrote is as fresh


def test_a_stop_right_after_a_mint_still_refreshes(rsps, cloud, now, agent):
    rsps.post(f"{API}/visitors/V1/watch_url.json", json={"watch_url": WATCH_URL})
    rsps.delete(f"{API}/visitors/V1/session", body="ok")
    visitor_ok(rsps)
    services.start_screenshare(actor_for(agent), "V1")
    services.stop_session(actor_for(agent), "V1")
    assert [c.request.method for c in rsps.calls] == ["POST", "GET", "DELETE", "GET"]


def test_upscope_down_on_the_refresh_leaves_the_mint_successful_and_audited(
    rsps, cloud, now, agent
):
    VisitorFactory(short_id="V1", is_in_session=False)
    rsps.post(f"{API}/visitors/V1/watch_url.json", json={"watch_url": WATCH_URL})
    rsps.get(f"{API}/visitors/V1.json", status=503)

    share = services.start_screenshare(actor_for(agent), "V1")

    assert share.watch_url == WATCH_URL
    assert share.visitor is None
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome) == ("watch_url", "success")
    assert share.audit_event == event
    # The mark stands until Upscope can be asked.
    assert Visitor.objects.get(pk="V1").is_in_session is True


def test_a_locked_database_on_the_write_back_leaves_the_mint_successful(
    rsps, cloud, now, agent, monkeypatch, caplog
):
    def locked(*args, **kwargs):
        raise DatabaseError("database is locked")

    monkeypatch.setattr(mirror, "mark_in_session", locked)
    monkeypatch.setattr(mirror, "upsert_visitors", locked)
    rsps.post(f"{API}/visitors/V1/watch_url.json", json={"watch_url": WATCH_URL})
    visitor_ok(rsps, identities=["Fetched"])

    share = services.start_screenshare(actor_for(agent), "V1")

    assert share.watch_url == WATCH_URL
    # What Upscope said still reaches the share page, though the mirror could not keep it.
    assert share.visitor is not None and share.visitor.display_name == "Fetched"
    assert AuditEvent.objects.get().outcome == "success"
    assert not Visitor.objects.filter(pk="V1").exists()
    assert "database is locked" in caplog.text
    assert WATCH_URL not in caplog.text


def test_a_locked_database_on_the_write_back_leaves_the_stop_successful(
    rsps, cloud, now, agent, monkeypatch
):
    def locked(*args, **kwargs):
        raise DatabaseError("database is locked")

    monkeypatch.setattr(mirror, "mark_session_ended", locked)
    rsps.delete(f"{API}/visitors/V1/session", body="ok")
    visitor_ok(rsps, sessions=[session_payload(7, "V1")])
    event = services.stop_session(actor_for(agent), "V1")
    assert (event.action, event.outcome) == ("stop_session", "success")
    # The refresh still ran, and wrote the ended session.
    assert Session.objects.get(pk=7).ended_at is not None


# -- the relay endpoint ---------------------------------------------------------------------


def event_url(short_id):
    return reverse("admin:django_upscope_visitor_session_event", args=[short_id])


def strict_client(user):
    """A client that enforces CSRF, logged in, holding a CSRF cookie; returns (client, token)."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get(reverse("admin:index"))  # the logout form sets the CSRF cookie
    return client, client.cookies["csrftoken"].value


def visitor_gets(upscope_fake):
    return [r for r in upscope_fake.requests() if r.endpoint == "visitor_get"]


def test_relay_needs_the_csrf_token(agent, upscope_fake, now):
    short_id = upscope_fake.add_visitor()
    relay.grant(agent.pk, short_id)
    client, token = strict_client(agent)
    refused = client.post(event_url(short_id), {"event": "active"}, content_type="application/json")
    assert refused.status_code == 403
    assert upscope_fake.requests() == []
    # Positive control: the same request with the token refreshes the visitor.
    accepted = client.post(
        event_url(short_id),
        {"event": "active"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert (accepted.status_code, accepted.json()) == (200, {"status": "ok", "refreshed": True})
    assert len(visitor_gets(upscope_fake)) == 1
    assert Visitor.objects.filter(pk=short_id).exists()


def test_relay_accepts_a_form_body(agent, upscope_fake, now):
    short_id = upscope_fake.add_visitor()
    relay.grant(agent.pk, short_id)
    client, token = strict_client(agent)
    response = client.post(event_url(short_id), {"event": "ended", "csrfmiddlewaretoken": token})
    assert response.json() == {"status": "ok", "refreshed": True}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"event": "started"}, "invalid_event"),
        ({"event": ["active"]}, "invalid_event"),
        ({}, "invalid_event"),
        ("not json", "invalid_event"),
    ],
)
def test_relay_refuses_other_events(agent, upscope_fake, now, body, code):
    short_id = upscope_fake.add_visitor()
    client, token = strict_client(agent)
    response = client.post(
        event_url(short_id), body, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 400
    assert response.json()["error"] == code
    assert response.json()["detail"]
    assert upscope_fake.requests() == []


def test_relay_refuses_a_bad_short_id_and_get(agent, upscope_fake, now):
    client, token = strict_client(agent)
    bad = client.post(
        event_url("not a/valid id"),
        {"event": "active"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert (bad.status_code, bad.json()["error"]) == (400, "invalid_short_id")
    assert client.get(event_url("ABC")).status_code == 405
    assert upscope_fake.requests() == []


def test_relay_needs_the_screenshare_permission(upscope_fake, now):
    short_id = upscope_fake.add_visitor()
    viewer = make_user("viewer", ["view_visitor"])
    client, token = strict_client(viewer)
    response = client.post(
        event_url(short_id),
        {"event": "active"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert (response.status_code, response.json()["error"]) == (403, "permission_denied")
    assert upscope_fake.requests() == []
    assert not AuditEvent.objects.exists()


def test_relay_is_rate_limited_per_visitor_and_agent(agent, upscope_fake, now):
    short_id = upscope_fake.add_visitor()
    relay.grant(agent.pk, short_id)
    client, token = strict_client(agent)

    def send(c=client, t=token):
        return c.post(
            event_url(short_id),
            {"event": "active"},
            content_type="application/json",
            HTTP_X_CSRFTOKEN=t,
        )

    answers = [send() for _ in range(relay.RELAY_LIMIT)]
    # The first refreshes; the rest within the window are deduplicated, not limited.
    assert [a.json()["refreshed"] for a in answers] == [True] + [False] * (relay.RELAY_LIMIT - 1)
    limited = send()
    assert (limited.status_code, limited.json()["error"]) == (429, "rate_limited")
    assert limited["Retry-After"] == str(relay.RELAY_WINDOW_SECONDS)
    assert len(visitor_gets(upscope_fake)) == 1
    # Another agent on the same visitor has a count of its own (past the dedup window).
    now[0] += writeback.DEDUP_SECONDS + 1
    other_agent = make_user("other", ["screenshare_visitor"])
    relay.grant(other_agent.pk, short_id)
    other, other_token = strict_client(other_agent)
    assert send(other, other_token).json() == {"status": "ok", "refreshed": True}
    assert len(visitor_gets(upscope_fake)) == 2


def send_event(client, token, short_id, event="active"):
    return client.post(
        event_url(short_id), {"event": event}, content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )  # fmt: skip


def test_relay_refuses_a_visitor_this_agent_opened_no_share_with(agent, upscope_fake, now):
    # Any well-formed id would otherwise be one more GET to Upscope, as often as asked.
    short_id = upscope_fake.add_visitor()
    client, token = strict_client(agent)
    refused = send_event(client, token, short_id)
    assert (refused.status_code, refused.json()["error"]) == (403, "no_share")
    assert upscope_fake.requests() == []
    # Another agent's share does not count for this one.
    relay.grant(make_user("other", ["screenshare_visitor"]).pk, short_id)
    assert send_event(client, token, short_id).status_code == 403
    assert upscope_fake.requests() == []
    # Positive control: once this agent's share page was served, its events are taken.
    relay.grant(agent.pk, short_id)
    assert send_event(client, token, short_id).json() == {"status": "ok", "refreshed": True}
    assert len(visitor_gets(upscope_fake)) == 1


def test_a_failing_cache_refuses_the_event_in_words_not_500(agent, upscope_fake, now, monkeypatch):
    short_id = upscope_fake.add_visitor()
    relay.grant(agent.pk, short_id)
    client, token = strict_client(agent)

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(relay.cache, "get", broken)
    response = send_event(client, token, short_id)
    assert (response.status_code, response.json()["error"]) == (503, "unavailable")
    assert response.json()["detail"]
    assert upscope_fake.requests() == []


def test_relay_limits_an_agent_across_visitors(agent, upscope_fake, now, monkeypatch):
    monkeypatch.setattr(relay, "RELAY_USER_LIMIT", 2)
    ids = [upscope_fake.add_visitor() for _ in range(3)]
    for short_id in ids:
        relay.grant(agent.pk, short_id)
    client, token = strict_client(agent)
    answers = [send_event(client, token, short_id) for short_id in ids]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert len(visitor_gets(upscope_fake)) == 2


def test_the_share_page_is_what_grants_its_events(agent, upscope_fake, now):
    short_id = upscope_fake.add_visitor()
    client, token = strict_client(agent)
    assert send_event(client, token, short_id).status_code == 403
    page = client.get(reverse("admin:django_upscope_visitor_screenshare", args=[short_id]))
    assert page.status_code == 200
    assert send_event(client, token, short_id, "ended").status_code == 200


def test_the_frame_going_live_refreshes_once_more_after_the_mint(agent, upscope_fake, now):
    # Upscope may start the session only when the frame connects: the mint's refresh does
    # not stand for the one after "active"; a repeated "active" is deduplicated.
    short_id = upscope_fake.add_visitor()
    client, token = strict_client(agent)
    page = client.get(reverse("admin:django_upscope_visitor_screenshare", args=[short_id]))
    assert page.status_code == 200
    # The page tells its script where to relay the frame's events.
    assert re.search(
        r'<script id="upscope-event-url" type="application/json">"'
        + re.escape(event_url(short_id))
        + '"</script>',
        page.content.decode(),
    )
    relayed = client.post(
        event_url(short_id),
        {"event": "active"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert relayed.json() == {"status": "ok", "refreshed": True}
    assert len(visitor_gets(upscope_fake)) == 2
    again = send_event(client, token, short_id)
    assert again.json() == {"status": "ok", "refreshed": False}
    assert len(visitor_gets(upscope_fake)) == 2
    assert Visitor.objects.get(pk=short_id).is_in_session is True
