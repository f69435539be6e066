"""Throttling for minting watch URLs.

Each minted URL may start a session that counts against the Upscope subscription,
so minting has its own rate per user, ``30/min`` unless the project says otherwise::

    REST_FRAMEWORK = {
        "DEFAULT_THROTTLE_RATES": {"upscope_watch_url": "10/min"},  # None: no limit
    }

The project's ``DEFAULT_THROTTLE_CLASSES`` apply to every endpoint as usual.
"""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle


class WatchURLRateThrottle(UserRateThrottle):
    """Per-user rate for ``POST visitors/<short_id>/watch-url/`` (scope ``upscope_watch_url``)."""

    scope = "upscope_watch_url"
    default_rate = "30/min"

    def get_rate(self) -> str | None:
        # Read the rates on each request (DRF's class attribute is frozen at import),
        # so override_settings and per-environment settings apply.
        rates = api_settings.DEFAULT_THROTTLE_RATES or {}
        if self.scope in rates:
            rate = rates[self.scope]
            return None if rate is None else str(rate)
        return self.default_rate
