"""factory-boy factories for every django-upscope model, for your tests.

::

    from django_upscope.testing.factories import VisitorFactory, SessionFactory

    visitor = VisitorFactory(identities=["Ada Lovelace"], tags=["#customer"])
    busy = VisitorFactory.with_sessions(3)          # a visitor with 3 ended sessions
    live = SessionFactory(active=True)              # a running session (no ended_at)
    session = SessionFactory(agents=2)              # with two agents (or pass a list)

Rows are built the way a sync builds them: the factory's fields become an
Upscope payload, the payload is parsed (:mod:`django_upscope.resources`) and its
columns come from :mod:`django_upscope.mirror.columns`, so ``display_name``,
``identities_text``, ``tags_text``, ``features_text``, ``raw`` and
``content_hash`` are exactly what ``upscope_sync`` would store for that payload.
A column passed explicitly (``VisitorFactory(display_name="...")``) is stored as
given, over the derived value.

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

from django_upscope import models, resources
from django_upscope.fake.payloads import formatted_length, session_timestamp, visitor_timestamp
from django_upscope.mirror import columns
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
#: Session timestamps carry the team's UTC offset, as in the example of
#: docs/upscope-api.md, "The visitor object" (``...+01:00``).
SESSION_UTC_OFFSET_MINUTES = 60


def _session_time(value: dt.datetime | None) -> str | None:
    return session_timestamp(value, SESSION_UTC_OFFSET_MINUTES)


def _payload_value(value: Any) -> Any:
    """A factory field as Upscope sends it: ``""`` is ``null``, times are strings."""
    if value == "":
        return None
    if isinstance(value, dt.datetime):
        return visitor_timestamp(value)
    return value


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
    """One session as embedded in a visitor payload (the example's shape in
    docs/upscope-api.md, "The visitor object")."""
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


#: The factory fields that are visitor payload keys (the others are columns).
_VISITOR_PAYLOAD_KEYS = (frozenset(visitor_payload()) - {"sessions", "_type"}) | {"history"}


class _MirrorRowFactory(DjangoModelFactory):
    """Builds its row from :meth:`_columns` of the declared fields, for ``build``
    and ``create`` alike."""

    class Meta:
        abstract = True

    @classmethod
    def _build(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        return super()._build(model_class, *args, **cls._columns(kwargs))

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        return super()._create(model_class, *args, **cls._columns(kwargs))

    @classmethod
    def _columns(cls, fields: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError


class VisitorFactory(_MirrorRowFactory):
    """A visitor row; pass ``history={...}`` for a visitor synced with history."""

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
    synced_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _columns(cls, fields: dict[str, Any]) -> dict[str, Any]:
        """The fields as a payload, through ``mirror.columns.visitor_columns``."""
        fields = dict(fields)
        payload = {
            k: _payload_value(fields.pop(k)) for k in list(fields) if k in _VISITOR_PAYLOAD_KEYS
        }
        visitor = resources.VisitorData.from_payload(visitor_payload(**payload))
        values = columns.visitor_columns(visitor)
        if "history" in visitor.raw:
            values.update(columns.history_columns(visitor), history_synced_at=fields["synced_at"])
        values.update(fields)
        return values

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


class AgentFactory(_MirrorRowFactory):
    """An agent row; its ``key`` is the one a sync gives the same agent payload."""

    class Meta:
        model = models.Agent
        django_get_or_create = ("key",)

    upscope_id = factory.Sequence(lambda n: 100 + n)
    agent_identifier = factory.Sequence(lambda n: f"ext-{n}")
    name = factory.Faker("name")
    type = "external_agent"
    synced_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _columns(cls, fields: dict[str, Any]) -> dict[str, Any]:
        """The fields as a payload, through ``mirror.columns.agent_columns``."""
        fields = dict(fields)
        payload = {
            "id": fields.pop("upscope_id"),
            "name": _payload_value(fields.pop("name")),
            "agent_identifier": _payload_value(fields.pop("agent_identifier")),
            "_type": _payload_value(fields.pop("type")),
        }
        values = columns.agent_columns(resources.AgentData.from_payload(payload))
        values.update(fields)
        return values


class SessionFactory(_MirrorRowFactory):
    """A session row (by default ended, with one new agent)."""

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
    team_id = 1
    team_domain = "example.com"
    metadata = factory.LazyFunction(dict)
    synced_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _columns(cls, fields: dict[str, Any]) -> dict[str, Any]:
        """The fields as a payload (without agents: see :meth:`agents`), through
        ``mirror.columns.session_columns``."""
        fields = dict(fields)
        visitor = fields.pop("visitor")
        started_at, ended_at = fields.pop("started_at"), fields.pop("ended_at")
        payload = session_payload(
            fields.pop("id"),
            visitor.short_id,
            length_seconds=fields.pop("length_seconds"),
            features_used=list(fields.pop("features_used")),
            agents=[],
            metadata=dict(fields.pop("metadata")),
            formatted_length=_payload_value(fields.pop("formatted_length")),
            call_length_seconds=fields.pop("call_length_seconds"),
            formatted_call_length=_payload_value(fields.pop("formatted_call_length")),
            went_live=fields.pop("went_live"),
            team={
                "id": fields.pop("team_id"),
                "domain": _payload_value(fields.pop("team_domain")),
                "_type": "team",
            },
        )
        payload.update(started_at=_session_time(started_at), ended_at=_session_time(ended_at))
        session = resources.SessionData.from_payload(payload)
        values = columns.session_columns(session, visitor.short_id)
        del values["visitor_id"]  # the row gets the visitor object (it may be unsaved: build)
        values.update(fields, visitor=visitor)
        return values

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
            # The payload now lists the agents, as Upscope's does: raw and hash follow.
            payload = {**session.raw, "agents": [a.raw for a in agents]}
            values = columns.session_columns(
                resources.SessionData.from_payload(payload), session.visitor_id
            )
            session.raw, session.content_hash = values["raw"], values["content_hash"]
            models.Session.objects.filter(pk=session.pk).update(
                raw=session.raw, content_hash=session.content_hash
            )


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
