"""factory-boy factories for every django-upscope model, for your tests.

::

    from django_upscope.testing.factories import VisitorFactory, SessionFactory

    visitor = VisitorFactory(identities=["Ada Lovelace"], tags=["#customer"])
    busy = VisitorFactory.with_sessions(3)          # a visitor with 3 ended sessions
    live = SessionFactory(active=True)              # a running session (no ended_at)
    session = SessionFactory(agents=2)              # with two agents (or pass a list)

The derived columns (``display_name``, ``identities_text``, ``tags_text``,
``features_text``) and ``raw`` are filled from the other fields the way
:mod:`django_upscope.sync` fills them.

:func:`visitor_payload` and :func:`session_payload` build API payloads shaped
like Upscope's (``visitors/:id.json``), for tests of code that reads payloads
or for ``responses`` mocks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory
from factory.random import randgen

from django_upscope import models
from django_upscope.fake.payloads import formatted_length, session_timestamp, visitor_timestamp
from django_upscope.services import watch_url_hmac
from django_upscope.vocabulary import PERMISSION_DEFAULTS

__all__ = [
    "AgentFactory",
    "AuditEventFactory",
    "SessionFactory",
    "UsageSnapshotFactory",
    "VisitorFactory",
    "session_payload",
    "visitor_payload",
]

DEVICES = [
    ("desktop", None, "Chrome 124"),
    ("desktop", None, "Firefox 126"),
    ("desktop", None, "Safari 17"),
    ("mobile", "iPhone", "Mobile Safari 17"),
    ("mobile", "Pixel 8", "Chrome Mobile 124"),
    ("tablet", "iPad", "Mobile Safari 17"),
]
PLACES = [
    ("New York, NY", "US", "united states"),
    ("London", "GB", "united kingdom"),
    ("Berlin", "DE", "germany"),
    ("Sydney", "AU", "australia"),
    (None, None, None),
]
TAGS = ["#customer", "#trial", "#vip", "#enterprise", "#churn-risk"]
FEATURES = ["click", "scroll", "type", "draw", "console", "audio", "agent_redirect"]
INTEGRATIONS = [None, "intercom", "zendesk", "crisp", "drift"]
#: Session timestamps carry the team's UTC offset, as in seed 000 (``...+01:00``).
SESSION_UTC_OFFSET_MINUTES = 60


def _session_time(value: dt.datetime | None) -> str | None:
    return session_timestamp(value, SESSION_UTC_OFFSET_MINUTES)


def _padded(words: list[str]) -> str:
    return " " + " ".join(words) + " " if words else ""


def session_payload(
    session_id: int,
    visitor_id: str,
    *,
    started_at: dt.datetime | None = None,
    length_seconds: int = 91,
    active: bool = False,
    features_used: list[str] | None = None,
    agents: list[dict[str, Any]] | None = None,
    metadata: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One session as embedded in a visitor payload (seed 000's example shape)."""
    started_at = started_at or timezone.now() - dt.timedelta(days=1)
    ended_at = None if active else started_at + dt.timedelta(seconds=length_seconds)
    payload: dict[str, Any] = {
        "id": session_id,
        "length_seconds": length_seconds,
        "formatted_length": formatted_length(length_seconds),
        "call_length_seconds": 0,
        "formatted_call_length": "-",
        "started_at": _session_time(started_at),
        "ended_at": _session_time(ended_at),
        "went_live": True,
        "features_used": ["click"] if features_used is None else features_used,
        "visitor_id": visitor_id,
        "team": {"id": 1, "domain": "example.com", "_type": "team"},
        "agents": (
            [
                {
                    "id": 1,
                    "name": "Joe Smith",
                    "agent_identifier": "ext-123",
                    "_type": "external_agent",
                }
            ]
            if agents is None
            else agents
        ),
        "_type": "session",
    }
    if metadata is not None:
        payload["metadata"] = metadata
    payload.update(extra)
    return payload


