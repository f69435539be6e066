"""The fake Upscope's Python API: create visitors, seed, inject faults, read the request log.

Everything lives in the fake app's tables, so a test process, ``runserver``'s
threads and pytest-django's ``live_server`` all see the same state::

    from django_upscope.fake import state

    state.reset()
    short_ids = state.seed(visitors=50, seed=1)
    visitor = state.create_visitor(identities=["Ada Lovelace"], is_online=True)
    state.inject_fault("list", status=503, times=2)
    state.received_requests()  # what the fake's API was sent
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from ..conf import upscope_settings
from .ids import new_short_ids
from .models import (
    FakeAgent,
    FakeFault,
    FakePurge,
    FakeRequest,
    FakeSession,
    FakeSessionAgent,
    FakeVisitor,
    FakeWatchToken,
)
from .payloads import elapsed_seconds
from .seeding import seed_visitors
from .spec import AUTHENTICATION_ERROR_CODES, DEFAULT_PERMISSIONS, INVALID_API_KEY

ENDPOINTS = frozenset(
    {
        "usage",
        "list",
        "visitor_get",
        "visitor_delete",
        "purge",
        "watch_url",
        "stop_session",
        "onprem_latest",
        "onprem_search",
        "onprem_visitor",
    }
)
"""Endpoint names for fault injection (and ``"*"`` for all of them)."""

CLOUD_AUTH_ERROR_KEYS = {
    f"fake_{code}": code for code in AUTHENTICATION_ERROR_CODES if code != INVALID_API_KEY
}
"""Cloud keys that the fake refuses with a specific 401 code (``fake_subscription_expired``...)."""

DropMode = Literal["before", "partial"]


class FakeStateError(ValueError):
    """A call to the fake's Python API had an invalid argument."""


def now() -> dt.datetime:
    """The fake's clock (tests may monkeypatch it to move time forward)."""
    return timezone.now()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# -- visitors ---------------------------------------------------------------


class _VisitorIds(Container[str]):
    """The short_ids visitors have, asked of the database one candidate at a time."""

    def __contains__(self, short_id: object) -> bool:
        return FakeVisitor.objects.filter(pk=short_id).exists()


def new_short_id() -> str:
    """A random 8-character short_id that no visitor has yet."""
    (short_id,) = new_short_ids(1, taken=_VisitorIds())
    return short_id


def create_visitor(**fields: Any) -> FakeVisitor:
    """Create a visitor; every documented field may be given, the rest get defaults.

    ``email="..."`` is a shortcut that adds the address to ``identities``.
    Timestamps default to now, ``is_online`` to True and ``short_id`` to a
    random 8-character id.
    """
    email = fields.pop("email", None)
    if email:
        identities = list(fields.get("identities") or [])
        if email not in identities:
            identities.append(email)
        fields["identities"] = identities
    moment = now()
    fields.setdefault("short_id", new_short_id())
    fields.setdefault("first_seen_at", moment)
    fields.setdefault("last_seen_at", moment)
    fields.setdefault("is_online", True)
    fields.setdefault("browser_name", "Chrome 120")
    fields.setdefault("last_url", "https://www.example.com/")
    visitor = FakeVisitor(**fields)
    visitor.full_clean(exclude=["search_text", "tags_text", "integration_ids_text"])
    visitor.save(force_insert=True)
    return visitor


def get_visitor(short_id: str) -> FakeVisitor:
    """The visitor with this short_id (``FakeVisitor.DoesNotExist`` if none)."""
    return FakeVisitor.objects.get(pk=short_id)


def update_visitor(short_id: str, **fields: Any) -> FakeVisitor:
    """Change documented fields of a visitor, e.g. ``last_url`` or ``tags``."""
    visitor = get_visitor(short_id)
    for name, value in fields.items():
        setattr(visitor, name, value)
    visitor.save()
    return visitor


def set_online(short_id: str, online: bool = True) -> FakeVisitor:
    """Bring a visitor online (a waiting session then goes live) or take it offline."""
    with transaction.atomic():
        visitor = get_visitor(short_id)
        visitor.is_online = online
        if online:
            visitor.last_seen_at = now()
            FakeSession.objects.filter(
                visitor=visitor, ended_at__isnull=True, went_live=False
            ).update(went_live=True)
        visitor.save()
    return visitor


def delete_visitor(short_id: str) -> bool:
    """Delete a visitor and its sessions; False when there was none."""
    deleted, _ = FakeVisitor.objects.filter(pk=short_id).delete()
    return deleted > 0


