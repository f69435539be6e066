"""The fake's system check (registered by its AppConfig, so only when it is installed)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from ..conf import upscope_settings


@register(Tags.security)
def check_fake_safety(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """``django_upscope.E010``: the fake is on while DEBUG is off.

    ``django_upscope.W010``: ``FAKE_REST_KEY`` does not start with ``fake_``, so
    the fake's on-premise API refuses every request.
    """
    messages: list[CheckMessage] = []
    if upscope_settings.fake_enabled and not settings.DEBUG:
        messages.append(
            Error(
                "The embedded fake Upscope (django_upscope.fake) is enabled while DEBUG is off.",
                hint="The fake serves anyone who asks and is meant for development and tests. "
                "Remove 'django_upscope.fake' from INSTALLED_APPS in production, or set "
                "UPSCOPE['FAKE_ENABLED'] = False.",
                id="django_upscope.E010",
            )
        )
    rest_key = upscope_settings.FAKE_REST_KEY
    if not isinstance(rest_key, str) or not rest_key.startswith("fake_"):
        messages.append(
            Warning(
                "UPSCOPE['FAKE_REST_KEY'] does not start with 'fake_': the fake refuses "
                "real-looking keys, so its on-premise API will answer 401 to everything.",
                id="django_upscope.W010",
            )
        )
    return messages