def visitor_payload(
    short_id: str = "ABCD1234",
    *,
    sessions: int | list[dict[str, Any]] = 0,
    first_session_id: int = 1,
    history: Any = None,
    **fields: Any,
) -> dict[str, Any]:
    """A visitor payload as ``GET visitors/:id.json`` returns it (inside ``"visitor"``).

    ``sessions`` is a list of session payloads or a number of ended sessions to
    make, with ids from ``first_session_id``. ``history`` adds a ``history`` key
    (as ``?with_history=true`` does) when not ``None``. Other keyword arguments
    override fields.
    """
    if isinstance(sessions, int):
        sessions = [
            session_payload(
                first_session_id + i,
                short_id,
                started_at=dt.datetime(2024, 7, 5, 10, tzinfo=dt.timezone.utc)
                + dt.timedelta(days=i),
            )
            for i in range(sessions)
        ]
    payload: dict[str, Any] = {
        "api_key": "xyzxyzxyz",
        "browser_name": "Chrome 65",
        "device_name": None,
        "device_type": "desktop",
        "first_seen_at": "2018-03-16T15:25:59.000Z",
        "identities": ["Joe Smith"],
        "integration": "intercom",
        "ip_address": "8.8.8.8",
        "is_in_session": False,
        "is_online": True,
        "js_configuration": False,
        "last_seen_at": "2018-04-17T14:43:44.000Z",
        "last_url": "https://your-website.com/abc",
        "location_city": "New York, NY",
        "location_country": "US",
        "location_country_name": "united states",
        "lookup_code": None,
        "short_id": short_id,
        "tags": ["#customer"],
        "unique_id": "123",
        "sessions": sessions,
        "_type": "visitor",
    }
    if history is not None:
        payload["history"] = history
    payload.update(fields)
    return payload


def _visitor_raw(o: Any) -> dict[str, Any]:
    return {
        "short_id": o.short_id,
        "api_key": o.api_key or None,
        "identities": list(o.identities),
        "unique_id": o.unique_id or None,
        "lookup_code": o.lookup_code or None,
        "tags": list(o.tags),
        "device_type": o.device_type or None,
        "device_name": o.device_name or None,
        "browser_name": o.browser_name or None,
        "location_city": o.location_city or None,
        "location_country": o.location_country or None,
        "location_country_name": o.location_country_name or None,
        "ip_address": o.ip_address or None,
        "integration": o.integration or None,
        "is_online": o.is_online,
        "is_in_session": o.is_in_session,
        "js_configuration": o.js_configuration,
        "first_seen_at": visitor_timestamp(o.first_seen_at),
        "last_seen_at": visitor_timestamp(o.last_seen_at),
        "last_url": o.last_url or None,
        "_type": "visitor",
    }


class VisitorFactory(DjangoModelFactory):
    class Meta:
        model = models.Visitor
        skip_postgeneration_save = True

    class Params:
        device = factory.LazyFunction(lambda: randgen.choice(DEVICES))
        place = factory.LazyFunction(lambda: randgen.choice(PLACES))

    short_id = factory.Sequence(lambda n: f"V{n:07d}")
    api_key = "pub_example_key"
    identities = factory.List([factory.Faker("name")])
    unique_id = factory.Sequence(lambda n: f"user-{1000 + n}")
    lookup_code = factory.LazyFunction(lambda: f"{randgen.randint(0, 9999):04d}")
    tags = factory.LazyFunction(lambda: randgen.sample(TAGS, k=randgen.randint(0, 2)))
    device_type = factory.LazyAttribute(lambda o: o.device[0])
    device_name = factory.LazyAttribute(lambda o: o.device[1] or "")
    browser_name = factory.LazyAttribute(lambda o: o.device[2])
    location_city = factory.LazyAttribute(lambda o: o.place[0] or "")
    location_country = factory.LazyAttribute(lambda o: o.place[1] or "")
    location_country_name = factory.LazyAttribute(lambda o: o.place[2] or "")
    ip_address = factory.Faker("ipv4_public")
    integration = factory.LazyFunction(lambda: randgen.choice(INTEGRATIONS) or "")
    is_online = factory.LazyFunction(lambda: randgen.random() < 0.3)
    is_in_session = False
    js_configuration = False
    first_seen_at = factory.LazyFunction(
        lambda: timezone.now() - dt.timedelta(days=randgen.randint(30, 365))
    )
    last_seen_at = factory.LazyAttribute(
        lambda o: o.first_seen_at + dt.timedelta(days=randgen.randint(0, 29))
    )
    last_url = factory.Sequence(lambda n: f"https://www.example.com/pricing?ref={n}")
    display_name = factory.LazyAttribute(
        lambda o: (o.identities[0] if o.identities else "") or o.unique_id or o.short_id
    )
    identities_text = factory.LazyAttribute(lambda o: "\n".join(o.identities))
    tags_text = factory.LazyAttribute(lambda o: _padded(list(o.tags)))
    raw = factory.LazyAttribute(_visitor_raw)
    synced_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def sessions(self, create: bool, extracted: int | None, **kwargs: Any) -> None:
        """``VisitorFactory(sessions=3)``: also make 3 ended sessions for the visitor
        (``sessions__agents=0`` etc. pass on to :class:`SessionFactory`)."""
        if create and extracted:
            SessionFactory.create_batch(int(extracted), visitor=self, **kwargs)

    @classmethod
    def with_sessions(cls, n: int, **kwargs: Any) -> models.Visitor:
        """Create a visitor with ``n`` ended sessions (each with one agent)."""
        return cast(models.Visitor, cls(sessions=n, **kwargs))


