"""The ``UPSCOPE`` setting, read on access so ``override_settings`` works.

Every key and its default is listed in :data:`DEFAULTS`; the README documents
them. Unknown keys are reported by the system check ``django_upscope.E004``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULT_API_URL = "https://api.upscope.io/v1.1"

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
    # Permissions: a callable (or dotted path) ``(user) -> dict`` replacing the
    # default mapping of Django permissions to Upscope session permissions.
    "PERMISSIONS_MAPPER": None,
    # Superusers get remote console only when this is True (never implicitly).
    "SUPERUSER_CONSOLE": False,
    # A callable (or dotted path) ``(request, visitor_short_id) -> dict`` whose flat
    # dict is merged into the metadata of every watch URL minted.
    "METADATA_HOOK": None,
    # Whether reads through the service layer refresh the local mirror.
    "MIRROR_READ_THROUGH": True,
    # The embedded fake (django_upscope.fake): allowed only with DEBUG, or with
    # FAKE_ENABLED=True set explicitly.
    "FAKE_ENABLED": None,
    "FAKE_REST_KEY": "fake_rest_key",
    "FAKE_SESSION_LIMIT": 5,
    "FAKE_PURGE_DELAY": 2.0,
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
    def is_on_premise(self) -> bool:
        return bool(self.BASE_ENDPOINT)

    @property
    def fake_enabled(self) -> bool:
        explicit = self.FAKE_ENABLED
        if explicit is None:
            return bool(settings.DEBUG)
        return bool(explicit)


upscope_settings = UpscopeSettings()
