"""The screen-share page: a staff user watches a visitor inside the admin.

``GET upscope/visitors/<short_id>/screenshare/`` mints a fresh watch URL on each
visit (through :func:`django_upscope.services.start_screenshare`) and renders it
in an iframe. ``POST upscope/visitors/<short_id>/session/stop/`` ends the session.

The watch URL is a bearer secret: the page is sent with ``Cache-Control: no-store``
and ``Referrer-Policy: no-referrer``, may not be framed by any site, and the URL
is never logged. Every Upscope error becomes a page a person understands.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from django.contrib import admin, messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import services
from .errors import describe
from .exceptions import UpscopeError
from .models import Visitor as VisitorRow

logger = logging.getLogger("django_upscope.views")


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render a page inside the admin's frame (header, user tools), with the secure headers."""
    full = {**admin.site.each_context(request), **context}
    return _secure(render(request, template, full, status=status))


def _secure(response: HttpResponse) -> HttpResponse:
    """Headers for pages that hold (or might hold) a watch URL."""
    add_never_cache_headers(response)
    response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Frame-Options"] = "DENY"
    response["Content-Security-Policy"] = "frame-ancestors 'none'"
    return response


def _admin_url(name: str, *args: Any) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _staff_gate(request: HttpRequest) -> HttpResponse | None:
    """Anonymous users go to the admin login; logged-in non-staff get 403. Else ``None``."""
    user = request.user
    if not user.is_authenticated:
        login_url = _admin_url("admin:login") or None
        return redirect_to_login(request.get_full_path(), login_url)
    if not (user.is_active and user.is_staff):
        return _page(
            request,
            "django_upscope/error.html",
            {
                "title": _("Not allowed"),
                "explanation": _("This page is for staff members only."),
                "code": "permission_denied",
            },
            status=403,
        )
    return None


def _visitor_details(short_id: str) -> Any:
    """The visitor from the mirror, else from Upscope (read-through); None if unavailable."""
    row = VisitorRow.objects.filter(pk=short_id).first()
    if row is not None:
        return row
    try:
        return services.get_visitor(short_id)
    except UpscopeError as exc:
        logger.warning("Details of visitor %s unavailable: %s", short_id, exc.code)
        return None


def _error_response(
    request: HttpRequest, error: UpscopeError, short_id: str, *, retry_url: str | None
) -> HttpResponse:
    description = describe(error)
    context = {
        "title": description.title,
        "explanation": description.explanation,
        "code": error.code,
        "short_id": short_id,
        "retry_url": retry_url if description.retry else None,
        "visitor_admin_url": _admin_url("admin:django_upscope_visitor_change", short_id),
    }
    response = _page(request, "django_upscope/error.html", context, status=description.status)
    if description.retry_after is not None:
        response["Retry-After"] = str(description.retry_after)
    return response


#: ``Sec-Fetch-Site`` values of a navigation started by another site.
FOREIGN_FETCH_SITES = frozenset({"cross-site", "same-site"})