class AgentFactory(DjangoModelFactory):
    class Meta:
        model = models.Agent
        django_get_or_create = ("key",)

    upscope_id = factory.Sequence(lambda n: 100 + n)
    key = factory.LazyAttribute(lambda o: f"id:{o.upscope_id}")
    agent_identifier = factory.Sequence(lambda n: f"ext-{n}")
    name = factory.Faker("name")
    type = "external_agent"
    raw = factory.LazyAttribute(
        lambda o: {
            "id": o.upscope_id,
            "name": o.name,
            "agent_identifier": o.agent_identifier,
            "_type": o.type,
        }
    )
    synced_at = factory.LazyFunction(timezone.now)


def _session_raw(o: Any) -> dict[str, Any]:
    return {
        "id": o.id,
        "visitor_id": o.visitor.short_id,
        "length_seconds": o.length_seconds,
        "formatted_length": o.formatted_length,
        "call_length_seconds": o.call_length_seconds,
        "formatted_call_length": o.formatted_call_length,
        "started_at": _session_time(o.started_at),
        "ended_at": _session_time(o.ended_at),
        "went_live": o.went_live,
        "features_used": list(o.features_used),
        "team": {"id": o.team_id, "domain": o.team_domain, "_type": "team"},
        "metadata": dict(o.metadata),
        "_type": "session",
    }


