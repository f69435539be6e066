"""``manage.py upscope_usage_snapshot``: store Upscope's usage figures now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from django_upscope.client import get_client
from django_upscope.exceptions import UpscopeError, UpscopeNotSupported
from django_upscope.mirror import record_usage


class Command(BaseCommand):
    help = (
        "Fetch Upscope's usage figures (usage.json) and store them as a UsageSnapshot, so "
        "usage can be shown over time. Cloud API only."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            usage = get_client().get_usage()
        except UpscopeNotSupported as exc:
            raise CommandError(
                "The on-premise Upscope API has no usage endpoint: there is nothing to store."
            ) from exc
        except UpscopeError as exc:
            # Settings errors too (UpscopeConfigurationError): one line, no traceback.
            raise CommandError(f"Could not fetch usage: {exc.message} [{exc.code}]") from exc
        snapshot = record_usage(usage)
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"Stored usage snapshot {snapshot.pk}: visitors online now "
                f"{snapshot.visitors_online_now}, sessions today {snapshot.sessions_today}, "
                f"session seconds (30 days) {snapshot.session_seconds_last_30_days}."
            )
