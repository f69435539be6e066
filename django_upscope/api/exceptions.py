"""One JSON shape for every error the API answers: ``{"error": code, "detail": text}``.

:func:`api_exception_handler` is installed on django-upscope's views only (through
``get_exception_handler``), so a project keeps its own ``EXCEPTION_HANDLER`` for
everything else. Validation errors add ``"fields"``: the per-field messages.

Upscope's errors answer with the status of
:func:`django_upscope.presentation.describe`, the one mapping the admin uses too (the
README's table is the reference): 400 invalid input, 402 subscription limit, 404
visitor not found, 501 not supported on-premise, 502 refused credentials, missing
configuration or an unexpected answer, 503 unavailable (with ``Retry-After`` when
Upscope sent one), 504 timeout. ``error`` is the exception's ``code``.

Messages of :class:`~django_upscope.exceptions.UpscopeError` never hold the API key,
the REST key or a watch URL, so they are passed on as ``detail``.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from ..exceptions import UpscopeError
from ..presentation import describe
from .parsers import RequestTooLarge

logger = logging.getLogger("django_upscope.api")


def error_body(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"error": code, "detail": detail, **extra}


def _upscope_response(exc: UpscopeError) -> Response:
    description = describe(exc)
    headers = {}
    if description.retry_after is not None:
        headers["Retry-After"] = str(description.retry_after)
    if description.status >= 500:
        logger.warning(
            "Upscope error answered as %s: %s (upstream status %s)",
            description.status,
            exc.code,
            exc.status_code,
        )
    return Response(error_body(exc.code, exc.message), status=description.status, headers=headers)


def _first_message(detail: Any) -> str:
    """The first message of a (possibly nested) DRF error detail."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            message = _first_message(value)
            if message:
                prefix = "" if key == "non_field_errors" else f"{key}: "
                return prefix + message
        return ""
    if isinstance(detail, list):
        for value in detail:
            message = _first_message(value)
            if message:
                return message
        return ""
    return str(detail)


def _code(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return "invalid"
    detail = exc.detail
    code = getattr(detail, "code", None) or exc.default_code
    if code == "permission_denied" and str(detail).startswith("CSRF Failed"):
        # SessionAuthentication's CSRF refusal: say so, it is the usual SPA mistake.
        return "csrf_failed"
    return str(code)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler giving ``{"error": code, "detail": text}`` for every error.

    Returns ``None`` for exceptions nobody expected, so they reach Django's own
    500 handling and error reporting like any other bug.
    """
    # Under ATOMIC_REQUESTS, errors from the services are not rolled back: before raising
    # UpscopeError or PermissionDenied they write nothing but the audit row of the attempt
    # (failure or denied), and that row must be kept.
    if isinstance(exc, UpscopeError):
        return _upscope_response(exc)
    keep_writes = False
    if isinstance(exc, RequestDataTooBig):
        # Django's own limit, met where something read request.body: JSON, not its HTML 400.
        exc = RequestTooLarge.over_limit()
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
        keep_writes = True
    if not isinstance(exc, exceptions.APIException):
        return None

    headers = {}
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    wait = getattr(exc, "wait", None)
    if wait is not None:
        headers["Retry-After"] = str(max(1, math.ceil(wait)))

    extra: dict[str, Any] = {}
    if isinstance(exc.detail, (list, dict)):
        detail = _first_message(exc.detail) or "Invalid request."
        extra["fields"] = (
            exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        )
    else:
        detail = str(exc.detail)
    if not keep_writes:
        set_rollback()
    return Response(
        error_body(_code(exc), detail, **extra), status=exc.status_code, headers=headers
    )


def not_found_view(request: Any, *args: Any, **kwargs: Any) -> JsonResponse:
    """Anything under ``api/`` that no route matches (an invalid short_id, say): JSON 404."""
    return JsonResponse(error_body("not_found", "No API endpoint matches this URL."), status=404)
