"""The sessions and agents of the mirror, and the sessions inline of a visitor."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import Session
from .common import FeatureFilter, ReadOnlyMixin, chips, pretty_json
from .display import human_length
from .freshness import last_sync_html, last_sync_line
from .list_inputs import ListInputGuard


class SessionColumnsMixin:
    """What the session admin and the visitor's session inline show alike."""

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("agents")  # type: ignore[misc]

    @admin.display(description=gettext_lazy("features used"))
    def features(self, obj: Session) -> str:
        return chips(obj.features_used, "feature")

    @admin.display(description=gettext_lazy("agents"))
    def agent_names(self, obj: Session) -> str:
        # From the prefetch (get_queryset): no query per session.
        return chips([str(agent) for agent in obj.agents.all()], "agent")

    @admin.display(description=gettext_lazy("length"), ordering="length_seconds")
    def length(self, obj: Session) -> str:
        if not obj.length_seconds and obj.ended_at is None:
            return _("in progress")
        return human_length(obj.length_seconds)


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
        "length",
        "went_live",
        "features",
        "agent_names",
    )
    readonly_fields = fields
    ordering = ("-started_at",)


class SessionAdmin(ListInputGuard, ReadOnlyMixin, SessionColumnsMixin, admin.ModelAdmin):
    change_list_template = "django_upscope/admin/session/change_list.html"
    list_display = (
        "id",
        "visitor",
        "started_at",
        "ended_at",
        "length",
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

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        # How old the mirrored sessions are: the last sync's line, as on the visitor list.
        extra_context = {
            "subtitle": last_sync_line(),
            "last_sync_html": last_sync_html(),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context)

    @admin.display(description=gettext_lazy("metadata"))
    def metadata_pretty(self, obj: Session) -> str:
        return pretty_json(obj.metadata)


class AgentAdmin(ListInputGuard, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "agent_identifier", "upscope_id", "type", "synced_at")
    search_fields = ("name", "agent_identifier")
    list_filter = ("type",)
