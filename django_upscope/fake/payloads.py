"""The fake's models as Upscope's documented JSON payloads (``docs/upscope-api.md``,
"The visitor object").

The builders are called ``fake_visitor_payload`` / ``fake_session_payload`` so they
are not mistaken for :func:`django_upscope.testing.factories.visitor_payload`, which
builds a payload from keyword arguments rather than from the fake's rows.

The formatting helpers (``formatted_length``, ``session_timestamp``...) are also used by
:mod:`django_upscope.testing.factories`, which may run without the fake installed, so the
fake's models are imported for type checking only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import FakeSession, FakeVisitor

# The team every fake session belongs to (``session.team``, "The visitor object").
FAKE_TEAM: dict[str, Any] = {"id": 1, "domain": "example.com", "_type": "team"}
# Visitors list "recent" sessions: keep the newest few, as Upscope does.
MAX_SESSIONS_PER_VISITOR = 20


def visitor_timestamp(value: dt.datetime | None) -> str | None:
    """Visitor timestamps are UTC with a ``Z``: ``2018-03-16T15:25:59.000Z``."""
    if value is None:
        return None
    utc = value.astimezone(dt.timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def session_timestamp(value: dt.datetime | None, offset_minutes: int) -> str | None:
    """Session timestamps carry an offset: ``2018-07-05T11:53:38.000+01:00``."""
    if value is None:
        return None
    zone = dt.timezone(dt.timedelta(minutes=offset_minutes))
    return value.astimezone(zone).isoformat(timespec="milliseconds")


def formatted_length(seconds: int) -> str:
    """A rough human length, like Upscope's ``"1 minute"`` for 91 seconds."""
    if seconds <= 0:
        return "-"
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def elapsed_seconds(start: dt.datetime, end: dt.datetime) -> int:
    """Whole seconds from ``start`` to ``end`` (0 if the clock went backwards)."""
    return max(0, int((end - start).total_seconds()))


def session_length(session: FakeSession, now: dt.datetime) -> int:
    """Seconds the session lasted (recorded when it ended), or has lasted so far."""
    if session.ended_at is not None:
        return session.length_seconds
    return elapsed_seconds(session.started_at, now)


def fake_session_payload(session: FakeSession, now: dt.datetime) -> dict[str, Any]:
    """One entry of ``visitor.sessions``."""
    length = session_length(session, now)
    offset = session.utc_offset_minutes
    return {
        "id": session.id,
        "length_seconds": length,
        "formatted_length": formatted_length(length),
        "call_length_seconds": session.call_length_seconds,
        "formatted_call_length": formatted_length(session.call_length_seconds),
        "started_at": session_timestamp(session.started_at, offset),
        "ended_at": session_timestamp(session.ended_at, offset),
        "went_live": session.went_live,
        "features_used": list(session.features_used or []),
        "visitor_id": session.visitor_id,
        "team": dict(FAKE_TEAM),
        # In the order they were created (a many-to-many has none of its own: PostgreSQL may
        # return them in any order, and the same seed must give the same payload).
        "agents": [a.as_payload() for a in sorted(session.agents.all(), key=lambda a: a.pk)],
        "metadata": dict(session.metadata or {}),
        "_type": "session",
    }


def fake_visitor_payload(
    visitor: FakeVisitor,
    now: dt.datetime,
    *,
    with_history: bool = False,
    sessions: Iterable[FakeSession] | None = None,
) -> dict[str, Any]:
    """The documented ``visitor`` object; ``history`` only ``with_history``.

    Pass ``sessions`` (newest first) when they were prefetched; otherwise they
    are read from the database.
    """
    if sessions is None:
        sessions = visitor.sessions.prefetch_related("agents").order_by("-started_at", "-id")
    recent = list(sessions)[:MAX_SESSIONS_PER_VISITOR]
    payload: dict[str, Any] = {
        "api_key": visitor.api_key,
        "browser_name": visitor.browser_name,
        "device_name": visitor.device_name,
        "device_type": visitor.device_type,
        "first_seen_at": visitor_timestamp(visitor.first_seen_at),
        "identities": list(visitor.identities) if visitor.identities else None,
        "integration": visitor.integration,
        "ip_address": visitor.ip_address,
        "is_in_session": visitor.is_in_session,
        "is_online": visitor.is_online,
        "js_configuration": visitor.js_configuration,
        "last_seen_at": visitor_timestamp(visitor.last_seen_at),
        "last_url": visitor.last_url,
        "location_city": visitor.location_city,
        "location_country": visitor.location_country,
        "location_country_name": visitor.location_country_name,
        "lookup_code": visitor.lookup_code,
        "short_id": visitor.short_id,
        "tags": list(visitor.tags or []),
        "unique_id": visitor.unique_id,
        "sessions": [fake_session_payload(s, now) for s in recent],
        "_type": "visitor",
    }
    if with_history:
        # Its fields are undocumented ("The visitor object"): pageviews and screenshots.
        payload["history"] = visitor.history or {"pageviews": [], "screenshots": []}
    return payload
