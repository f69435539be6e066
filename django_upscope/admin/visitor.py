"""The visitors of the mirror: list, read-only page, actions through the services, the purge
page, and the screen-share page with its stop endpoint.

The screen-share page (``<short_id>/screenshare/`` under the visitor admin) mints a
fresh watch URL on each visit, through :func:`django_upscope.services.start_screenshare`,
and shows it in an iframe. ``<short_id>/session/stop/`` ends the session. Both are
views of the admin site the ModelAdmin is registered on: its login, its header, its
URLs. The watch URL is a bearer secret: the page is sent with ``Cache-Control:
no-store`` and ``Referrer-Policy: no-referrer``, may not be framed by any site, and
the URL is never logged. Every Upscope error becomes a page a person understands.
The confirmation page shown to a navigation from another site holds no watch URL and is
sent ``Referrer-Policy: same-origin``, so that the browser posts its form with our origin.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, re_path, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from .. import permissions as perms
from .. import services, tasks
from ..audit import Actor
from ..capabilities import supports
from ..exceptions import UpscopeError
from ..mirror.search import FREE_TEXT_FIELDS
from ..models import AuditEvent, Visitor
from ..presentation import describe
from ..transactions import outside_request_transaction
from ..views import ADMIN_SITE_PARAM
from ..vocabulary import SHORT_ID_RE
from .capabilities import PURGE, can_share, not_offered_page, offered_actions, page_context
from .common import (
    ADMIN_CSS,
    ReadOnlyMixin,
    TagFilter,
    admin_actor,
    admin_url,
    badge,
    chips,
    confirm,
    error_text,
    pretty_json,
)
from .display import (
    fetch_history_button,
    history_table,
    labels_cell,
    last_url_cell,
    place_cell,
    share_button,
    short_when,
    status_cell,
)
from .filters import GoneFromUpscopeFilter, gone_share_cell, name_cell
from .framing import WATCH_FRAME_SANDBOX, frame_allow, web_origin
from .freshness import (
    last_sync_html,
    last_sync_line,
    refresh_from_upscope,
    visitor_gone,
    visitor_synced,
)
from .history import fetch_history_url, fetch_history_urls, swap_field
from .identity import lookup_code_urls
from .jobs import BulkJobPages
from .list_inputs import ListInputGuard
from .purge import confirmation_explanation, follow_up_messages
from .relay import grant as relay_grant
from .relay import relay_event
from .search import UpscopeSearchMixin
from .session import SessionInline

logger = logging.getLogger("django_upscope.views")

#: ``Sec-Fetch-Site`` values of a navigation started by another site.
FOREIGN_FETCH_SITES = frozenset({"cross-site", "same-site"})


def secure(response: HttpResponse, referrer_policy: str = "no-referrer") -> HttpResponse:
    """Headers for pages that hold (or might hold) a watch URL."""
    add_never_cache_headers(response)
    response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
    response["Referrer-Policy"] = referrer_policy
    response["X-Frame-Options"] = "DENY"
    response["Content-Security-Policy"] = "frame-ancestors 'none'"
    return response


def _visitor_details(short_id: str) -> Any:
    """The visitor from the mirror, else from Upscope (read-through); None if unavailable."""
    row = Visitor.objects.filter(pk=short_id).first()
    if row is not None:
        return row
    try:
        return services.get_visitor(short_id)
    except UpscopeError as exc:
        logger.warning("Details of visitor %s unavailable: %s", short_id, exc.code)
        return None


def _short_id(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """404 for a ``short_id`` that is not Upscope's shape, before any view code runs."""

    @wraps(view)
    def checked(request: HttpRequest, short_id: str) -> HttpResponse:
        if not SHORT_ID_RE.fullmatch(short_id):
            raise Http404("Not a visitor id.")
        return view(request, short_id)

    return checked


def _wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/json" in accept or request.headers.get("X-Requested-With") == (
        "XMLHttpRequest"
    )


