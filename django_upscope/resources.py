"""Typed results parsed from Upscope's payloads.

Field names follow Upscope's documentation (cloud API v1.1; see
``docs/upscope-api.md``). Each object keeps the payload it was parsed from in
``raw``, so fields Upscope adds later are never lost. Parsing is tolerant of
missing documented fields (the on-premise visitor "may differ slightly") but
strict about shape: a payload that is not the documented kind of object raises
:class:`~django_upscope.exceptions.UpscopeInvalidResponse`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from django.utils.dateparse import parse_datetime as parse_iso_datetime

from .exceptions import UpscopeInvalidResponse
from .vocabulary import (
    MAX_JSON_DEPTH,
    MAX_UPSTREAM_HISTORY_BYTES,
    MAX_UPSTREAM_METADATA_BYTES,
    MAX_UPSTREAM_VISITOR_BYTES,
    SHORT_ID_RE,
)

logger = logging.getLogger("django_upscope.client")

JSONDict = dict[str, Any]


class UnsafeUpstreamValue(UpscopeInvalidResponse):
    """A value from Upscope this library will not store or use: an unsafe visitor id,
    or JSON nested too deeply or too large. A listing drops the entry; a detail
    answer with one is invalid."""


def json_too_deep(value: Any, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``value`` (parsed JSON) nests lists and objects deeper than ``max_depth``.

    Iterative, so a value of any depth is judged without recursion.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth + 1 > max_depth:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def check_json(value: Any, where: str, max_bytes: int) -> Any:
    """``value`` if it nests at most ``MAX_JSON_DEPTH`` deep and serializes to at most
    ``max_bytes``; else :class:`UnsafeUpstreamValue` (naming limits, not content)."""
    if json_too_deep(value):
        raise UnsafeUpstreamValue(f"{where} nests deeper than {MAX_JSON_DEPTH} levels")
    # Safe now: the depth is bounded, so serializing cannot overflow the stack.
    if len(json.dumps(value, default=str)) > max_bytes:
        raise UnsafeUpstreamValue(f"{where} is larger than {max_bytes} bytes")
    return value


def safe_short_id(value: Any) -> str:
    """A visitor id from Upscope, if it is a safe token (``SHORT_ID_RE``), else
    :class:`UnsafeUpstreamValue`: it would reach URL paths, links and logs."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or value == "":
        raise UpscopeInvalidResponse("visitor has no short_id")
    if not SHORT_ID_RE.fullmatch(value):
        raise UnsafeUpstreamValue("visitor short_id is not a safe token")
    return value


class WatchURL(str):
    """A minted watch URL: a bearer secret (whoever holds it can watch the screen).

    It behaves as the plain ``str`` it is, but its ``repr`` is redacted so that it
    does not end up in tracebacks, debug pages or log records by accident.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "<WatchURL redacted>"


def parse_datetime(value: Any, where: str) -> dt.datetime | None:
    """Parse an ISO 8601 timestamp to an aware datetime (``None`` stays ``None``)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise UpscopeInvalidResponse(f"{where} is not a timestamp string")
    try:
        # Django's parser takes what Python 3.10's fromisoformat does not (``.12``
        # fractions, ``+0100`` offsets, ``Z``), so every supported Python agrees.
        parsed = parse_iso_datetime(value.strip())
    except ValueError:
        # Not chained: ValueError's text repeats the value, and answers are not ours to echo.
        raise UpscopeInvalidResponse(f"{where} is not an ISO 8601 timestamp") from None
    if parsed is None:
        raise UpscopeInvalidResponse(f"{where} is not an ISO 8601 timestamp")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed


def _dict(payload: Any, where: str) -> JSONDict:
    if not isinstance(payload, dict):
        raise UpscopeInvalidResponse(f"{where} is not a JSON object")
    return payload


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise UpscopeInvalidResponse(f"{where} is not a list")
    return value


def _str_list(value: Any, where: str) -> list[str]:
    return [str(item) for item in _list(value, where)]


def _int(value: Any, where: str, default: int | None = 0) -> int | None:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UpscopeInvalidResponse(f"{where} is not a number")
    return int(value)


def _opt_str(value: Any) -> str | None:
    if value is None:
        return None
    return str(value)


@dataclass(frozen=True)
class VisitorUsage:
    online_now: int
    last_24_hrs: int
    last_30_days: int


