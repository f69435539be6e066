"""``manage.py upscope_schedule``: start the mirror's periodic sync on the task backend."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from django_upscope import taskframework, tasks
from django_upscope.conf import upscope_settings


class Command(BaseCommand):
    help = (
        "Queue the sync of the mirror (django_upscope.tasks.sync_mirror) now; with "
        "UPSCOPE['SYNC_INTERVAL'] set, each run queues the next one, so running this once "
        "after a deploy keeps the mirror fresh. Safe to repeat: only one sync runs at a time "
        "and only one next run is ever queued. Without a worker backend (TASKS), the sync "
        "runs here and now."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not upscope_settings.SYNC_INTERVAL:
            self.stderr.write("UPSCOPE['SYNC_INTERVAL'] is not set: this sync will not repeat.")
        result = tasks.sync_mirror.enqueue()
        if taskframework.runs_later(tasks.sync_mirror.backend):
            self.stdout.write(f"Queued sync_mirror (task {result.id}); a worker runs it.")
            return
        if result.status != taskframework.SUCCESSFUL:
            raise CommandError("The sync failed: see the log (logger django_upscope.sync).")
        self.stdout.write(f"Synced: {result.return_value}")