class VisitorAdmin(
    UpscopeSearchMixin, BulkJobPages, ListInputGuard, ReadOnlyMixin, admin.ModelAdmin
):
    change_form_template = "django_upscope/admin/visitor/change_form.html"
    change_list_template = "django_upscope/admin/visitor/change_list.html"
    # Fits 1366 px beside the admin's sidebars: identities and tags as chips, one status
    # column, the device under the country, a short time (tests/browser/test_list_layout.py).
    list_display = (
        "name",
        "identities_list",
        "status",
        "place",
        "last_seen",
        "last_url_short",
    )
    list_filter = (
        GoneFromUpscopeFilter,
        "is_online",
        "is_in_session",
        "device_type",
        "location_country",
        "integration",
        TagFilter,
    )
    # Free text; Upscope's tokens (online, #tag, ip:...) are read by UpscopeSearchMixin.
    search_fields = FREE_TEXT_FIELDS
    list_per_page = 50
    inlines = (SessionInline,)
    actions = ("delete_visitors", "purge_offline_visitors", "refresh_visitors", "stop_sessions")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "short_id",
                    "display_name",
                    "identities_chips",
                    "unique_id",
                    "lookup_code",
                    "tags_list",
                )
            },
        ),
        (
            gettext_lazy("Status"),
            {"fields": ("is_online", "is_in_session", "first_seen_at", "last_seen_at", "last_url")},
        ),
        (
            gettext_lazy("Device and location"),
            {
                "fields": (
                    "device_type",
                    "device_name",
                    "browser_name",
                    "location_city",
                    "location_country",
                    "location_country_name",
                    "ip_address",
                    "integration",
                    "js_configuration",
                )
            },
        ),
        (gettext_lazy("History"), {"fields": ("history_pretty", "history_synced_at")}),
        (
            gettext_lazy("Sync"),
            {
                "classes": ("collapse",),
                "fields": ("synced_at", "removed_upstream_at", "raw_pretty"),
            },
        ),
    )

    class Media:
        css = {"all": (ADMIN_CSS,)}

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not self.has_refresh_permission(request):
            return fieldsets
        if not supports("get_visitor_history"):
            return fieldsets  # on-premise: a button that could only fail is not offered
        # The history with its "Fetch history" button, for those who may refresh.
        return swap_field(fieldsets, "history_pretty", "history_with_fetch")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Every field is mirrored from Upscope: shown, never edited.
        return list(flatten_fieldsets(self.get_fieldsets(request, obj)))

    # -- permissions behind the actions (services check them again) --

    def has_screenshare_permission(self, request: HttpRequest) -> bool:
        return perms.can_screenshare(request.user)

    def has_upscope_delete_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(perms.DELETE)

    def has_purge_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(perms.PURGE)

    def has_refresh_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(perms.REFRESH)

    # -- list columns --

    def get_list_display(self, request: HttpRequest) -> Any:
        columns = list(super().get_list_display(request))
        if self.has_screenshare_permission(request) and can_share():
            # Right after the name, so it stays on screen on narrow displays.
            columns.insert(
                columns.index("name") + 1 if "name" in columns else 0, "screenshare_link"
            )
        return columns

    @admin.display(description=gettext_lazy("name"), ordering="display_name")
    def name(self, obj: Visitor) -> str:
        return name_cell(obj)  # with the "Gone from Upscope" badge (admin/filters.py)

    @admin.display(description=gettext_lazy("identities and tags"))
    def identities_list(self, obj: Visitor) -> str:
        return labels_cell(obj)

    @admin.display(description=gettext_lazy("identities"))
    def identities_chips(self, obj: Visitor) -> str:
        return chips(obj.identities, "identity")

    @admin.display(description=gettext_lazy("tags"))
    def tags_list(self, obj: Visitor) -> str:
        return chips(obj.tags, "tag")

    @admin.display(description=gettext_lazy("status"), ordering="is_online")
    def status(self, obj: Visitor) -> str:
        return status_cell(obj)

    @admin.display(description=gettext_lazy("online"), ordering="is_online")
    def online(self, obj: Visitor) -> str:
        return badge(obj.is_online, _("online"), _("offline"))

    @admin.display(description=gettext_lazy("in session"), ordering="is_in_session")
    def in_session(self, obj: Visitor) -> str:
        return badge(obj.is_in_session, _("in session"), _("idle"))

    @admin.display(description=gettext_lazy("device"), ordering="device_type")
    def device(self, obj: Visitor) -> str:
        return " ".join(part for part in (obj.device_type, obj.device_name) if part) or "-"

    @admin.display(description=gettext_lazy("country and device"), ordering="location_country")
    def place(self, obj: Visitor) -> str:
        return place_cell(obj)

    @admin.display(description=gettext_lazy("last seen"), ordering="last_seen_at")
    def last_seen(self, obj: Visitor) -> str:
        return short_when(obj.last_seen_at)

    @admin.display(description=gettext_lazy("country"), ordering="location_country")
    def country(self, obj: Visitor) -> str:
        return obj.location_country_name or obj.location_country or "-"

    @admin.display(description=gettext_lazy("last URL"))
    def last_url_short(self, obj: Visitor) -> str:
        return last_url_cell(obj.last_url)

    @admin.display(description=gettext_lazy("screen share"))
    def screenshare_link(self, obj: Visitor) -> str:
        if not SHORT_ID_RE.fullmatch(obj.short_id):
            # A row stored before ids were validated: no page can serve it, so no link
            # (``upscope_sync --prune`` removes it).
            return "-"
        gone = gone_share_cell(obj)  # Upscope no longer has it: a share would 404
        if gone is not None:
            return gone
        return share_button(admin_url(self, "screenshare", obj.short_id))

    @admin.display(description=gettext_lazy("history"))
    def history_pretty(self, obj: Visitor) -> str:
        return history_table(obj.history)

    @admin.display(description=gettext_lazy("history"))
    def history_with_fetch(self, obj: Visitor) -> str:
        button = fetch_history_button(fetch_history_url(self, obj.short_id))
        return format_html("{}{}", history_table(obj.history), button)

    @admin.display(description=gettext_lazy("raw payload"))
    def raw_pretty(self, obj: Visitor) -> str:
        return pretty_json(obj.raw)

    # -- pages --

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        # Deleting only the local row would leave the visitor in Upscope.
        actions.pop("delete_selected", None)
        return offered_actions(actions)

    def get_urls(self) -> list[Any]:
        info = f"{self.model._meta.app_label}_{self.model._meta.model_name}"
        wrap = self.admin_site.admin_view
        # Any segment, so that a malformed id is a 404 here rather than the admin's
        # catch-all redirect to a change page.
        visitor = r"^(?P<short_id>.+)"
        return [
            path("purge/", wrap(self.purge_view), name=f"{info}_purge"),
            *self.bulk_job_urls(info),
            *lookup_code_urls(self),  # 'Screen share by code' (admin/identity.py)
            *fetch_history_urls(self),  # 'Fetch history' (admin/history.py)
            path("search-live/", wrap(self.search_live_view), name=f"{info}_search_live"),
            re_path(
                rf"{visitor}/refresh/$",
                wrap(require_POST(_short_id(self.refresh_view))),
                name=f"{info}_refresh",
            ),
            re_path(
                rf"{visitor}/screenshare/$",
                wrap(require_http_methods(["GET", "POST"])(_short_id(self.screenshare_view))),
                name=f"{info}_screenshare",
            ),
            re_path(
                rf"{visitor}/session/stop/$",
                wrap(require_POST(_short_id(self.stop_session_view))),
                name=f"{info}_stop_session",
            ),
            re_path(
                rf"{visitor}/screenshare/event/$",
                wrap(require_POST(self.session_event_view)),
                name=f"{info}_session_event",
            ),
            *super().get_urls(),
        ]

    # Actions run here: each visitor's record commits before the next (whatever
    # ATOMIC_REQUESTS), so a worker killed part-way loses nothing Upscope already did.
    @outside_request_transaction
    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        extra_context = {
            "subtitle": last_sync_line(),
            "last_sync_html": last_sync_html(),
            **(extra_context or {}),
            "can_purge": self.has_purge_permission(request) and supports(PURGE),
            **page_context(),
        }
        extra_context["search_live_url"] = self.search_live_url(request)
        return super().changelist_view(request, extra_context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> Any:
        can_screenshare = self.has_screenshare_permission(request) and can_share()
        row = Visitor.objects.filter(pk=unquote(object_id)).first()
        extra_context = {
            **(extra_context or {}),
            "visitor_synced": visitor_synced(row) if row else None,
            "visitor_gone": visitor_gone(row) if row else None,
            "refresh_url": (
                admin_url(self, "refresh", row.short_id)
                if row and self.has_refresh_permission(request)
                else None
            ),
            "can_screenshare": can_screenshare,
            **page_context(),
            "screenshare_url": (
                admin_url(self, "screenshare", unquote(object_id))
                if can_screenshare and not (row and row.removed_upstream_at)  # gone: a 404
                else None
            ),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    @outside_request_transaction
    def refresh_view(self, request: HttpRequest, short_id: str) -> HttpResponse:
        """The "Refresh from Upscope" button of the visitor's page (admin/freshness.py)."""
        return refresh_from_upscope(self, request, short_id)

    @outside_request_transaction
    def purge_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_purge_permission(request):
            raise PermissionDenied
        if not supports(PURGE):
            return not_offered_page(self, request, PURGE)
        if request.method == "POST" and request.POST.get("post") == "yes":
            self._run_purge(request)
            return HttpResponseRedirect(admin_url(self, "changelist"))
        return self._purge_confirmation(request)

    def _purge_confirmation(self, request: HttpRequest) -> TemplateResponse:
        # Upscope purges all offline visitors at once, so the page posts to purge_view,
        # whichever way it was reached (the changelist button or the action).
        return confirm(
            request,
            self,
            title=_("Purge all offline visitors"),
            question=_("Ask Upscope to delete every visitor who is not online now?"),
            explanation=confirmation_explanation(),
            action=None,
            form_url=admin_url(self, "purge"),
            button=_("Yes, purge offline visitors"),
        )

    def _run_purge(self, request: HttpRequest) -> None:
        try:
            services.purge_offline_visitors(admin_actor(request))
        except PermissionDenied:
            self.message_user(request, _("You may not purge visitors."), messages.ERROR)
        except UpscopeError as exc:
            self.message_user(request, _("Purge failed. %s") % error_text(exc), messages.ERROR)
        else:
            for level, text in follow_up_messages(tasks.follow_up_purge(run_now=True)):
                self.message_user(request, text, level)

    # -- actions --

    def _report(
        self,
        request: HttpRequest,
        done: list[str],
        done_text: str,
        failed: list[tuple[str, UpscopeError]],
        failed_text: str,
    ) -> None:
        if done:
            self.message_user(
                request, done_text % {"count": len(done), "ids": ", ".join(done)}, messages.SUCCESS
            )
        for short_id, error in failed:
            self.message_user(
                request, failed_text % {"id": short_id, "error": error_text(error)}, messages.ERROR
            )

    def _for_each(
        self, request: HttpRequest, queryset: QuerySet, call: Callable[[Actor, str], Any]
    ) -> tuple[list[str], list[Any]]:
        actor = admin_actor(request)
        done: list[str] = []
        failed: list[tuple[str, UpscopeError]] = []
        for short_id in queryset.values_list("short_id", flat=True):
            try:
                call(actor, short_id)
            except UpscopeError as exc:
                failed.append((short_id, exc))
            else:
                done.append(short_id)
        return done, failed

    @admin.action(description=gettext_lazy("Delete from Upscope"), permissions=["upscope_delete"])
    def delete_visitors(self, request: HttpRequest, queryset: QuerySet) -> Any:
        if request.POST.get("post") != "yes":
            return confirm(
                request,
                self,
                title=_("Delete from Upscope"),
                question=_("Delete these visitors in Upscope and here?"),
                explanation=_(
                    "Each visitor is deleted in Upscope for good (with their sessions and "
                    "history), then removed here. A visitor Upscope fails to delete stays "
                    "here."
                ),
                action="delete_visitors",
                objects=queryset,
                button=_("Yes, delete them"),
            )
        short_ids = list(queryset.values_list("short_id", flat=True))
        if tasks.should_queue(len(short_ids)):
            return self.queue_bulk(request, AuditEvent.Action.DELETE_VISITOR, short_ids)
        try:
            result = services.delete_visitors(admin_actor(request), short_ids)
        except PermissionDenied:
            self.message_user(request, _("You may not delete visitors."), messages.ERROR)
            return None
        self._report(
            request,
            result.succeeded,
            _("Deleted %(count)d visitor(s) from Upscope and here: %(ids)s."),
            result.failed,
            _("Visitor %(id)s was not deleted (kept here). %(error)s"),
        )
        if result.already_gone:
            self.message_user(
                request,
                _("Upscope had already deleted %(ids)s; removed here too.")
                % {"ids": ", ".join(result.already_gone)},
                messages.INFO,
            )
        return None

    @admin.action(
        description=gettext_lazy("Purge all offline visitors (asynchronous)"), permissions=["purge"]
    )
    def purge_offline_visitors(self, request: HttpRequest, queryset: QuerySet) -> Any:
        return self._purge_confirmation(request)

    @admin.action(description=gettext_lazy("Refresh from Upscope"), permissions=["refresh"])
    def refresh_visitors(self, request: HttpRequest, queryset: QuerySet) -> Any:
        short_ids = list(queryset.values_list("short_id", flat=True))
        if tasks.should_queue(len(short_ids)):
            return self.queue_bulk(request, AuditEvent.Action.REFRESH_VISITOR, short_ids)
        try:
            done, failed = self._for_each(request, queryset, services.refresh_visitor)
        except PermissionDenied:
            self.message_user(request, _("You may not refresh visitors."), messages.ERROR)
            return None
        self._report(
            request,
            done,
            _("Refreshed %(count)d visitor(s): %(ids)s."),
            failed,
            _("Visitor %(id)s was not refreshed. %(error)s"),
        )
        return None

    @admin.action(description=gettext_lazy("Stop active session"), permissions=["screenshare"])
    def stop_sessions(self, request: HttpRequest, queryset: QuerySet) -> Any:
        if request.POST.get("post") != "yes":
            return confirm(
                request,
                self,
                title=_("Stop active session"),
                question=_("End the screen-sharing session of these visitors?"),
                explanation=_("Any agent watching them is disconnected."),
                action="stop_sessions",
                objects=queryset,
                button=_("Yes, stop the sessions"),
            )
        try:
            done, failed = self._for_each(request, queryset, services.stop_session)
        except PermissionDenied:
            self.message_user(request, _("You may not stop sessions."), messages.ERROR)
            return None
        self._report(
            request,
            done,
            _("Stopped the session of %(count)d visitor(s): %(ids)s."),
            failed,
            _("The session of visitor %(id)s was not stopped. %(error)s"),
        )
        return None

    # -- the screen-share page and its stop endpoint --

    def _page(
        self,
        request: HttpRequest,
        template: str,
        context: dict[str, Any],
        status: int = 200,
        referrer_policy: str = "no-referrer",
    ) -> HttpResponse:
        """Render a page inside this admin site's frame, with the secure headers."""
        request.current_app = self.admin_site.name
        full = {**self.admin_site.each_context(request), "opts": self.model._meta, **context}
        return secure(render(request, template, full, status=status), referrer_policy)

    def _retry_url(self, request: HttpRequest, short_id: str) -> str:
        """Upscope's "Retry now" link: this page, on this site (absolute)."""
        return request.build_absolute_uri(admin_url(self, "screenshare", short_id))

    def _on_end_url(self, request: HttpRequest, short_id: str) -> str | None:
        """The "session ended" page, linking back into this site (absolute)."""
        try:
            ended = reverse("django_upscope:screenshare_ended", args=[short_id])
        except NoReverseMatch:  # the app's own URLs are not mounted: Upscope's default
            return None
        query = urlencode({ADMIN_SITE_PARAM: self.admin_site.name})
        return request.build_absolute_uri(f"{ended}?{query}")

    def _screenshare_refused(
        self, request: HttpRequest, short_id: str, error: UpscopeError | None
    ) -> HttpResponse:
        """The page for a refused permission (``error`` None) or an Upscope error."""
        context: dict[str, Any] = {
            "short_id": short_id,
            "visitor_admin_url": admin_url(self, "change", short_id),
        }
        if error is None:
            # Rendered (not raised) so the denied audit row survives ATOMIC_REQUESTS.
            context.update(
                title=_("Not allowed"),
                explanation=_(
                    "You do not have the permission to start a screen share. Ask an "
                    "administrator for the 'Can start a screen share' permission."
                ),
                code="permission_denied",
            )
            return self._page(request, "django_upscope/error.html", context, status=403)
        description = describe(error)
        context.update(
            title=description.title,
            explanation=description.explanation,
            code=error.code,
            retry_url=request.get_full_path() if description.retry else None,
        )
        response = self._page(
            request, "django_upscope/error.html", context, status=description.status
        )
        if description.retry_after is not None:
            response["Retry-After"] = str(description.retry_after)
        return response

    @outside_request_transaction
    @sensitive_variables("share", "watch", "context")
    def screenshare_view(self, request: HttpRequest, short_id: str) -> HttpResponse:
        """Mint a watch URL for the logged-in staff user and show it in an iframe.

        Minting starts a session upstream, so a navigation started by another site
        (``Sec-Fetch-Site: cross-site`` or ``same-site``) is not enough: it gets a page
        with a button that POSTs (CSRF-protected) back here. Navigations from our own
        pages, and the agent typing the URL, mint at once.
        """
        visitor_admin_url = admin_url(self, "change", short_id)
        if request.method == "GET" and request.headers.get("Sec-Fetch-Site") in FOREIGN_FETCH_SITES:
            confirmation = {
                "title": _("Start screen share"),
                "short_id": short_id,
                "visitor_admin_url": visitor_admin_url,
            }
            # Under no-referrer Chromium posts the form with "Origin: null", which CSRF
            # refuses; same-origin sends our origin to us only (the page holds no secret).
            return self._page(
                request,
                "django_upscope/screenshare_confirm.html",
                confirmation,
                referrer_policy="same-origin",
            )
        try:
            share = services.start_screenshare(
                admin_actor(request),
                short_id,
                retry_url=self._retry_url(request, short_id),
                on_end_url=self._on_end_url(request, short_id),
            )
        except PermissionDenied:
            return self._screenshare_refused(request, short_id, None)
        except UpscopeError as exc:
            return self._screenshare_refused(request, short_id, exc)
        relay_grant(request.user.pk, short_id)  # this page may relay its frame's events
        context: dict[str, Any] = {
            "title": _("Screen share"),
            "short_id": short_id,
            # As Upscope described it just now, else the row that refresh wrote.
            "visitor": share.visitor or _visitor_details(short_id),
            "watch_url": share.watch_url,
            # As the browser serializes it, else the frame's events never match.
            "watch_origin": web_origin(share.watch_url),
            "frame_sandbox": " ".join(WATCH_FRAME_SANDBOX),
            "frame_allow": frame_allow(share.permissions),
            "granted": [key for key, value in share.permissions.items() if value],
            "stop_url": admin_url(self, "stop_session", short_id),
            "event_url": admin_url(self, "session_event", short_id),
            "visitor_admin_url": visitor_admin_url,
            "changelist_url": admin_url(self, "changelist"),
            # The frame needs the width more than the admin's navigation does.
            "is_nav_sidebar_enabled": False,
        }
        return self._page(request, "django_upscope/screenshare.html", context)

    @outside_request_transaction
    def stop_session_view(self, request: HttpRequest, short_id: str) -> HttpResponse:
        """End the visitor's session: JSON for ``fetch`` callers, else a message and a redirect."""
        back = HttpResponseRedirect(admin_url(self, "change", short_id))
        try:
            services.stop_session(admin_actor(request), short_id)
        except PermissionDenied:
            detail = _("You do not have the permission to stop a session.")
            if _wants_json(request):
                return JsonResponse({"error": "permission_denied", "detail": detail}, status=403)
            messages.error(request, detail)
            return back
        except UpscopeError as exc:
            description = describe(exc)
            if _wants_json(request):
                body = {"error": exc.code, "detail": description.text}
                return JsonResponse(body, status=description.status)
            messages.error(request, description.text)
            return back
        if _wants_json(request):
            return JsonResponse({"status": "ok", "detail": _("The session was stopped.")})
        messages.success(
            request, _("The session with visitor %(id)s was stopped.") % {"id": short_id}
        )
        return back

    @outside_request_transaction
    def session_event_view(self, request: HttpRequest, short_id: str) -> HttpResponse:
        """The share page relays the frame's session event: refresh the visitor (JSON)."""
        return relay_event(request, short_id)
