"""The Django admin for the mirror, the audit trail and Upscope's usage.

Mirror rows are written only by :mod:`django_upscope.sync`, so every model here
is read-only; what changes Upscope (delete, purge, refresh, stop a session)
goes through :mod:`django_upscope.services` in admin actions, each audited.
A local-only delete is never offered: a visitor leaves the mirror only once
Upscope confirmed.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import permissions as perms
from . import services
from .errors import describe
from .exceptions import UpscopeError
from .models import Agent, AuditEvent, Session, UsageSnapshot, Visitor


def _badge(value: bool, yes: str, no: str) -> str:
    colour = "#1a7f37" if value else "#6e7781"
    return format_html(
        '<span class="upscope-badge" style="color:#fff;background:{};padding:1px 6px;'
        'border-radius:8px;font-size:11px;white-space:nowrap">{}</span>',
        colour,
        yes if value else no,
    )


def _pretty_json(value: Any) -> str:
    if value in (None, "", [], {}):
        return "-"
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return format_html(
        '<pre style="white-space:pre-wrap;max-height:30em;overflow:auto">{}</pre>', text
    )


def _error_text(error: UpscopeError) -> str:
    return describe(error).text


def _actor(request: HttpRequest) -> services.Actor:
    return services.actor_from_request(request, "admin")


class ReadOnlyMixin:
    """Mirror and audit rows are never added, changed or deleted through the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SpacedTokenFilter(admin.SimpleListFilter):
    """Filter on a ``" a b c "`` text column (tags, features) by one token."""

    field_name = ""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        tokens: set[str] = set()
        qs = model_admin.get_queryset(request).exclude(**{self.field_name: ""})
        for text in (
            qs.order_by(self.field_name).values_list(self.field_name, flat=True).distinct()[:2000]
        ):
            tokens.update(text.split())
        return [(token, token) for token in sorted(tokens)[:200]]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        return queryset.filter(**{f"{self.field_name}__contains": f" {value} "})


class TagFilter(SpacedTokenFilter):
    title = gettext_lazy("tag")
    parameter_name = "tag"
    field_name = "tags_text"


class FeatureFilter(SpacedTokenFilter):
    title = gettext_lazy("feature used")
    parameter_name = "feature"
    field_name = "features_text"


class SessionColumnsMixin:
    """What the session admin and the visitor's session inline show alike."""

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("agents")  # type: ignore[misc]

    @admin.display(description=gettext_lazy("features used"))
    def features(self, obj: Session) -> str:
        return ", ".join(obj.features_used) or "-"

    @admin.display(description=gettext_lazy("agents"))
    def agent_names(self, obj: Session) -> str:
        return ", ".join(str(agent) for agent in obj.agents.all()) or "-"


class SessionInline(ReadOnlyMixin, SessionColumnsMixin, admin.TabularInline):
    model = Session
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    fields = (
        "id",
        "started_at",
        "ended_at",
        "formatted_length",
        "went_live",
        "features",
        "agent_names",
    )
    readonly_fields = fields
    ordering = ("-started_at",)


def _confirm(
    request: HttpRequest,
    model_admin: admin.ModelAdmin,
    *,
    title: str,
    question: str,
    explanation: str,
    action: str | None,
    objects: Iterable[Any] = (),
    form_url: str = "",
    button: str,
) -> TemplateResponse:
    """The confirmation page posted back to the changelist (or ``form_url``)."""
    opts = model_admin.model._meta
    objects = list(objects)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "question": question,
        "explanation": explanation,
        "objects": objects,
        "action": action,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "form_url": form_url,
        "button": button,
        "opts": opts,
        "app_label": opts.app_label,
        "changelist_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
    }
    return TemplateResponse(request, "django_upscope/admin/confirm_action.html", context)


