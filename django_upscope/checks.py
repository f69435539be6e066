"""System checks for the ``UPSCOPE`` setting (ids ``django_upscope.E001``...).

Errors stop ``runserver`` and ``migrate``; warnings do not, so a project can
be set up before it has Upscope credentials.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from .conf import DEFAULTS, upscope_settings


def _url_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return "is not a string"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError:
        return "does not parse as a URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an absolute http(s) URL"
    if parts.query or parts.fragment:
        return "must not have a query string or fragment"
    return None


def _number(value: Any) -> bool:
    # The same rule as the client's: int or float, finite, not a bool.
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _positive_number(value: Any) -> bool:
    return _number(value) and value > 0


@register(Tags.security, "django_upscope")
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    raw = getattr(settings, "UPSCOPE", None)
    if raw is not None and not isinstance(raw, dict):
        return [Error("settings.UPSCOPE must be a dict.", id="django_upscope.E005")]
    s = upscope_settings
    user = s.user_settings()

    for key in s.unknown_keys():
        messages.append(
            Error(
                f"UPSCOPE has an unknown key {key!r}.",
                hint="Known keys: " + ", ".join(sorted(DEFAULTS)),
                id="django_upscope.E004",
            )
        )

    cloud = bool(s.API_KEY) or ("API_URL" in user and user["API_URL"] != DEFAULTS["API_URL"])
    on_premise = bool(s.BASE_ENDPOINT) or bool(s.REST_KEY)
    if cloud and on_premise:
        messages.append(
            Error(
                "UPSCOPE configures both the cloud API (API_KEY/API_URL) and an on-premise "
                "server (BASE_ENDPOINT/REST_KEY).",
                hint="Keep one: remove API_KEY/API_URL, or BASE_ENDPOINT/REST_KEY.",
                id="django_upscope.E001",
            )
        )
    if s.REST_KEY and not s.BASE_ENDPOINT:
        messages.append(
            Error(
                "UPSCOPE['REST_KEY'] is set but UPSCOPE['BASE_ENDPOINT'] is not.",
                hint="REST_KEY belongs to an on-premise server: set its BASE_ENDPOINT.",
                id="django_upscope.E006",
            )
        )

    urls = ["BASE_ENDPOINT"] if s.BASE_ENDPOINT else ["API_URL"]
    for name in urls:
        problem = _url_problem(getattr(s, name))
        if problem:
            messages.append(Error(f"UPSCOPE['{name}'] {problem}.", id="django_upscope.E002"))
        elif not settings.DEBUG and urlsplit(getattr(s, name)).scheme != "https":
            messages.append(
                Warning(
                    f"UPSCOPE['{name}'] is not https while DEBUG is off: the API key and "
                    "watch URLs would cross the network in clear.",
                    id="django_upscope.W002",
                )
            )

    for name in ("TIMEOUT", "RETRY_MAX_TIME"):
        if not _positive_number(getattr(s, name)):
            messages.append(
                Error(
                    f"UPSCOPE['{name}'] must be a positive number of seconds.",
                    id="django_upscope.E003",
                )
            )
    retries = s.MAX_RETRIES
    backoff = s.RETRY_BACKOFF
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        messages.append(
            Error("UPSCOPE['MAX_RETRIES'] must be an integer >= 0.", id="django_upscope.E003")
        )
    if not _number(backoff) or backoff < 0:
        messages.append(
            Error("UPSCOPE['RETRY_BACKOFF'] must be a number >= 0.", id="django_upscope.E003")
        )

    has_credentials = bool(s.REST_KEY) if s.BASE_ENDPOINT else bool(s.API_KEY)
    if not has_credentials:
        messages.append(
            Warning(
                "No Upscope credentials: calls to Upscope will fail until they are set.",
                hint="Set UPSCOPE['API_KEY'] (cloud) or UPSCOPE['BASE_ENDPOINT'] and "
                "UPSCOPE['REST_KEY'] (on-premise).",
                id="django_upscope.W001",
            )
        )
    return messages
