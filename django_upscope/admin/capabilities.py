"""The admin offers only what the configured Upscope server can do.

What the server can do is :func:`django_upscope.capabilities.supports`; this module maps the
admin's actions to those operations, and gives the clear page a URL answers when it is
reached anyway (a bookmark, a link from before the server changed).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from ..capabilities import server_notice, supports, unsupported_message
from ..exceptions import UpscopeNotSupported
from ..presentation import describe

__all__ = [
    "PURGE",
    "SHARE",
    "can_share",
    "not_offered_page",
    "offered_actions",
    "page_context",
]

#: The visitor admin's actions that call Upscope, by the operation each needs.
ACTION_OPERATIONS: dict[str, str] = {
    "delete_visitors": "delete_visitor",
    "purge_offline_visitors": "purge_offline_visitors",
    "stop_sessions": "stop_session",
}

SHARE = "create_watch_url"
PURGE = "purge_offline_visitors"


def can_share() -> bool:
    """The server mints watch URLs: share buttons, columns and links are offered."""
    return supports(SHARE)


def offered_actions(actions: dict[str, Any]) -> dict[str, Any]:
    """``actions`` without those the server cannot do (they could only fail)."""
    return {
        name: action
        for name, action in actions.items()
        if name not in ACTION_OPERATIONS or supports(ACTION_OPERATIONS[name])
    }


def page_context() -> dict[str, Any]:
    """What the visitor pages' templates need: whether to link sharing, the notice line."""
    return {"upscope_can_share": can_share(), "upscope_server_notice": server_notice()}


def not_offered_page(
    model_admin: admin.ModelAdmin, request: HttpRequest, operation: str, **context: Any
) -> TemplateResponse:
    """The page a URL of an operation the server lacks answers: what and why, no 500."""
    error = UpscopeNotSupported(unsupported_message(operation))
    description = describe(error)
    site = model_admin.admin_site
    request.current_app = site.name
    full = {
        **site.each_context(request),
        "opts": model_admin.model._meta,
        "title": description.title,
        "explanation": description.explanation,
        "code": error.code,
        **context,
    }
    return TemplateResponse(request, "django_upscope/error.html", full, status=description.status)
