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

from .conf import (
    DEFAULTS,
    NUMBER_RULES,
    import_callable,
    number_problem,
    upscope_settings,
    url_problem,
    watch_url_hosts_problem,
)
from .exceptions import UpscopeConfigurationError


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
        problem = url_problem(getattr(s, name))
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

    for name in NUMBER_RULES:
        problem = number_problem(name, getattr(s, name))
        if problem:
            messages.append(Error(f"UPSCOPE['{name}'] {problem}.", id="django_upscope.E003"))

    messages.extend(_task_setting_errors())
    messages.extend(_callable_and_host_errors())

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


#: The settings that hold a callable or the dotted path of one.
CALLABLE_SETTINGS = ("PERMISSIONS_MAPPER", "METADATA_HOOK", "RETRY_SLEEP")


def _callable_and_host_errors() -> list[CheckMessage]:
    """``E007``: a callable setting that cannot be imported (or is no callable), found now
    rather than at the first screen share; ``E008``: a malformed ``WATCH_URL_HOSTS``."""
    errors: list[CheckMessage] = []
    for name in CALLABLE_SETTINGS:
        try:
            import_callable(name)
        except UpscopeConfigurationError as exc:
            errors.append(Error(exc.message, id="django_upscope.E007"))
    problem = watch_url_hosts_problem(upscope_settings.WATCH_URL_HOSTS)
    if problem:
        errors.append(
            Error(
                f"UPSCOPE['WATCH_URL_HOSTS'] {problem}.",
                hint="For example ['o.upscope.io', '*.upscope.io'], or None for Upscope's "
                "own hosts plus the host of API_URL.",
                id="django_upscope.E008",
            )
        )
    return errors


#: The background-work settings: (rule, may be None).
TASK_SETTING_RULES: dict[str, tuple[str, bool]] = {
    "BULK_TASK_THRESHOLD": ("count", False),
    "SYNC_INTERVAL": ("positive", True),
    "SYNC_LOCK_TTL": ("positive", False),
    "PURGE_RECONCILE_DELAY": ("non_negative", False),
    "PURGE_RECONCILE_ATTEMPTS": ("count", False),
}


def _task_setting_errors() -> list[CheckMessage]:
    """``django_upscope.E020``: a background-work setting of the wrong kind."""
    errors: list[CheckMessage] = []
    for name, (rule, nullable) in TASK_SETTING_RULES.items():
        value = getattr(upscope_settings, name)
        if nullable and value is None:
            continue
        problem = _rule_problem(rule, value)
        if problem:
            errors.append(Error(f"UPSCOPE['{name}'] {problem}.", id="django_upscope.E020"))
    return errors


def _rule_problem(rule: str, value: Any) -> str | None:
    if rule == "count":
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return None if ok else "must be an integer >= 0"
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if number and not math.isfinite(value):
        number = False
    if rule == "positive":
        return None if number and value > 0 else "must be a positive number of seconds"
    return None if number and value >= 0 else "must be a number >= 0"
