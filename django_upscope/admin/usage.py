"""Upscope's usage: the stored snapshots, and the usage page with the current figures, a
chart of the snapshots over time and the session reports.

The usage page is the model's changelist (so the admin index links to it, on any admin
site); the plain list of snapshots is one click away, at ``list/``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import services
from ..capabilities import server_notice, supports
from ..exceptions import UpscopeError
from ..models import UsageSnapshot
from ..presentation import describe
from ..resources import Usage
from .charts import UsagePoint, usage_chart
from .common import ReadOnlyMixin
from .freshness import latest_snapshot
from .list_inputs import ListInputGuard
from .reports import csv_response, report_context, report_range

#: The chart shows at most this many of the latest snapshots.
CHART_SNAPSHOTS = 60


def current_point(usage: Usage) -> UsagePoint:
    """The current figures as the chart's last point (drawn, not stored)."""
    return UsagePoint(
        taken_at=timezone.now(),
        visitors_online_now=usage.visitors.online_now,
        sessions_today=usage.session_counts.today,
        agents_today=usage.agents.today,
        now=True,
    )


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
        view = self.admin_site.admin_view
        return [
            path("usage/", view(self.usage_view), name="django_upscope_usage"),
            path(
                "csv/<slug:report>/",
                view(self.report_csv_view),
                name="django_upscope_usage_csv",
            ),
            path("list/", view(self.snapshot_list_view), name="django_upscope_usagesnapshot_list"),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        """The usage page: what the admin index's "Usage snapshots" opens."""
        return self.usage_view(request)

    def snapshot_list_view(self, request: HttpRequest) -> Any:
        """The stored snapshots as a plain admin list (filters, date drill-down)."""
        return super().changelist_view(request)

    def report_csv_view(self, request: HttpRequest, report: str) -> HttpResponse:
        """One report as a CSV attachment, over the page's ``start``/``end`` range."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return csv_response(report, report_range(request))

    def usage_view(self, request: HttpRequest) -> TemplateResponse:
        """Current figures from Upscope (not stored: snapshots come from the commands),
        the stored history as a chart over time, and the session reports."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        usage = error = description = None
        # On-premise servers have no usage endpoint: the page shows the stored history and
        # the session reports, with the server's one line instead of an error.
        offered = supports("get_usage")
        try:
            usage = services.get_usage(record=False) if offered else None
        except UpscopeError as exc:
            description = describe(exc)
            error = {
                "title": description.title,
                "explanation": description.explanation,
                "code": exc.code,
            }
        snapshots = list(UsageSnapshot.objects.order_by("-taken_at")[:CHART_SNAPSHOTS])[::-1]
        # Day one has no snapshot yet: the current figures are the chart's first point.
        points = [UsagePoint.of(s) for s in snapshots]
        if usage is not None:
            points.append(current_point(usage))
        span = report_range(request)
        request.current_app = self.admin_site.name
        context = {
            **self.admin_site.each_context(request),
            "title": _("Upscope usage"),
            "opts": self.model._meta,
            "usage": usage,
            "error": error,
            "snapshots": snapshots,
            "snapshot_freshness": latest_snapshot(),
            "server_notice": "" if offered else server_notice(),
            "chart": usage_chart(points),
            **report_context(span),
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
        for problem in span.problems:
            self.message_user(request, problem, level="WARNING")
        return response
