"""Who acted, and the audit trail of what they did: the only writer of AuditEvent rows.

An :class:`Actor` is the person (or ``None`` for the server itself) and where they
acted from (``AuditEvent.Source``). :func:`record` writes one
:class:`~django_upscope.models.AuditEvent`; :func:`record_failure` writes the
``failure`` row of an :class:`~django_upscope.exceptions.UpscopeError` raised inside
it. Text bound for the trail is scrubbed of the API keys and of any watch URL, of
which only an HMAC (:func:`watch_url_hmac`) is kept.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from .conf import upscope_settings
from .exceptions import UpscopeError
from .models import AuditEvent

logger = logging.getLogger("django_upscope.services")

Action = AuditEvent.Action
Outcome = AuditEvent.Outcome
Source = AuditEvent.Source

#: The values of :class:`AuditEvent.Source` (kept for ``services.SOURCES``).
SOURCES: tuple[str, ...] = tuple(Source.values)
REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"
_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,64}")


@dataclass
class Actor:
    """Who is acting, from where: the person (or ``None`` for the server itself)."""

    user: Any
    client_ip: str | None = None
    request_id: str = ""
    source: str = Source.COMMAND
    request: HttpRequest | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"Actor.source must be one of {SOURCES}, got {self.source!r}")
        # A plain str, whether given as "admin" or as Source.ADMIN.
        self.source = str(Source(self.source))
        if not self.request_id:
            self.request_id = uuid.uuid4().hex

    @property
    def username(self) -> str:
        if self.user is None:
            return ""
        return str(self.user.get_username())[:255]


def actor_from_request(request: HttpRequest, source: str) -> Actor:
    """The :class:`Actor` for a request: its user, ``REMOTE_ADDR`` and a request id.

    The request id is taken from an ``X-Request-ID`` header when it is a safe
    token (so it matches the proxy's logs), else generated. The client IP is
    ``REMOTE_ADDR``: behind a proxy, set it from the trusted forwarding header
    in a middleware of your own, as Django does not guess.
    """
    header = request.META.get(REQUEST_ID_HEADER, "")
    request_id = header if _REQUEST_ID_RE.fullmatch(header or "") else uuid.uuid4().hex
    user = getattr(request, "user", None)
    if user is not None and not user.is_authenticated:
        user = None
    return Actor(
        user=user,
        client_ip=_valid_ip(request.META.get("REMOTE_ADDR")),
        request_id=request_id,
        source=source,
        request=request,
    )


def _valid_ip(value: Any) -> str | None:
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        return None


def watch_url_hmac(watch_url: str) -> str:
    """HMAC-SHA256 of a watch URL keyed with ``SECRET_KEY`` (hex): what the audit keeps."""
    return hmac.new(
        settings.SECRET_KEY.encode(), str(watch_url).encode(), hashlib.sha256
    ).hexdigest()


def _secrets() -> list[str]:
    keys = (upscope_settings.API_KEY, upscope_settings.REST_KEY)
    return [str(v) for v in keys if v]


def scrub(text: str, *extra: str) -> str:
    """Remove the API keys and any given secret from text bound for the audit trail."""
    for secret in [*_secrets(), *extra]:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text[:2000]


def audited_id(short_id: Any) -> str:
    """A short id as the trail shows it: a non-string (bad input) is kept as its repr."""
    return short_id if isinstance(short_id, str) else repr(short_id)


def record(
    actor: Actor,
    action: AuditEvent.Action,
    outcome: AuditEvent.Outcome,
    *,
    short_id: str = "",
    error: UpscopeError | None = None,
    detail: str = "",
    permissions: Mapping[str, bool] | None = None,
    metadata: Mapping[str, Any] | None = None,
    watch_url: str | None = None,
    status_code: int | None = None,
) -> AuditEvent:
    """Write one AuditEvent for ``actor`` (``error`` fills the code, status and detail)."""
    if error is not None:
        detail = detail or error.message
        status_code = error.status_code if status_code is None else status_code
    user = actor.user
    return AuditEvent.objects.create(
        action=action,
        outcome=outcome,
        user=user if user is not None and getattr(user, "pk", None) is not None else None,
        username=actor.username,
        visitor_short_id=str(short_id)[:128],
        source=actor.source,
        permissions=dict(permissions or {}),
        metadata=dict(metadata or {}),
        client_ip=actor.client_ip,
        request_id=actor.request_id[:64],
        error_code=(error.code if error is not None else "")[:64],
        status_code=status_code,
        detail=scrub(detail, *([watch_url] if watch_url else [])),
        watch_url_hash=watch_url_hmac(watch_url) if watch_url else "",
    )


@contextmanager
def record_failure(
    actor: Actor, action: AuditEvent.Action, short_id: Any = "", *, note: str = ""
) -> Iterator[dict[str, Any]]:
    """Record a ``failure`` AuditEvent for an UpscopeError raised inside, then re-raise it.

    Yields a dict for audit fields known only inside the block (``permissions``,
    ``metadata``); ``note`` is added to the error's message in the row's detail.
    """
    fields: dict[str, Any] = {}
    try:
        yield fields
    except UpscopeError as exc:
        shown = audited_id(short_id)
        record(
            actor,
            action,
            Outcome.FAILURE,
            short_id=shown,
            error=exc,
            detail=f"{exc.message} {note}".strip(),
            **fields,
        )
        logger.warning("Upscope %s for visitor %r failed: %s", action.value, shown[:128], exc.code)
        raise