def add_session(
    short_id: str,
    *,
    agent_name: str = "Sam Agent",
    agent_identifier: str | None = None,
    started_at: dt.datetime | None = None,
    length_seconds: int = 60,
    metadata: Mapping[str, Any] | None = None,
    features_used: Iterable[str] = ("click",),
) -> FakeSession:
    """Add a past (ended) session to a visitor's history."""
    visitor = get_visitor(short_id)
    started = started_at or now() - dt.timedelta(seconds=length_seconds + 60)
    agent = _agent(agent_identifier, agent_name)
    session = FakeSession.objects.create(
        visitor=visitor,
        started_at=started,
        ended_at=started + dt.timedelta(seconds=length_seconds),
        length_seconds=length_seconds,
        went_live=True,
        features_used=list(features_used),
        metadata=dict(metadata or {}),
        utc_offset_minutes=visitor.utc_offset_minutes,
    )
    FakeSessionAgent.objects.create(session=session, agent=agent)
    return session


# -- sessions and watch URLs ------------------------------------------------


def _agent(agent_identifier: str | None, name: str) -> FakeAgent:
    if agent_identifier is None:
        # A team member using the Upscope app rather than the REST API.
        member = FakeAgent.objects.filter(type="agent", name=name).order_by("id").first()
        return member or FakeAgent.objects.create(name=name, type="agent")
    agent, created = FakeAgent.objects.get_or_create(
        type="external_agent", agent_identifier=agent_identifier, defaults={"name": name}
    )
    if not created and agent.name != name:
        agent.name = name
        agent.save(update_fields=["name"])
    return agent


def active_session_count() -> int:
    """Visitors in a session now (what the concurrent-session limit counts)."""
    return FakeVisitor.objects.filter(is_in_session=True).count()


class SessionLimitReached(Exception):
    """Starting one more session would pass ``UPSCOPE["FAKE_SESSION_LIMIT"]``."""


