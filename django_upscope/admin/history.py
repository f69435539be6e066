"""The visitor page's "Fetch history" endpoint: ask Upscope for the visitor's pageviews and
screenshots now, store them in the mirror, and go back to the page with a message.

It is one POST (CSRF-protected, the change form's own token) behind the refresh
permission, through :func:`django_upscope.services.refresh_visitor` with
``with_history=True``; an Upscope error becomes a message in
:func:`django_upscope.presentation.describe`'s words, never an error page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, re_path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import services
from ..exceptions import UpscopeError
from ..presentation import describe
from ..transactions import outside_request_transaction
from ..vocabulary import SHORT_ID_RE
from .common import admin_actor, admin_url


def fetch_history_url(model_admin: admin.ModelAdmin, short_id: str) -> str:
    """Where the "Fetch history" button of ``short_id``'s page posts."""
    return admin_url(model_admin, "fetch_history", short_id)


def fetch_history_urls(model_admin: admin.ModelAdmin) -> list[URLPattern]:
    """The endpoint's URL, for ``model_admin.get_urls()`` (before the admin's catch-all)."""
    opts = model_admin.model._meta
    info = f"{opts.app_label}_{opts.model_name}"

    @outside_request_transaction
    def view(request: HttpRequest, short_id: str) -> HttpResponse:
        return fetch_history(model_admin, request, short_id)

    return [
        re_path(
            r"^(?P<short_id>.+)/history/fetch/$",
            model_admin.admin_site.admin_view(require_POST(view)),
            name=f"{info}_fetch_history",
        )
    ]


def swap_field(fieldsets: Any, old: str, new: str) -> list[tuple[Any, dict[str, Any]]]:
    """``fieldsets`` with the field ``old`` shown as ``new`` (the others as they were)."""

    def swap(field: Any) -> Any:
        if isinstance(field, (list, tuple)):
            return type(field)(swap(item) for item in field)
        return new if field == old else field

    return [(name, {**opts, "fields": swap(opts["fields"])}) for name, opts in fieldsets]


def fetch_history(model_admin: Any, request: HttpRequest, short_id: str) -> HttpResponse:
    """Refresh the visitor with its history; a message and a redirect to its page."""
    if not SHORT_ID_RE.fullmatch(short_id):
        raise Http404("Not a visitor id.")
    back = HttpResponseRedirect(admin_url(model_admin, "change", short_id))
    try:
        visitor = services.refresh_visitor(admin_actor(request), short_id, with_history=True)
    except PermissionDenied:
        messages.error(request, _("You do not have the permission to refresh visitors."))
        return back
    except UpscopeError as exc:
        messages.error(
            request, _("The history was not fetched. %(error)s") % {"error": describe(exc).text}
        )
        return back
    messages.success(
        request, _("Fetched the history of visitor %(id)s.") % {"id": visitor.short_id}
    )
    return back
