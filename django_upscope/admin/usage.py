"""Upscope's usage: the stored snapshots and a page with the current figures and a chart."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _

from .. import services
from ..exceptions import UpscopeError
from ..models import UsageSnapshot
from ..presentation import describe
from .charts import usage_chart
from .common import ReadOnlyMixin
from .freshness import latest_snapshot
from .list_inputs import ListInputGuard


class UsageSnapshotAdmin(ListInputGuard, ReadOnlyMixin, admin.ModelAdmin):
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
        request.current_app = self.admin_site.name
        context = {
            **self.admin_site.each_context(request),
            "title": _("Upscope usage"),
            "opts": self.model._meta,
            "usage": usage,
            "error": error,
            "snapshots": snapshots,
            "snapshot_freshness": latest_snapshot(),
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