def start_session(
    visitor: FakeVisitor,
    *,
    agent_id: str,
    agent_name: str,
    branding: Mapping[str, Any] | None = None,
    permissions: Mapping[str, bool] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> tuple[FakeSession, str]:
    """Start (or join) the visitor's session for an external agent; return it and a token.

    The token is returned once and only its hash is stored. A visitor already
    in a session is joined by the new agent rather than counted twice against
    the session limit.
    """
    with transaction.atomic():
        session = (
            FakeSession.objects.filter(visitor=visitor, ended_at__isnull=True)
            .order_by("-started_at")
            .first()
        )
        if session is None:
            if active_session_count() >= int(upscope_settings.FAKE_SESSION_LIMIT):
                raise SessionLimitReached
            session = FakeSession.objects.create(
                visitor=visitor,
                started_at=now(),
                went_live=visitor.is_online,
                features_used=[],
                metadata=dict(metadata or {}),
                utc_offset_minutes=visitor.utc_offset_minutes,
            )
            FakeVisitor.objects.filter(pk=visitor.pk).update(is_in_session=True)
            visitor.is_in_session = True
        elif metadata:
            session.metadata = {**(session.metadata or {}), **metadata}
            session.save(update_fields=["metadata"])
        agent = _agent(str(agent_id), agent_name)
        FakeSessionAgent.objects.get_or_create(session=session, agent=agent)
        granted = {**DEFAULT_PERMISSIONS, **dict(permissions or {})}
        features = [
            name.removeprefix("allow_")
            for name in ("allow_click", "allow_draw", "allow_scroll")
            if granted[name]
        ]
        session.features_used = sorted(set(session.features_used or []) | set(features))
        session.save(update_fields=["features_used"])
        token = secrets.token_urlsafe(32)
        FakeWatchToken.objects.create(
            token_hash=hash_token(token),
            session=session,
            agent=agent,
            branding=dict(branding or {}),
            permissions=granted,
            created_at=now(),
        )
    return session, token


def stop_session(visitor: FakeVisitor) -> FakeSession | None:
    """End the visitor's active session, if any; return it."""
    with transaction.atomic():
        session = (
            FakeSession.objects.filter(visitor=visitor, ended_at__isnull=True)
            .order_by("-started_at")
            .first()
        )
        if session is not None:
            # The length is the session's whole life, from start to stop, on the fake's clock.
            ended = now()
            session.ended_at = ended
            session.length_seconds = elapsed_seconds(session.started_at, ended)
            session.save(update_fields=["ended_at", "length_seconds"])
        FakeVisitor.objects.filter(pk=visitor.pk).update(is_in_session=False)
        visitor.is_in_session = False
    return session


def watch_token(token: str) -> FakeWatchToken | None:
    """The minted watch URL with this token, or None."""
    return (
        FakeWatchToken.objects.select_related("session__visitor", "agent")
        .filter(token_hash=hash_token(token))
        .first()
    )


def session_status(session: FakeSession) -> str:
    """``ended``, ``active`` (the visitor is sharing) or ``waiting`` (not online yet)."""
    if session.ended_at is not None:
        return "ended"
    return "active" if session.went_live else "waiting"


# -- purge ------------------------------------------------------------------


def schedule_purge(delay: float | None = None) -> FakePurge:
    """Remove offline visitors ``delay`` seconds from now (``FAKE_PURGE_DELAY`` by default)."""
    seconds = float(upscope_settings.FAKE_PURGE_DELAY if delay is None else delay)
    return FakePurge.objects.create(run_at=now() + dt.timedelta(seconds=seconds))


def run_due_purges() -> int:
    """Apply every purge whose time has come; return how many visitors were removed.

    Called at the start of each API request: the fake needs no background job.
    """
    due = list(FakePurge.objects.filter(run_at__lte=now()).values_list("id", flat=True))
    if not due:
        return 0
    with transaction.atomic():
        _, per_model = FakeVisitor.objects.filter(is_online=False, is_in_session=False).delete()
        FakePurge.objects.filter(id__in=due).delete()
    return per_model.get(FakeVisitor._meta.label, 0)


# -- usage ------------------------------------------------------------------


def usage() -> dict[str, Any]:
    """The ``usage`` figures computed from the fake's visitors and sessions."""
    moment = now()
    day = moment - dt.timedelta(hours=24)
    month = moment - dt.timedelta(days=30)
    today = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    visitors = FakeVisitor.objects
    sessions_today = FakeSession.objects.filter(started_at__gte=today)
    sessions_month = FakeSession.objects.filter(started_at__gte=month)

    def seconds(sessions: Any) -> int:
        ended = sessions.filter(ended_at__isnull=False).aggregate(total=Sum("length_seconds"))
        active = sessions.filter(ended_at__isnull=True)
        return int(ended["total"] or 0) + sum(elapsed_seconds(s.started_at, moment) for s in active)

    def agents_since(since: dt.datetime) -> int:
        return (
            FakeSessionAgent.objects.filter(session__started_at__gte=since)
            .values("agent_id")
            .distinct()
            .count()
        )

    return {
        "visitors": {
            "online_now": visitors.filter(is_online=True).count(),
            "last_24_hrs": visitors.filter(last_seen_at__gte=day).count(),
            "last_30_days": visitors.filter(last_seen_at__gte=month).count(),
        },
        "agents": {"today": agents_since(today), "last_30_days": agents_since(month)},
        "session_counts": {
            "now": FakeSession.objects.filter(ended_at__isnull=True).count(),
            "today": sessions_today.count(),
            "last_30_days": sessions_month.count(),
        },
        "session_seconds": {
            "today": seconds(sessions_today),
            "last_30_days": seconds(sessions_month),
        },
    }


# -- faults -----------------------------------------------------------------


def inject_fault(
    endpoint: str,
    *,
    status: int | None = None,
    times: int | None = 1,
    retry_after: float | str | None = None,
    delay: float | None = None,
    drop: bool | DropMode = False,
    body: Any = None,
    content_type: str | None = None,
    code: str | None = None,
) -> FakeFault:
    """Make the next ``times`` calls of ``endpoint`` (a name in :data:`ENDPOINTS` or ``"*"``) fail.

    - ``status``: answer this HTTP status instead (with an Upscope-style error
      body ``{"status": "error", "error": code}`` unless ``body`` is given);
      ``code`` picks the error code (e.g. ``"subscription_expired"`` with 401).
    - ``retry_after``: add a ``Retry-After`` header (seconds, or an HTTP date).
    - ``delay``: wait this many seconds before answering (the request is still
      served, as when an answer is lost to a client timeout).
    - ``drop``: close the connection instead of answering: ``True`` or
      ``"before"`` before any byte, ``"partial"`` after the headers and part of
      the body.
    - ``body``: answer this body (status 200 unless ``status`` is given): a
      dict or list is sent as JSON (use it for a wrong shape), a string as is
      (HTML, truncated JSON...). ``content_type`` overrides the Content-Type.
    - ``times=None`` keeps the fault until :func:`reset` or :func:`clear_faults`.

    Faults are checked in the order they were added, before the credentials.
    """
    if endpoint != "*" and endpoint not in ENDPOINTS:
        raise FakeStateError(
            f"unknown endpoint {endpoint!r}; known: {', '.join(sorted(ENDPOINTS))} or '*'"
        )
    if times is not None and times < 1:
        raise FakeStateError("times must be at least 1 (or None for every call)")
    if status is not None and not 100 <= int(status) <= 599:
        raise FakeStateError(f"status must be an HTTP status code, got {status!r}")
    drop_mode = "before" if drop is True else (drop or "")
    if drop_mode not in ("", "before", "partial"):
        raise FakeStateError("drop must be True, False, 'before' or 'partial'")
    if status is None and body is None and delay is None and not drop_mode:
        raise FakeStateError("a fault needs a status, a body, a delay or drop")
    if body is not None and not isinstance(body, (str, bytes)):
        body = json.dumps(body)
        content_type = content_type or "application/json"
    elif isinstance(body, bytes):
        body = body.decode("utf-8")
    return FakeFault.objects.create(
        endpoint=endpoint,
        remaining=times,
        status=status,
        code=code or "",
        retry_after="" if retry_after is None else str(retry_after),
        delay=delay,
        drop=drop_mode,
        body=body,
        content_type=content_type or "",
    )


def take_fault(endpoint: str) -> FakeFault | None:
    """Consume one use of the first fault that applies to ``endpoint``, if any."""
    candidates = FakeFault.objects.filter(Q(endpoint=endpoint) | Q(endpoint="*")).filter(
        Q(remaining__isnull=True) | Q(remaining__gt=0)
    )
    for fault in candidates.order_by("id"):
        if fault.remaining is None:
            return fault
        # A conditional decrement: two server threads never consume the same use.
        taken = FakeFault.objects.filter(pk=fault.pk, remaining__gt=0).update(
            remaining=F("remaining") - 1
        )
        if taken:
            FakeFault.objects.filter(pk=fault.pk, remaining__lte=0).delete()
            return fault
    return None


def clear_faults() -> None:
    """Remove every injected fault."""
    FakeFault.objects.all().delete()


# -- the request log --------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    """A request the fake's API received, with its credentials judged but not kept.

    ``credentials`` is ``"valid"``, ``"missing"``, ``"invalid"`` or the 401 code
    a ``fake_...`` key selects (e.g. ``"subscription_expired"``). Secret
    headers (``X-Api-Key``, ``Authorization``, ``Cookie``) appear in
    ``headers`` with the value ``"[redacted]"``.
    """

    method: str
    path: str
    query: dict[str, Any]
    headers: dict[str, str]
    json: Any
    endpoint: str
    credentials: str
    status: int | None
    body_text: str = field(default="", repr=False)

    def header(self, name: str) -> str | None:
        """A header's value, looked up case-insensitively."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


def received_requests(endpoint: str | None = None) -> list[RecordedRequest]:
    """The requests the fake's API received, oldest first (optionally of one endpoint)."""
    rows = FakeRequest.objects.order_by("id")
    if endpoint is not None:
        rows = rows.filter(endpoint=endpoint)
    return [
        RecordedRequest(
            method=row.method,
            path=row.path,
            query=row.query,
            headers=row.headers,
            json=row.json_body,
            endpoint=row.endpoint,
            credentials=row.credentials,
            status=row.status,
            body_text=row.body_text,
        )
        for row in rows
    ]


def clear_requests() -> None:
    """Forget the request log."""
    FakeRequest.objects.all().delete()


# -- everything -------------------------------------------------------------


def reset() -> None:
    """Delete all of the fake's state: visitors, sessions, agents, faults, log, purges."""
    with transaction.atomic():
        for model in (
            FakeWatchToken,
            FakeSessionAgent,
            FakeSession,
            FakeAgent,
            FakeVisitor,
            FakeFault,
            FakeRequest,
            FakePurge,
        ):
            model.objects.all().delete()


def seed(
    visitors: int = 50,
    seed: int = 0,
    *,
    anchor: dt.datetime | None = None,
    sessions: int | None = None,
) -> list[str]:
    """Create ``visitors`` realistic visitors, deterministically for a given ``seed``.

    Returns their short_ids. Each gets ``sessions`` past sessions (0-5 at
    random by default). Timestamps are placed relative to ``anchor`` (by
    default a fixed moment, so the same seed gives the same payloads; pass
    ``timezone.now()`` for a live-looking demo). See
    :mod:`django_upscope.fake.seeding`.
    """
    return seed_visitors(visitors, seed, anchor=anchor, sessions=sessions)