@dataclass(frozen=True)
class AgentUsage:
    today: int
    last_30_days: int


@dataclass(frozen=True)
class SessionCounts:
    now: int
    today: int
    last_30_days: int


@dataclass(frozen=True)
class SessionSeconds:
    today: int
    last_30_days: int


@dataclass(frozen=True)
class Usage:
    """``GET usage.json``: the account's rolling usage windows."""

    visitors: VisitorUsage
    agents: AgentUsage
    session_counts: SessionCounts
    session_seconds: SessionSeconds
    raw: JSONDict = field(repr=False, compare=False)

    @classmethod
    def from_payload(cls, payload: Any) -> Usage:
        body = _dict(payload, "usage response")
        usage = _dict(body.get("usage"), "usage")

        def section(name: str) -> JSONDict:
            value = usage.get(name)
            return {} if value is None else _dict(value, f"usage.{name}")

        v, a = section("visitors"), section("agents")
        c, s = section("session_counts"), section("session_seconds")

        def n(part: JSONDict, key: str, where: str) -> int:
            return _int(part.get(key), f"usage.{where}.{key}") or 0

        return cls(
            visitors=VisitorUsage(
                online_now=n(v, "online_now", "visitors"),
                last_24_hrs=n(v, "last_24_hrs", "visitors"),
                last_30_days=n(v, "last_30_days", "visitors"),
            ),
            agents=AgentUsage(
                today=n(a, "today", "agents"), last_30_days=n(a, "last_30_days", "agents")
            ),
            session_counts=SessionCounts(
                now=n(c, "now", "session_counts"),
                today=n(c, "today", "session_counts"),
                last_30_days=n(c, "last_30_days", "session_counts"),
            ),
            session_seconds=SessionSeconds(
                today=n(s, "today", "session_seconds"),
                last_30_days=n(s, "last_30_days", "session_seconds"),
            ),
            raw=usage,
        )


@dataclass(frozen=True)
class TeamData:
    id: int | None
    domain: str | None


@dataclass(frozen=True)
class AgentData:
    """An agent who took part in a session (``_type`` is ``type`` here)."""

    id: int | None
    name: str | None
    agent_identifier: str | None
    type: str | None
    raw: JSONDict = field(repr=False, compare=False)

    @classmethod
    def from_payload(cls, payload: Any) -> AgentData:
        body = _dict(payload, "session agent")
        return cls(
            id=_int(body.get("id"), "agent.id", default=None),
            name=_opt_str(body.get("name")),
            agent_identifier=_opt_str(body.get("agent_identifier")),
            type=_opt_str(body.get("_type")),
            raw=body,
        )


@dataclass(frozen=True)
class SessionData:
    """One screen-sharing session, as embedded in a visitor's ``sessions``."""

    id: int
    visitor_id: str | None
    length_seconds: int
    formatted_length: str | None
    call_length_seconds: int
    formatted_call_length: str | None
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    went_live: bool
    features_used: list[str]
    team: TeamData | None
    agents: list[AgentData]
    metadata: JSONDict
    raw: JSONDict = field(repr=False, compare=False)

    @classmethod
    def from_payload(cls, payload: Any) -> SessionData:
        body = _dict(payload, "session")
        session_id = _int(body.get("id"), "session.id", default=None)
        if session_id is None:
            raise UpscopeInvalidResponse("session has no id")
        team_body = body.get("team")
        team = None
        if team_body is not None:
            team_dict = _dict(team_body, "session.team")
            team = TeamData(
                id=_int(team_dict.get("id"), "session.team.id", default=None),
                domain=_opt_str(team_dict.get("domain")),
            )
        metadata = check_json(
            body.get("metadata") or {}, "session.metadata", MAX_UPSTREAM_METADATA_BYTES
        )
        return cls(
            id=session_id,
            visitor_id=_opt_str(body.get("visitor_id")),
            length_seconds=_int(body.get("length_seconds"), "session.length_seconds") or 0,
            formatted_length=_opt_str(body.get("formatted_length")),
            call_length_seconds=_int(body.get("call_length_seconds"), "session.call_length_seconds")
            or 0,
            formatted_call_length=_opt_str(body.get("formatted_call_length")),
            started_at=parse_datetime(body.get("started_at"), "session.started_at"),
            ended_at=parse_datetime(body.get("ended_at"), "session.ended_at"),
            went_live=bool(body.get("went_live")),
            features_used=_str_list(body.get("features_used"), "session.features_used"),
            team=team,
            agents=[AgentData.from_payload(a) for a in _list(body.get("agents"), "session.agents")],
            metadata=_dict(metadata, "session.metadata"),
            raw=body,
        )


