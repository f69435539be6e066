"""The ``UPSCOPE`` setting, read on access so ``override_settings`` works.

Every key and its default is listed in :data:`DEFAULTS`; the README documents
them. Unknown keys are reported by the system check ``django_upscope.E004``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import ENVIRONMENT_VARIABLE, settings
from django.utils.module_loading import import_string

from .exceptions import UpscopeConfigurationError
from .vocabulary import DEFAULT_API_URL, WATCH_URL_HOSTS

DEFAULTS: dict[str, Any] = {
    # Cloud API (v1.1): the secret key sent as ``X-Api-Key``.
    "API_KEY": None,
    "API_URL": DEFAULT_API_URL,
    # On-premise API: requests go to ``BASE_ENDPOINT/api/...`` with
    # ``Authorization: <REST_KEY>``. Setting BASE_ENDPOINT selects on-premise mode.
    "BASE_ENDPOINT": None,
    "REST_KEY": None,
    # Seconds to wait for Upscope on each request (connect and read).
    "TIMEOUT": 10.0,
    # Retries of requests that are safe to repeat (GET and DELETE), bounded by
    # count and by total seconds spent, with exponential backoff from RETRY_BACKOFF.
    "MAX_RETRIES": 2,
    "RETRY_MAX_TIME": 20.0,
    "RETRY_BACKOFF": 0.5,
    # How get_client()'s clients wait between retries: a callable (or dotted path)
    # ``(seconds) -> None``. Test settings point it at a recorder that does not wait
    # (``django_upscope.testing.retry.record_sleep``).
    "RETRY_SLEEP": "time.sleep",
    # Detail requests upscope_sync keeps in flight at once (1: one after another).
    "SYNC_CONCURRENCY": 8,
    # Permissions: a callable (or dotted path) ``(user) -> dict`` replacing the
    # default mapping of Django permissions to Upscope session permissions.
    "PERMISSIONS_MAPPER": None,
    # Superusers get remote console only when this is True (never implicitly).
    "SUPERUSER_CONSOLE": False,
    # A callable (or dotted path) ``(request, visitor_short_id) -> dict`` whose flat
    # dict is merged into the metadata of every watch URL minted.
    "METADATA_HOOK": None,
    # The hosts a minted watch URL may point to, before it is shown or framed: exact
    # hosts or "*.example.com" (any subdomain). None: Upscope's own (o.upscope.io,
    # *.upscope.io) plus the host of API_URL (so the embedded fake's URLs are accepted).
    "WATCH_URL_HOSTS": None,
    # Whether reads through the service layer refresh the local mirror.
    "MIRROR_READ_THROUGH": True,
    # Who may read the API's schema and its Swagger UI / Redoc pages: a DRF permission
    # class (or dotted path); None lets anyone read them. Default: staff only.
    "SCHEMA_PERMISSION": "rest_framework.permissions.IsAdminUser",
    # The embedded fake (django_upscope.fake): allowed only with DEBUG, or with
    # FAKE_ENABLED=True set explicitly.
    "FAKE_ENABLED": None,
    "FAKE_REST_KEY": "fake_rest_key",
    "FAKE_SESSION_LIMIT": 5,
    "FAKE_PURGE_DELAY": 2.0,
    # -- background work (django_upscope.tasks) --
    # Admin bulk actions on more visitors than this run as a task when a worker backend is
    # configured (TASKS), instead of inside the request.
    "BULK_TASK_THRESHOLD": 20,
    # Seconds between syncs of the mirror: sync_mirror re-enqueues itself this long after
    # each run (run_after). None: no periodic sync (run upscope_sync from cron instead).
    "SYNC_INTERVAL": None,
    # Seconds a sync's lease lasts without progress: a crashed worker blocks syncs this long.
    "SYNC_LOCK_TTL": 900.0,
    # Seconds after a purge before reconcile_purge prunes the mirror, and how many times it
    # tries again while offline visitors remain (Upscope purges asynchronously).
    "PURGE_RECONCILE_DELAY": 60.0,
    "PURGE_RECONCILE_ATTEMPTS": 3,
    # What that check does with the offline visitors Upscope no longer has: False marks
    # them gone (removed_upstream_at, kept as the record), True deletes their rows.
    "PURGE_REMOVES_GONE": False,
    # -- Identify your visitors ({% upscope_snippet %}, django_upscope.identity) --
    # The account's *public* key, sent to pages in Upscope('init', {apiKey: ...}).
    # Never the secret API_KEY.
    "PUBLIC_API_KEY": None,
    # The script URL of the installation code in Upscope's dashboard (per account).
    "SNIPPET_URL": None,
    # A callable (or dotted path) ``(request) -> dict | None`` giving a logged-in
    # visitor's identity (uniqueId, identities, tags, integrationIds); None: the default
    # (django_upscope.identity.default_identity).
    "VISITOR_IDENTITY": None,
    # "hmac": uniqueId is an HMAC of the user's pk under a key derived from SECRET_KEY,
    # so the raw database id never reaches Upscope; "pk": the raw primary key.
    "VISITOR_UNIQUE_ID": "hmac",
    # Whether the default identity adds the user's e-mail address to ``identities``.
    "VISITOR_EMAIL": False,
    # Whether anonymous visitors get the plain installation (True) or nothing (False).
    "SNIPPET_FOR_ANONYMOUS": True,
}


class UpscopeSettings:
    """Attribute access to ``settings.UPSCOPE`` merged over :data:`DEFAULTS`."""

    def user_settings(self) -> dict[str, Any]:
        value = getattr(settings, "UPSCOPE", None) or {}
        return value if isinstance(value, dict) else {}

    def unknown_keys(self) -> list[str]:
        return sorted(set(self.user_settings()) - set(DEFAULTS))

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"UPSCOPE has no setting named {name!r}")
        return self.user_settings().get(name, DEFAULTS[name])

    @property
    def fake_enabled(self) -> bool:
        explicit = self.FAKE_ENABLED
        if explicit is None:
            return bool(settings.DEBUG)
        return bool(explicit)


upscope_settings = UpscopeSettings()


def setting_or_default(name: str) -> Any:
    """``UPSCOPE[name]`` when Django's settings are configured, else its default.

    Lets :class:`~django_upscope.client.UpscopeClient` run in a script that never
    configured Django, when every value it needs is passed to it.
    """
    # Not configured yet but named in the environment: reading it configures it.
    if not (settings.configured or os.environ.get(ENVIRONMENT_VARIABLE)):
        return DEFAULTS[name]
    return getattr(upscope_settings, name)


def import_callable(setting_name: str) -> Callable[..., Any] | None:
    """The callable ``UPSCOPE[setting_name]`` holds (itself, or its dotted path imported).

    ``None`` when the setting is unset. Anything else that is not a callable raises
    :class:`~django_upscope.exceptions.UpscopeConfigurationError` naming the setting,
    with the code ``invalid_<setting name in lower case>``.
    """
    value = getattr(upscope_settings, setting_name)
    if value is None:
        return None
    code = f"invalid_{setting_name.lower()}"
    if isinstance(value, str):
        try:
            value = import_string(value)
        except ImportError as exc:
            raise UpscopeConfigurationError(
                f"UPSCOPE['{setting_name}'] = {value!r} cannot be imported: {exc}", code=code
            ) from exc
    if not callable(value):
        raise UpscopeConfigurationError(
            f"UPSCOPE['{setting_name}'] must be a callable or a dotted path to one.", code=code
        )
    return value


def url_problem(value: Any) -> str | None:
    """What is wrong with ``value`` as ``API_URL`` / ``BASE_ENDPOINT``, or ``None``.

    One rule for the system check (``E002``) and the client: an absolute http(s) URL
    with a host, a valid port, and no query string or fragment.
    """
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


#: The numeric settings and the rule each follows (see :func:`number_problem`).
NUMBER_RULES: dict[str, str] = {
    "TIMEOUT": "positive",
    "RETRY_MAX_TIME": "positive",
    "MAX_RETRIES": "count",
    "RETRY_BACKOFF": "non_negative",
    "SYNC_CONCURRENCY": "positive_count",
}


def number_problem(setting_name: str, value: Any) -> str | None:
    """What is wrong with ``value`` for the numeric setting ``setting_name``, or ``None``.

    One rule for the system check (``E003``) and the client: ``TIMEOUT`` and
    ``RETRY_MAX_TIME`` positive finite numbers, ``MAX_RETRIES`` an integer >= 0,
    ``RETRY_BACKOFF`` a finite number >= 0, ``SYNC_CONCURRENCY`` an integer >= 1
    (never a bool).
    """
    rule = NUMBER_RULES[setting_name]
    if rule == "positive_count":
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
        return None if ok else "must be an integer >= 1"
    if rule == "count":
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return None if ok else "must be an integer >= 0"
    number = (
        isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    )
    if rule == "positive":
        return None if number and value > 0 else "must be a positive number of seconds"
    return None if number and value >= 0 else "must be a number >= 0"


def watch_url_hosts_problem(value: Any) -> str | None:
    """What is wrong with ``value`` as ``WATCH_URL_HOSTS``, or ``None`` (system check E012).

    ``None``, or a list/tuple of host names, each exact (``watch.example.com``) or a
    ``*.`` suffix pattern (``*.example.com``).
    """
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not value:
        return "must be None or a non-empty list of host names"
    for host in value:
        name = host[2:] if isinstance(host, str) and host.startswith("*.") else host
        if not isinstance(name, str) or not _HOST_RE.fullmatch(name):
            return "must list host names such as 'watch.example.com' or '*.example.com'"
    return None


# A DNS name or IPv4 address (dot-separated labels), or an IPv6 address in brackets.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_HOST_RE = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*|\[[0-9A-Fa-f:.]+\]")


def resolve_watch_url_hosts(value: Any, api_url: str) -> tuple[str, ...]:
    """The hosts watch URLs may point to: ``value`` (``WATCH_URL_HOSTS``) if set, else
    Upscope's own plus the host of ``api_url``."""
    if value is not None:
        return tuple(value)
    own = urlsplit(api_url).hostname
    return WATCH_URL_HOSTS + ((own,) if own else ())