class SessionFactory(DjangoModelFactory):
    class Meta:
        model = models.Session
        skip_postgeneration_save = True

    class Params:
        active = factory.Trait(
            ended_at=None,
            length_seconds=0,
            formatted_length="-",
        )

    id = factory.Sequence(lambda n: 10_000 + n)
    visitor = factory.SubFactory(VisitorFactory)
    length_seconds = factory.LazyFunction(lambda: randgen.randint(30, 1800))
    formatted_length = factory.LazyAttribute(lambda o: formatted_length(o.length_seconds))
    call_length_seconds = 0
    formatted_call_length = "-"
    started_at = factory.LazyFunction(
        lambda: timezone.now() - dt.timedelta(hours=randgen.randint(2, 24 * 30))
    )
    ended_at = factory.LazyAttribute(
        lambda o: o.started_at + dt.timedelta(seconds=o.length_seconds)
    )
    went_live = True
    features_used = factory.LazyFunction(
        lambda: sorted(randgen.sample(FEATURES[:4], k=randgen.randint(1, 3)))
    )
    features_text = factory.LazyAttribute(lambda o: _padded(list(o.features_used)))
    team_id = 1
    team_domain = "example.com"
    metadata = factory.LazyFunction(dict)
    raw = factory.LazyAttribute(_session_raw)
    synced_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def agents(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        """``agents=[agent, ...]`` links those agents; ``agents=N`` makes N agents.
        By default each session gets one new agent."""
        if not create:
            return
        if extracted is None:
            extracted = 1
        agents: list[models.Agent] = (
            [AgentFactory.create(**kwargs) for _ in range(extracted)]
            if isinstance(extracted, int)
            else list(extracted)
        )
        if agents:
            session = cast(models.Session, self)  # post_generation passes the created row
            session.agents.add(*agents)
            session.raw = {**session.raw, "agents": [a.raw for a in agents]}
            models.Session.objects.filter(pk=session.pk).update(raw=session.raw)


class UsageSnapshotFactory(DjangoModelFactory):
    class Meta:
        model = models.UsageSnapshot

    taken_at = factory.LazyFunction(timezone.now)
    visitors_online_now = factory.LazyFunction(lambda: randgen.randint(0, 200))
    visitors_last_24_hrs = factory.LazyAttribute(
        lambda o: o.visitors_online_now + randgen.randint(0, 2000)
    )
    visitors_last_30_days = factory.LazyAttribute(
        lambda o: o.visitors_last_24_hrs * randgen.randint(10, 30)
    )
    agents_today = factory.LazyFunction(lambda: randgen.randint(0, 10))
    agents_last_30_days = factory.LazyAttribute(lambda o: o.agents_today + randgen.randint(0, 20))
    sessions_now = factory.LazyFunction(lambda: randgen.randint(0, 5))
    sessions_today = factory.LazyAttribute(lambda o: o.sessions_now + randgen.randint(0, 40))
    sessions_last_30_days = factory.LazyAttribute(
        lambda o: o.sessions_today * randgen.randint(5, 30)
    )
    session_seconds_today = factory.LazyAttribute(lambda o: o.sessions_today * 300)
    session_seconds_last_30_days = factory.LazyAttribute(lambda o: o.sessions_last_30_days * 300)
    raw = factory.LazyAttribute(
        lambda o: {
            "visitors": {
                "online_now": o.visitors_online_now,
                "last_24_hrs": o.visitors_last_24_hrs,
                "last_30_days": o.visitors_last_30_days,
            },
            "agents": {"today": o.agents_today, "last_30_days": o.agents_last_30_days},
            "session_counts": {
                "now": o.sessions_now,
                "today": o.sessions_today,
                "last_30_days": o.sessions_last_30_days,
            },
            "session_seconds": {
                "today": o.session_seconds_today,
                "last_30_days": o.session_seconds_last_30_days,
            },
        }
    )


class AuditEventFactory(DjangoModelFactory):
    """An audit row; a minted one keeps the HMAC of ``watch_url`` (a parameter, never
    stored), as :func:`django_upscope.services.start_screenshare` does."""

    class Meta:
        model = models.AuditEvent

    class Params:
        watch_url = factory.LazyAttribute(lambda o: f"https://o.upscope.io/watch/{o.request_id}")

    action = models.AuditEvent.Action.WATCH_URL
    outcome = models.AuditEvent.Outcome.SUCCESS
    user = None
    username = factory.LazyAttribute(lambda o: o.user.get_username() if o.user else "agent")
    visitor_short_id = factory.Sequence(lambda n: f"V{n:07d}")
    source = "admin"
    permissions = factory.LazyAttribute(
        lambda o: (
            dict(PERMISSION_DEFAULTS) if o.action == models.AuditEvent.Action.WATCH_URL else {}
        )
    )
    metadata = factory.LazyFunction(dict)
    client_ip = "127.0.0.1"
    request_id = factory.Faker("uuid4", cast_to=str)
    error_code = factory.LazyAttribute(
        lambda o: "" if o.outcome == models.AuditEvent.Outcome.SUCCESS else "visitor_not_found"
    )
    status_code = factory.LazyAttribute(
        lambda o: (
            200
            if o.outcome == models.AuditEvent.Outcome.SUCCESS
            else (None if o.outcome == models.AuditEvent.Outcome.DENIED else 404)
        )
    )
    detail = ""
    watch_url_hash = factory.LazyAttribute(
        lambda o: (
            watch_url_hmac(o.watch_url)
            if o.action == models.AuditEvent.Action.WATCH_URL
            and o.outcome == models.AuditEvent.Outcome.SUCCESS
            else ""
        )
    )