@dataclass(frozen=True)
class VisitorData:
    """A visitor, with the attributes documented for ``visitors/:id.json``.

    ``history`` is ``None`` unless the visitor was fetched ``with_history``; its
    content (pageviews and screenshots) is undocumented and kept as JSON.
    """

    short_id: str
    api_key: str | None
    browser_name: str | None
    device_name: str | None
    device_type: str | None
    first_seen_at: dt.datetime | None
    last_seen_at: dt.datetime | None
    identities: list[str]
    integration: str | None
    ip_address: str | None
    is_in_session: bool
    is_online: bool
    js_configuration: bool
    last_url: str | None
    location_city: str | None
    location_country: str | None
    location_country_name: str | None
    lookup_code: str | None
    tags: list[str]
    unique_id: str | None
    sessions: list[SessionData]
    history: Any
    raw: JSONDict = field(repr=False, compare=False)

    @property
    def display_name(self) -> str:
        """The first identity, else the unique_id, else the short_id."""
        if self.identities:
            return self.identities[0]
        return self.unique_id or self.short_id

    @classmethod
    def from_payload(cls, payload: Any) -> VisitorData:
        body = _dict(payload, "visitor")
        short_id = safe_short_id(body.get("short_id"))
        check_json(body, "visitor", MAX_UPSTREAM_VISITOR_BYTES)
        history = body.get("history")
        if history is not None:
            check_json(history, "visitor.history", MAX_UPSTREAM_HISTORY_BYTES)
        return cls(
            short_id=short_id,
            api_key=_opt_str(body.get("api_key")),
            browser_name=_opt_str(body.get("browser_name")),
            device_name=_opt_str(body.get("device_name")),
            device_type=_opt_str(body.get("device_type")),
            first_seen_at=parse_datetime(body.get("first_seen_at"), "visitor.first_seen_at"),
            last_seen_at=parse_datetime(body.get("last_seen_at"), "visitor.last_seen_at"),
            identities=_str_list(body.get("identities"), "visitor.identities"),
            integration=_opt_str(body.get("integration")),
            # The attribute table says "ip_addres"; the example payload says ip_address.
            ip_address=_opt_str(body.get("ip_address", body.get("ip_addres"))),
            is_in_session=bool(body.get("is_in_session")),
            is_online=bool(body.get("is_online")),
            js_configuration=bool(body.get("js_configuration")),
            last_url=_opt_str(body.get("last_url")),
            location_city=_opt_str(body.get("location_city")),
            location_country=_opt_str(body.get("location_country")),
            location_country_name=_opt_str(body.get("location_country_name")),
            lookup_code=_opt_str(body.get("lookup_code")),
            tags=_str_list(body.get("tags"), "visitor.tags"),
            unique_id=_opt_str(body.get("unique_id")),
            sessions=[
                SessionData.from_payload(s) for s in _list(body.get("sessions"), "visitor.sessions")
            ],
            history=history,
            raw=body,
        )


def visitors_from_list_payload(payload: Any) -> list[VisitorData]:
    """Parse ``{"status": "ok", "visitors": [...]}``.

    An entry with an unsafe id or oversized JSON (:class:`UnsafeUpstreamValue`) is
    left out with a logged warning, so one bad visitor does not hide the others.
    """
    body = _dict(payload, "visitor list response")
    if "visitors" not in body:
        raise UpscopeInvalidResponse("visitor list response has no 'visitors'")
    result = []
    for index, entry in enumerate(_list(body["visitors"], "visitors")):
        try:
            result.append(VisitorData.from_payload(entry))
        except UnsafeUpstreamValue as exc:
            # The position, never the id: the id is what is unsafe.
            logger.warning("Left out visitor #%d of Upscope's listing: %s", index, exc.message)
    return result


def visitor_from_detail_payload(payload: Any) -> VisitorData:
    """Parse ``{"status": "ok", "visitor": {...}}``."""
    body = _dict(payload, "visitor response")
    if "visitor" not in body:
        raise UpscopeInvalidResponse("visitor response has no 'visitor'")
    return VisitorData.from_payload(body["visitor"])
