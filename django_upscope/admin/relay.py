"""The share page's relay of the watch frame's session events (``<short_id>/screenshare/event/``).

The page's script sees the frame go ``active`` or ``ended`` (``postMessage``, its origin and
source checked) and POSTs ``{"event": ...}`` here, with the admin's CSRF token. The only
effect is :func:`django_upscope.services.relay_session_event`: the visitor refreshed from
Upscope, deduplicated.

Only the agent a share page was made for may relay its events: the page grants
(:func:`grant`) its agent and visitor for :data:`GRANT_SECONDS`, and an event for any other
pair is refused (403 ``no_share``), so the endpoint cannot be turned into Upscope GETs for
arbitrary ids. Each (visitor, agent) pair may relay :data:`RELAY_LIMIT` events, and each
agent :data:`RELAY_USER_LIMIT` in all, per :data:`RELAY_WINDOW_SECONDS`; the rest get 429.
The grants and counts live in Django's cache: with ``DummyCache`` nothing is granted and
every event is refused (the write-back after a mint or stop still runs).

Every answer is JSON: ``{"status": "ok", "refreshed": bool}`` or ``{"error", "detail"}``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _

from .. import services
from ..exceptions import UpscopeInvalidInput
from .common import admin_actor

__all__ = [
    "GRANT_SECONDS",
    "MAX_BODY_BYTES",
    "RELAY_LIMIT",
    "RELAY_USER_LIMIT",
    "RELAY_WINDOW_SECONDS",
    "grant",
    "relay_event",
]

#: A share page relays a handful of events; a client sending more is not that page.
RELAY_LIMIT = 10
#: An agent has a few share pages open at most.
RELAY_USER_LIMIT = 30
RELAY_WINDOW_SECONDS = 60
#: How long after the share page was served its events are taken.
GRANT_SECONDS = 4 * 3600
#: ``{"event": "active"}`` and a form's CSRF token fit many times over.
MAX_BODY_BYTES = 1024

_CACHE_PREFIX = "django_upscope:relay:"

logger = logging.getLogger("django_upscope.views")


def _error(code: str, detail: str, status: int) -> JsonResponse:
    return JsonResponse({"error": code, "detail": detail}, status=status)


def _event_of(request: HttpRequest) -> Any:
    """The ``event`` of a JSON or form body; None when there is none."""
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"null")
        except (UnicodeDecodeError, ValueError):
            return None
        return body.get("event") if isinstance(body, dict) else None
    return request.POST.get("event")


def grant(user_pk: Any, short_id: str) -> None:
    """Take this agent's events about ``short_id`` for a while: its share page was served."""
    try:
        cache.set(f"{_CACHE_PREFIX}grant:{user_pk}:{short_id}", 1, timeout=GRANT_SECONDS)
    except Exception as exc:  # a cache backend raises its own client's errors
        logger.warning("The relay's cache failed (%s): events will be refused.", type(exc).__name__)


def _granted(user_pk: Any, short_id: str) -> bool:
    return bool(cache.get(f"{_CACHE_PREFIX}grant:{user_pk}:{short_id}"))


def _count(key: str, limit: int) -> bool:
    """Count one event under ``key``; False past ``limit`` in the window."""
    if cache.add(key, 1, timeout=RELAY_WINDOW_SECONDS):
        return True
    try:
        return cache.incr(key) <= limit
    except ValueError:  # the count expired between add() and incr(): a new window
        cache.add(key, 1, timeout=RELAY_WINDOW_SECONDS)
        return True


def _allowed(user_pk: Any, short_id: str) -> bool:
    """Count one event of this (visitor, agent) pair and of this agent; False past a limit."""
    pair = _count(f"{_CACHE_PREFIX}{user_pk}:{short_id}", RELAY_LIMIT)
    return _count(f"{_CACHE_PREFIX}{user_pk}", RELAY_USER_LIMIT) and pair


def relay_event(request: HttpRequest, short_id: str) -> JsonResponse:
    """Refresh the visitor after a session event the share page relays (POST only)."""
    actor = admin_actor(request)
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = MAX_BODY_BYTES + 1
    if length > MAX_BODY_BYTES:
        return _error("request_too_large", _("The request body is too large."), 400)
    try:
        short_id, event = services.check_session_event(actor, short_id, _event_of(request))
        try:
            granted = _granted(request.user.pk, short_id)
            allowed = granted and _allowed(request.user.pk, short_id)
        except Exception as exc:  # as in grant(): refuse rather than answer 500
            logger.warning("The relay's cache failed (%s).", type(exc).__name__)
            detail = _("The event could not be checked; the visitor's page catches up later.")
            return _error("unavailable", detail, 503)
        if not granted:
            detail = _("No screen share with this visitor was started from this page.")
            return _error("no_share", detail, 403)
        if not allowed:
            detail = _("Too many session events for this visitor: try again in a minute.")
            response = _error("rate_limited", detail, 429)
            response["Retry-After"] = str(RELAY_WINDOW_SECONDS)
            return response
        visitor = services.relay_session_event(actor, short_id, event)
    except PermissionDenied:
        detail = _("You do not have the permission to start a screen share.")
        return _error("permission_denied", detail, 403)
    except UpscopeInvalidInput as exc:
        return _error(exc.code, exc.message, 400)
    return JsonResponse({"status": "ok", "refreshed": visitor is not None})
