"""Django permissions -> Upscope's per-session permissions.

Upscope lets the watch-URL request say what the agent may do in the session
(docs/upscope-api.md, "Watch URLs"). Everything defaults to *on* upstream except the
remote console, so this module always sends all seven keys, with ``False`` for
whatever the user was not granted (least privilege).

The default mapping (codenames on :class:`django_upscope.models.Visitor`):

=============================================  ==========================================
Django permission                              Upscope permissions set to ``True``
=============================================  ==========================================
``django_upscope.screenshare_visitor``         none: may start a view-only screen share
``django_upscope.remote_control_visitor``      ``allow_click``, ``allow_type``,
                                               ``allow_scroll``, ``allow_draw``
``django_upscope.remote_console_visitor``      ``allow_console`` (superusers only when
                                               ``UPSCOPE["SUPERUSER_CONSOLE"]`` is True)
``django_upscope.agent_redirect_visitor``      ``allow_agent_redirect``
``django_upscope.audio_visitor``               ``allow_audio``
=============================================  ==========================================

Without ``screenshare_visitor`` a user may not start a screen share at all, and
every key is ``False``. ``UPSCOPE["PERMISSIONS_MAPPER"]`` (a callable or dotted
path ``(user) -> dict``) replaces the mapping for users who may start one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .conf import import_callable, upscope_settings
from .exceptions import UpscopeConfigurationError
from .vocabulary import PERMISSION_KEYS

APP_LABEL = "django_upscope"
SCREENSHARE = f"{APP_LABEL}.screenshare_visitor"
REMOTE_CONTROL = f"{APP_LABEL}.remote_control_visitor"
REMOTE_CONSOLE = f"{APP_LABEL}.remote_console_visitor"
AGENT_REDIRECT = f"{APP_LABEL}.agent_redirect_visitor"
AUDIO = f"{APP_LABEL}.audio_visitor"
DELETE = f"{APP_LABEL}.delete_visitor"
PURGE = f"{APP_LABEL}.purge_offline_visitors"
REFRESH = f"{APP_LABEL}.refresh_visitor"
# Django's own view permissions, checked by the REST API's reads.
VIEW_VISITOR = f"{APP_LABEL}.view_visitor"
VIEW_SESSION = f"{APP_LABEL}.view_session"
VIEW_USAGE = f"{APP_LABEL}.view_usagesnapshot"

#: Which Upscope keys each Django permission turns on (remote console aside).
PERMISSION_MATRIX: dict[str, tuple[str, ...]] = {
    SCREENSHARE: (),
    REMOTE_CONTROL: ("allow_click", "allow_type", "allow_scroll", "allow_draw"),
    REMOTE_CONSOLE: ("allow_console",),
    AGENT_REDIRECT: ("allow_agent_redirect",),
    AUDIO: ("allow_audio",),
}


def none_granted() -> dict[str, bool]:
    """All seven Upscope keys, every one ``False``."""
    return dict.fromkeys(PERMISSION_KEYS, False)


def can_screenshare(user: Any) -> bool:
    """Whether ``user`` may start a screen share (mint a watch URL) at all."""
    if user is None or not getattr(user, "is_active", False):
        return False
    return bool(user.has_perm(SCREENSHARE))


def default_session_permissions(user: Any) -> dict[str, bool]:
    """The built-in mapping (see the module docstring)."""
    granted = none_granted()
    for perm, keys in PERMISSION_MATRIX.items():
        if perm == REMOTE_CONSOLE:
            continue
        if user.has_perm(perm):
            granted.update(dict.fromkeys(keys, True))
    # Superusers pass every has_perm() check, so the console needs its own rule:
    # it is powerful enough that a superuser gets it only when the project says so.
    if getattr(user, "is_superuser", False):
        granted["allow_console"] = bool(upscope_settings.SUPERUSER_CONSOLE)
    else:
        granted["allow_console"] = bool(user.has_perm(REMOTE_CONSOLE))
    return granted


def validate_mapped(value: Any) -> dict[str, bool]:
    """Check a mapper's answer: a dict of known keys with bool values; fill the rest False."""
    if not isinstance(value, Mapping):
        raise UpscopeConfigurationError(
            "UPSCOPE['PERMISSIONS_MAPPER'] must return a dict of Upscope permissions, "
            f"got {type(value).__name__}.",
            code="invalid_permissions_mapper",
        )
    unknown = sorted(repr(k)[:40] for k in value if k not in PERMISSION_KEYS)
    if unknown:
        raise UpscopeConfigurationError(
            "UPSCOPE['PERMISSIONS_MAPPER'] returned unknown keys: "
            f"{', '.join(unknown)}; known keys: {', '.join(PERMISSION_KEYS)}.",
            code="invalid_permissions_mapper",
        )
    wrong = sorted(k for k, v in value.items() if not isinstance(v, bool))
    if wrong:
        raise UpscopeConfigurationError(
            "UPSCOPE['PERMISSIONS_MAPPER'] must map each key to True or False; "
            f"not a bool: {', '.join(wrong)}.",
            code="invalid_permissions_mapper",
        )
    granted = none_granted()
    granted.update(value)
    return granted


def session_permissions_for(user: Any) -> dict[str, bool]:
    """All seven Upscope session permissions for ``user``; ungranted ones are ``False``.

    A user who may not start a screen share gets every key ``False``.
    """
    if not can_screenshare(user):
        return none_granted()
    mapper = import_callable("PERMISSIONS_MAPPER")
    if mapper is None:
        return default_session_permissions(user)
    return validate_mapped(mapper(user))


def narrow(granted: Mapping[str, bool], requested: Mapping[str, bool] | None) -> dict[str, bool]:
    """What the caller asked for, but never more than ``granted``.

    ``requested`` may name any subset of the seven keys; keys it leaves out keep
    their granted value, and a ``True`` for something not granted stays ``False``.
    """
    result = {key: bool(granted.get(key, False)) for key in PERMISSION_KEYS}
    for key, value in (requested or {}).items():
        result[key] = result[key] and bool(value)
    return result
