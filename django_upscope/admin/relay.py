"""The share page's relay of the watch frame's session events (``<short_id>/screenshare/event/``).

The page's script sees the frame go ``active`` or ``ended`` (``postMessage``, its origin and
source checked) and POSTs ``{"event": ...}`` here, with the admin's CSRF token. The only
effect is :func:`django_upscope.services.relay_session_event`: the visitor refreshed from
Upscope, deduplicated. Each (visitor, agent) pair may relay :data:`RELAY_LIMIT` events per
:data:`RELAY_WINDOW_SECONDS` (Django's cache counts them); the rest get 429.

Every answer is JSON: ``{"status": "ok", "refreshed": bool}`` or ``{"error", "detail"}``.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _

from .. import services
from ..exceptions import UpscopeInvalidInput
from .common import admin_actor

__all__ = ["MAX_BODY_BYTES", "RELAY_LIMIT", "RELAY_WINDOW_SECONDS", "relay_event"]

#: A share page relays a handful of events; a client sending more is not that page.
RELAY_LIMIT = 10
RELAY_WINDOW_SECONDS = 60
#: ``{"event": "active"}`` and a form's CSRF token fit many times over.
MAX_BODY_BYTES = 1024

_CACHE_PREFIX = "django_upscope:relay:"


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


def _allowed(user_pk: Any, short_id: str) -> bool:
    """Count one event of this (visitor, agent) pair; False past the limit."""
    key = f"{_CACHE_PREFIX}{user_pk}:{short_id}"
    if cache.add(key, 1, timeout=RELAY_WINDOW_SECONDS):
        return True
    try:
        return cache.incr(key) <= RELAY_LIMIT
    except ValueError:  # the count expired between add() and incr(): a new window
        cache.add(key, 1, timeout=RELAY_WINDOW_SECONDS)
        return True


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
        if not _allowed(request.user.pk, short_id):
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