@require_http_methods(["GET", "POST"])
@sensitive_variables("share", "watch", "context")
def screenshare(request: HttpRequest, short_id: str) -> HttpResponse:
    """Mint a watch URL for the logged-in staff user and show it in an iframe.

    Minting starts a session upstream, so a navigation started by another site
    (``Sec-Fetch-Site: cross-site`` or ``same-site``) is not enough: it gets a page
    with a button that POSTs (CSRF-protected) back here. Navigations from our own
    pages, and the agent typing the URL, mint at once.
    """
    refused = _staff_gate(request)
    if refused is not None:
        return refused
    if request.method == "GET" and request.headers.get("Sec-Fetch-Site") in FOREIGN_FETCH_SITES:
        return _page(
            request,
            "django_upscope/screenshare_confirm.html",
            {
                "title": _("Start screen share"),
                "short_id": short_id,
                "visitor_admin_url": _admin_url("admin:django_upscope_visitor_change", short_id),
                "opts": VisitorRow._meta,
            },
        )
    actor = services.actor_from_request(request, "admin")
    try:
        share = services.start_screenshare(actor, short_id)
    except PermissionDenied:
        # Rendered here (not raised) so the denied audit row survives ATOMIC_REQUESTS.
        return _page(
            request,
            "django_upscope/error.html",
            {
                "title": _("Not allowed"),
                "explanation": _(
                    "You do not have the permission to start a screen share. Ask an "
                    "administrator for the 'Can start a screen share' permission."
                ),
                "code": "permission_denied",
                "short_id": short_id,
            },
            status=403,
        )
    except UpscopeError as exc:
        return _error_response(request, exc, short_id, retry_url=request.get_full_path())
    watch = urlsplit(share.watch_url)
    context = {
        "title": _("Screen share"),
        "short_id": short_id,
        "visitor": _visitor_details(short_id),
        "watch_url": share.watch_url,
        "watch_origin": f"{watch.scheme}://{watch.netloc}",
        "granted": [key for key, value in share.permissions.items() if value],
        "stop_url": reverse("django_upscope:stop_session", args=[short_id]),
        "visitor_admin_url": _admin_url("admin:django_upscope_visitor_change", short_id),
        "changelist_url": _admin_url("admin:django_upscope_visitor_changelist"),
        "opts": VisitorRow._meta,
        # The frame needs the width more than the admin's navigation does.
        "is_nav_sidebar_enabled": False,
    }
    return _page(request, "django_upscope/screenshare.html", context)


@require_GET
@xframe_options_sameorigin
def screenshare_ended(request: HttpRequest, short_id: str) -> HttpResponse:
    """Where Upscope sends the agent when a session ends (``branding.on_end_url``).

    The watch page navigates *inside the iframe*, so this page may be framed by
    our own origin (the admin's pages may not), and its links open in the top
    window. It reveals nothing, so any logged-in agent may see it (agents of the
    REST API need not be staff); the links into the admin are for staff only.
    """
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), _admin_url("admin:login"))
    staff = request.user.is_active and request.user.is_staff
    response = render(
        request,
        "django_upscope/screenshare_ended.html",
        {
            "short_id": short_id,
            "visitor_admin_url": (
                _admin_url("admin:django_upscope_visitor_change", short_id) if staff else None
            ),
            "screenshare_url": (
                reverse("django_upscope:screenshare", args=[short_id]) if staff else None
            ),
        },
    )
    add_never_cache_headers(response)
    response["Referrer-Policy"] = "no-referrer"
    response["Content-Security-Policy"] = "frame-ancestors 'self'"
    return response


def _wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/json" in accept or request.headers.get("X-Requested-With") == (
        "XMLHttpRequest"
    )


@require_POST
def stop_session(request: HttpRequest, short_id: str) -> HttpResponse:
    """End the visitor's session: JSON for ``fetch`` callers, else a message and a redirect."""
    refused = _staff_gate(request)
    if refused is not None:
        if _wants_json(request):
            status = 401 if not request.user.is_authenticated else 403
            return JsonResponse(
                {"error": "permission_denied", "detail": "Staff members only."}, status=status
            )
        return refused
    actor = services.actor_from_request(request, "admin")
    back = _admin_url("admin:django_upscope_visitor_change", short_id) or "/"
    try:
        services.stop_session(actor, short_id)
    except PermissionDenied:
        detail = _("You do not have the permission to stop a session.")
        if _wants_json(request):
            return JsonResponse({"error": "permission_denied", "detail": detail}, status=403)
        messages.error(request, detail)
        return HttpResponseRedirect(back)
    except UpscopeError as exc:
        description = describe(exc)
        detail = description.text
        if _wants_json(request):
            return JsonResponse({"error": exc.code, "detail": detail}, status=description.status)
        messages.error(request, detail)
        return HttpResponseRedirect(back)
    if _wants_json(request):
        return JsonResponse({"status": "ok", "detail": _("The session was stopped.")})
    messages.success(request, _("The session with visitor %(id)s was stopped.") % {"id": short_id})
    return HttpResponseRedirect(back)
