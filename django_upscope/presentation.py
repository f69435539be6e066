"""One description of each Upscope error, shared by every surface.

:func:`describe` gives the HTTP status that the screen-share page, the admin and
the REST API answer with, a title and an explanation for people, whether trying
again may help, and the seconds Upscope asked to wait. The status, title,
explanation and ``retry`` are attributes of the error's class (see
:mod:`django_upscope.exceptions`); only the explanations that quote the error
(its message, or the reason for its code) are composed here. Messages never hold
a key or a watch URL, so a description is safe to show.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .exceptions import (
    UpscopeAuthenticationError,
    UpscopeConfigurationError,
    UpscopeConnectionError,
    UpscopeError,
    UpscopeInvalidInput,
    UpscopeNotSupported,
    UpscopeRateLimited,
    UpscopeTimeout,
    UpscopeUnavailable,
)
from .vocabulary import AUTHENTICATION_REASONS


@dataclass(frozen=True)
class ErrorDescription:
    """What to tell a person about an Upscope error, and with which HTTP status.

    ``retry``: trying again may help. ``retry_after``: whole seconds Upscope asked
    to wait (for a ``Retry-After`` header), when it said.
    """

    status: int
    title: str
    explanation: str
    retry: bool
    retry_after: int | None = None

    @property
    def text(self) -> str:
        """Title and explanation in one line, for admin messages and JSON details."""
        return f"{self.title}: {self.explanation}"


def _authentication(error: UpscopeError) -> str:
    reason = AUTHENTICATION_REASONS.get(error.code, "Upscope refused the credentials")
    return f"{reason}. " + _(
        "An administrator must fix the UPSCOPE settings of this site "
        "(the API key or the subscription)."
    )


def _configuration(error: UpscopeError) -> str:
    return f"{error.message} " + _("An administrator must fix the UPSCOPE settings of this site.")


def _generic(error: UpscopeError) -> str:
    return _("Upscope answered with an error (%(code)s).") % {"code": error.code}


def wait_in_words(seconds: int) -> str:
    """``Retry-After`` for people: "try again in 30 seconds" (minutes, hours when long)."""
    if seconds <= 0:
        return _("you can try again now")
    if seconds < 120:
        return ngettext(
            "try again in %(count)d second", "try again in %(count)d seconds", seconds
        ) % {"count": seconds}
    minutes = math.ceil(seconds / 60)
    if minutes < 120:
        return ngettext(
            "try again in %(count)d minute", "try again in %(count)d minutes", minutes
        ) % {"count": minutes}
    hours = math.ceil(minutes / 60)
    return ngettext("try again in %(count)d hour", "try again in %(count)d hours", hours) % {
        "count": hours
    }


def _unavailable_cause(error: UpscopeError) -> str:
    if isinstance(error, UpscopeTimeout):
        return _("Upscope did not answer within the time this site waits for it.")
    if isinstance(error, UpscopeConnectionError):
        return _("The connection to Upscope failed or was cut off before a whole answer came.")
    if isinstance(error, UpscopeRateLimited):
        return _("Upscope is limiting how many requests this site may send.")
    if error.status_code is None:
        return _("Upscope could not be reached or did not answer in time.")
    return _("Upscope answered with a server error (HTTP %(status)d).") % {
        "status": error.status_code
    }


def _unavailable(error: UpscopeError) -> str:
    seconds = whole_seconds(getattr(error, "retry_after", None))
    if seconds is None:
        wait = _("This is usually temporary: try again in a moment.")
    else:
        wait = _("Upscope asked to wait: %(wait)s.") % {"wait": wait_in_words(seconds)}
    return f"{_unavailable_cause(error)} {wait}"


def title(error: UpscopeError) -> str:
    """The error's title; a bare :class:`UpscopeUnavailable` without an HTTP status (no
    answer came) reads as a connection failure, not as a server error."""
    if type(error) is UpscopeUnavailable and error.status_code is None:
        return str(UpscopeConnectionError.title)
    return str(error.title)


#: Explanations that quote the error itself, by the class they belong to.
_COMPOSED: dict[type[UpscopeError], Callable[[UpscopeError], str]] = {
    UpscopeInvalidInput: lambda error: error.message,
    # The client names what the server lacks (django_upscope.capabilities), in people's words.
    UpscopeNotSupported: lambda error: error.message or str(UpscopeNotSupported.explanation),
    UpscopeAuthenticationError: _authentication,
    UpscopeConfigurationError: _configuration,
    UpscopeUnavailable: _unavailable,
    UpscopeError: _generic,
}


def explain(error: UpscopeError) -> str:
    """The explanation of ``error``: the nearest class (in MRO order) that states one."""
    for cls in type(error).__mro__:
        compose = _COMPOSED.get(cls)
        if compose is not None:
            return compose(error)
        fixed = cls.__dict__.get("explanation")
        if fixed is not None:
            return str(fixed)
    return _generic(error)  # not reached: UpscopeError is in every error's MRO


def whole_seconds(seconds: float | None) -> int | None:
    """``Retry-After`` seconds rounded up to a whole number (``None`` stays ``None``)."""
    return None if seconds is None else max(0, math.ceil(seconds))


def describe(error: UpscopeError) -> ErrorDescription:
    """The :class:`ErrorDescription` of ``error``, from its class's presentation."""
    return ErrorDescription(
        error.http_status,
        title(error),
        explain(error),
        retry=error.retry,
        retry_after=whole_seconds(getattr(error, "retry_after", None)),
    )
