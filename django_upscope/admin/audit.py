"""The audit trail: read-only for everyone, filterable, exportable as CSV."""

from __future__ import annotations

import csv
import json
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy

from ..models import AuditEvent
from .common import ReadOnlyMixin, pretty_json
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


def _csv_cell(value: Any) -> str:
    if isinstance(value, (dict, list)):
        value = json.dumps(value, sort_keys=True)
    text = "" if value is None else str(value)
    # Spreadsheets run cells starting with these as formulas.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


class AuditEventAdmin(ListInputGuard, ReadOnlyMixin, admin.ModelAdmin):
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
            writer.writerow([_csv_cell(getattr(event, column)) for column in CSV_COLUMNS])
        return response