@admin.register(Visitor)
class VisitorAdmin(ReadOnlyMixin, admin.ModelAdmin):
    change_form_template = "django_upscope/admin/visitor/change_form.html"
    change_list_template = "django_upscope/admin/visitor/change_list.html"
    list_display = (
        "name",
        "identities_list",
        "online",
        "in_session",
        "device",
        "browser_name",
        "country",
        "last_seen_at",
        "last_url_short",
    )
    list_filter = (
        "is_online",
        "is_in_session",
        "device_type",
        "location_country",
        "integration",
        TagFilter,
    )
    search_fields = ("short_id", "identities_text", "unique_id", "lookup_code", "ip_address")
    date_hierarchy = None
    list_per_page = 50
    inlines = (SessionInline,)
    actions = ("delete_from_upscope", "purge_offline", "refresh_from_upscope", "stop_sessions")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "short_id",
                    "display_name",
                    "identities",
                    "unique_id",
                    "lookup_code",
                    "tags",
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

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Every field is mirrored from Upscope: shown, never edited.
        return list(flatten_fieldsets(self.fieldsets))

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
        if self.has_screenshare_permission(request):
            # Right after the name, so it stays on screen on narrow displays.
            columns.insert(
                columns.index("name") + 1 if "name" in columns else 0, "screenshare_link"
            )
        return columns

    @admin.display(description=gettext_lazy("name"), ordering="display_name")
    def name(self, obj: Visitor) -> str:
        return obj.display_name or obj.short_id

    @admin.display(description=gettext_lazy("identities"))
    def identities_list(self, obj: Visitor) -> str:
        return Truncator(", ".join(obj.identities or [])).chars(60) or "-"

    @admin.display(description=gettext_lazy("online"), ordering="is_online")
    def online(self, obj: Visitor) -> str:
        return _badge(obj.is_online, _("online"), _("offline"))

    @admin.display(description=gettext_lazy("in session"), ordering="is_in_session")
    def in_session(self, obj: Visitor) -> str:
        return _badge(obj.is_in_session, _("in session"), _("idle"))

    @admin.display(description=gettext_lazy("device"), ordering="device_type")
    def device(self, obj: Visitor) -> str:
        return " ".join(part for part in (obj.device_type, obj.device_name) if part) or "-"

    @admin.display(description=gettext_lazy("country"), ordering="location_country")
    def country(self, obj: Visitor) -> str:
        return obj.location_country_name or obj.location_country or "-"

    @admin.display(description=gettext_lazy("last URL"))
    def last_url_short(self, obj: Visitor) -> str:
        if not obj.last_url:
            return "-"
        return format_html(
            '<span title="{}">{}</span>', obj.last_url, Truncator(obj.last_url).chars(50)
        )

    @admin.display(description=gettext_lazy("screen share"))
    def screenshare_link(self, obj: Visitor) -> str:
        url = reverse("django_upscope:screenshare", args=[obj.short_id])
        return format_html(
            '<a class="button upscope-screenshare" href="{}">{}</a>', url, _("Start screen share")
        )

    @admin.display(description=gettext_lazy("history"))
    def history_pretty(self, obj: Visitor) -> str:
        return _pretty_json(obj.history)

    @admin.display(description=gettext_lazy("raw payload"))
    def raw_pretty(self, obj: Visitor) -> str:
        return _pretty_json(obj.raw)

    # -- pages --

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        # Deleting only the local row would leave the visitor in Upscope.
        actions.pop("delete_selected", None)
        return actions

    def get_urls(self) -> list[Any]:
        info = (self.model._meta.app_label, self.model._meta.model_name)
        return [
            path(
                "purge/",
                self.admin_site.admin_view(self.purge_view),
                name="{}_{}_purge".format(*info),
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        extra_context = {**(extra_context or {}), "can_purge": self.has_purge_permission(request)}
        return super().changelist_view(request, extra_context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> Any:
        extra_context = {
            **(extra_context or {}),
            "can_screenshare": self.has_screenshare_permission(request),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def purge_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_purge_permission(request):
            raise PermissionDenied
        if request.method == "POST" and request.POST.get("post") == "yes":
            self._run_purge(request)
            return HttpResponseRedirect(reverse("admin:django_upscope_visitor_changelist"))
        return self._purge_confirmation(request)

    def _purge_confirmation(self, request: HttpRequest) -> TemplateResponse:
        # Upscope purges all offline visitors at once, so the page posts to purge_view,
        # whichever way it was reached (the changelist button or the action).
        return _confirm(
            request,
            self,
            title=_("Purge all offline visitors"),
            question=_("Ask Upscope to delete every visitor who is not online now?"),
            explanation=_(
                "This applies to all offline visitors in Upscope, not only those selected. "
                "Upscope deletes them asynchronously: it can take a few minutes, and the "
                "visitors disappear from this list at the next sync. It cannot be undone."
            ),
            action=None,
            form_url=reverse("admin:django_upscope_visitor_purge"),
            button=_("Yes, purge offline visitors"),
        )

    def _run_purge(self, request: HttpRequest) -> None:
        try:
            services.purge_offline_visitors(_actor(request))
        except PermissionDenied:
            self.message_user(request, _("You may not purge visitors."), messages.ERROR)
        except UpscopeError as exc:
            self.message_user(request, _("Purge failed. %s") % _error_text(exc), messages.ERROR)
        else:
            self.message_user(request, services.PURGE_DETAIL, messages.SUCCESS)

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
                request, failed_text % {"id": short_id, "error": _error_text(error)}, messages.ERROR
            )

    def _for_each(
        self, request: HttpRequest, queryset: QuerySet, call: Callable[[services.Actor, str], Any]
    ) -> tuple[list[str], list[Any]]:
        actor = _actor(request)
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
    def delete_from_upscope(self, request: HttpRequest, queryset: QuerySet) -> Any:
        if request.POST.get("post") != "yes":
            return _confirm(
                request,
                self,
                title=_("Delete from Upscope"),
                question=_("Delete these visitors in Upscope and here?"),
                explanation=_(
                    "Each visitor is deleted in Upscope for good (with their sessions and "
                    "history), then removed here. A visitor Upscope fails to delete stays "
                    "here."
                ),
                action="delete_from_upscope",
                objects=queryset,
                button=_("Yes, delete them"),
            )
        try:
            result = services.delete_visitors(
                _actor(request), queryset.values_list("short_id", flat=True)
            )
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
    def purge_offline(self, request: HttpRequest, queryset: QuerySet) -> Any:
        return self._purge_confirmation(request)

    @admin.action(description=gettext_lazy("Refresh from Upscope"), permissions=["refresh"])
    def refresh_from_upscope(self, request: HttpRequest, queryset: QuerySet) -> None:
        try:
            done, failed = self._for_each(request, queryset, services.refresh_visitor)
        except PermissionDenied:
            self.message_user(request, _("You may not refresh visitors."), messages.ERROR)
            return
        self._report(
            request,
            done,
            _("Refreshed %(count)d visitor(s): %(ids)s."),
            failed,
            _("Visitor %(id)s was not refreshed. %(error)s"),
        )

    @admin.action(description=gettext_lazy("Stop active session"), permissions=["screenshare"])
    def stop_sessions(self, request: HttpRequest, queryset: QuerySet) -> Any:
        if request.POST.get("post") != "yes":
            return _confirm(
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


@admin.register(Session)
class SessionAdmin(ReadOnlyMixin, SessionColumnsMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "visitor",
        "started_at",
        "ended_at",
        "formatted_length",
        "went_live",
        "features",
        "agent_names",
    )
    list_filter = (
        ("agents", admin.RelatedOnlyFieldListFilter),
        "started_at",
        "went_live",
        FeatureFilter,
    )
    list_select_related = ("visitor",)
    search_fields = ("id", "visitor__short_id", "visitor__display_name", "agents__name")
    date_hierarchy = "started_at"
    fields = (
        "id",
        "visitor",
        "started_at",
        "ended_at",
        "formatted_length",
        "formatted_call_length",
        "went_live",
        "features",
        "agent_names",
        "team_domain",
        "metadata_pretty",
        "synced_at",
    )
    readonly_fields = fields

    @admin.display(description=gettext_lazy("metadata"))
    def metadata_pretty(self, obj: Session) -> str:
        return _pretty_json(obj.metadata)


@admin.register(Agent)
class AgentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "agent_identifier", "upscope_id", "type", "synced_at")
    search_fields = ("name", "agent_identifier")
    list_filter = ("type",)


USAGE_SERIES = (
    ("visitors_online_now", gettext_lazy("visitors online"), "#2271b1"),
    ("sessions_today", gettext_lazy("sessions today"), "#d63638"),
    ("agents_today", gettext_lazy("agents today"), "#00a32a"),
)


def usage_chart(snapshots: list[UsageSnapshot], width: int = 640, height: int = 200) -> dict:
    """Polyline points (oldest first) for a small inline SVG chart of the snapshots."""
    pad = 30
    top = max([1] + [getattr(s, name) for s in snapshots for name, _l, _c in USAGE_SERIES])
    count = len(snapshots)

    def x(i: int) -> float:
        return pad + (width - 2 * pad) * (i / (count - 1) if count > 1 else 0.5)

    def y(value: int) -> float:
        return height - pad - (height - 2 * pad) * value / top

    series = [
        {
            "label": label,
            "colour": colour,
            "points": " ".join(
                f"{x(i):.1f},{y(getattr(s, name)):.1f}" for i, s in enumerate(snapshots)
            ),
        }
        for name, label, colour in USAGE_SERIES
    ]
    return {
        "width": width,
        "height": height,
        "pad": pad,
        "top": top,
        "series": series,
        "bottom": height - pad,
        "right": width - pad,
        "first": snapshots[0].taken_at if snapshots else None,
        "last": snapshots[-1].taken_at if snapshots else None,
    }


@admin.register(UsageSnapshot)
class UsageSnapshotAdmin(ReadOnlyMixin, admin.ModelAdmin):
    change_list_template = "django_upscope/admin/usagesnapshot/change_list.html"
    list_display = (
        "taken_at",
        "visitors_online_now",
        "visitors_last_24_hrs",
        "sessions_now",
        "sessions_today",
        "agents_today",
        "session_seconds_today",
    )
    date_hierarchy = "taken_at"

    def get_urls(self) -> list[Any]:
        return [
            path(
                "usage/", self.admin_site.admin_view(self.usage_view), name="django_upscope_usage"
            ),
            *super().get_urls(),
        ]

    def usage_view(self, request: HttpRequest) -> TemplateResponse:
        """Current figures from Upscope (not stored: snapshots come from the commands)
        and the stored history."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        usage = error = description = None
        try:
            usage = services.get_usage(record=False)
        except UpscopeError as exc:
            description = describe(exc)
            error = {
                "title": description.title,
                "explanation": description.explanation,
                "code": exc.code,
            }
        snapshots = list(UsageSnapshot.objects.order_by("-taken_at")[:60])[::-1]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Upscope usage"),
            "opts": self.model._meta,
            "usage": usage,
            "error": error,
            "snapshots": snapshots,
            "chart": usage_chart(snapshots) if snapshots else None,
        }
        response = TemplateResponse(
            request,
            "django_upscope/admin/usage.html",
            context,
            status=description.status if description else 200,
        )
        if description is not None and description.retry_after is not None:
            # As the screen-share page: a 503 says when Upscope asked to be tried again.
            response["Retry-After"] = str(description.retry_after)
        return response


CSV_COLUMNS = (
    "created_at",
    "action",
    "outcome",
    "username",
    "user_id",
    "visitor_short_id",
    "source",
    "permissions",
    "metadata",
    "client_ip",
    "request_id",
    "error_code",
    "status_code",
    "detail",
    "watch_url_hash",
)


def _csv_cell(value: Any) -> str:
    if isinstance(value, (dict, list)):
        value = json.dumps(value, sort_keys=True)
    text = "" if value is None else str(value)
    # Spreadsheets run cells starting with these as formulas.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "action",
        "outcome",
        "username",
        "visitor_short_id",
        "source",
        "error_code",
        "status_code",
        "client_ip",
        "granted",
    )
    list_filter = ("action", "outcome", "source", "created_at")
    search_fields = ("username", "visitor_short_id", "request_id")
    date_hierarchy = "created_at"
    actions = ("export_csv",)
    fields = (
        "created_at",
        "action",
        "outcome",
        "user",
        "username",
        "visitor_short_id",
        "source",
        "permissions_pretty",
        "metadata_pretty",
        "client_ip",
        "request_id",
        "error_code",
        "status_code",
        "detail",
        "watch_url_hash",
    )
    readonly_fields = fields

    @admin.display(description=gettext_lazy("granted"))
    def granted(self, obj: AuditEvent) -> str:
        keys = [
            key.removeprefix("allow_") for key, value in (obj.permissions or {}).items() if value
        ]
        return ", ".join(keys) or "-"

    @admin.display(description=gettext_lazy("permissions granted"))
    def permissions_pretty(self, obj: AuditEvent) -> str:
        return _pretty_json(obj.permissions)

    @admin.display(description=gettext_lazy("metadata"))
    def metadata_pretty(self, obj: AuditEvent) -> str:
        return _pretty_json(obj.metadata)

    @admin.action(description=gettext_lazy("Export selected as CSV"), permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="upscope-audit.csv"'
        writer = csv.writer(response)
        writer.writerow(CSV_COLUMNS)
        for event in queryset.order_by("created_at", "id").iterator():
            writer.writerow([_csv_cell(getattr(event, column)) for column in CSV_COLUMNS])
        return response
