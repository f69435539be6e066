"""Background work in the visitor admin: bulk actions queued as tasks and their progress
page. The changelist's "last sync" line lives in :mod:`.freshness` (re-exported here)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path
from django.utils.html import format_html
from django.utils.translation import gettext as _

from .. import tasks
from ..models import BulkJob
from ..taskframework import get_result
from .common import admin_actor, admin_url
from .freshness import last_sync_line  # the line's home; imported from here before


class BulkJobPages:
    """Mixin of :class:`VisitorAdmin`: queue a bulk action, show its progress."""

    def bulk_job_urls(self, info: str) -> list[Any]:
        wrap = self.admin_site.admin_view  # type: ignore[attr-defined]
        return [path("jobs/<uuid:job_id>/", wrap(self.bulk_job_view), name=f"{info}_bulk_job")]

    def queue_bulk(self, request: HttpRequest, action: str, short_ids: list[str]) -> Any:
        """Queue ``action`` on ``short_ids`` as a task; say so, with the progress link."""
        job = tasks.enqueue_bulk(action, admin_actor(request), short_ids)
        url = admin_url(self, "bulk_job", job.pk)  # type: ignore[arg-type]
        text = _("Queued: %(action)s of %(count)d visitors runs in the background.") % {
            "action": job.get_action_display(),
            "count": job.total,
        }
        message = format_html('{} <a href="{}">{}</a>', text, url, _("Follow its progress"))
        self.message_user(request, message, messages.INFO)  # type: ignore[attr-defined]
        return HttpResponseRedirect(url)

    def bulk_job_view(self, request: HttpRequest, job_id: Any) -> HttpResponse:
        """Done, failed and remaining counts; the per-visitor messages once it ended."""
        job = BulkJob.objects.filter(pk=job_id).first()
        user: Any = request.user
        if job is None or not (user.is_superuser or job.user_id == user.pk):
            raise Http404("No such job.")
        result = get_result(job.task_result_id) if job.task_result_id else None
        finished = job.status in (BulkJob.Status.FINISHED, BulkJob.Status.FAILED)
        request.current_app = self.admin_site.name  # type: ignore[attr-defined]
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "opts": self.model._meta,  # type: ignore[attr-defined]
            "title": _("%(action)s: %(count)d visitors")
            % {"action": job.get_action_display(), "count": job.total},
            "job": job,
            "finished": finished,
            "task_status": getattr(result, "status", ""),
            "changelist_url": admin_url(self, "changelist"),  # type: ignore[arg-type]
        }
        return render(request, "django_upscope/admin/visitor/bulk_job.html", context)


__all__ = ["BulkJobPages", "last_sync_line"]
