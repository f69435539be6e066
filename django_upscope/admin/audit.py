"""The audit trail: read-only for everyone, filterable, exportable as CSV.

The list names people and visitors (the visitor's name from the mirror, its id under it)
and colours each outcome (``upscope-outcome--success``, ``--failure``, ``--denied``)."""

from __future__ import annotations

import csv

from django.contrib import admin
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy

from ..models import AuditEvent, Visitor
from .common import ADMIN_CSS, ReadOnlyMixin, csv_cell, pretty_json
from .list_inputs import ListInputGuard

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


def outcome_label(event: AuditEvent) -> str:
    """The outcome as a label coloured by its class, ``upscope-outcome--<outcome>``."""
    known = event.outcome in AuditEvent.Outcome.values
    return format_html(
        '<span class="upscope-outcome upscope-outcome--{}">{}</span>',
        event.outcome if known else "other",
        event.get_outcome_display(),
    )


class AuditEventAdmin(ListInputGuard, ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "action",
        "outcome_coloured",
        "who",
        "visitor_name",
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

    class Media:
        css = {"all": (ADMIN_CSS,)}

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # The visitor's name in the same query (the trail keeps only its id).
        names = Visitor.objects.filter(short_id=OuterRef("visitor_short_id")).values(
            "display_name"
        )[:1]
        return (
            super()
            .get_queryset(request)
            .select_related("user")
            .annotate(visitor_display_name=Subquery(names))
        )

    @admin.display(description=gettext_lazy("outcome"), ordering="outcome")
    def outcome_coloured(self, obj: AuditEvent) -> str:
        return outcome_label(obj)

    @admin.display(description=gettext_lazy("user"), ordering="username")
    def who(self, obj: AuditEvent) -> str:
        # A custom user model may have no get_full_name.
        get_full_name = getattr(obj.user, "get_full_name", None)
        full_name = get_full_name() if callable(get_full_name) else ""
        if not full_name:
            return obj.username or "-"
        return format_html('{}<br><span class="upscope-small">{}</span>', full_name, obj.username)

    @admin.display(description=gettext_lazy("visitor"), ordering="visitor_short_id")
    def visitor_name(self, obj: AuditEvent) -> str:
        name = getattr(obj, "visitor_display_name", None)
        if not obj.visitor_short_id:
            return "-"
        if not name:
            return obj.visitor_short_id
        return format_html(
            '{}<br><span class="upscope-small">{}</span>', name, obj.visitor_short_id
        )

    @admin.display(description=gettext_lazy("granted"))
    def granted(self, obj: AuditEvent) -> str:
        keys = [
            key.removeprefix("allow_") for key, value in (obj.permissions or {}).items() if value
        ]
        return ", ".join(keys) or "-"

    @admin.display(description=gettext_lazy("permissions granted"))
    def permissions_pretty(self, obj: AuditEvent) -> str:
        return pretty_json(obj.permissions)

    @admin.display(description=gettext_lazy("metadata"))
    def metadata_pretty(self, obj: AuditEvent) -> str:
        return pretty_json(obj.metadata)

    @admin.action(description=gettext_lazy("Export selected as CSV"), permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="upscope-audit.csv"'
        writer = csv.writer(response)
        writer.writerow(CSV_COLUMNS)
        for event in queryset.order_by("created_at", "id").iterator():
            writer.writerow([csv_cell(getattr(event, column)) for column in CSV_COLUMNS])
        return response
