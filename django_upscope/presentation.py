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

from .exceptions import (
    UpscopeAuthenticationError,
    UpscopeConfigurationError,
    UpscopeError,
    UpscopeInvalidInput,
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


#: Explanations that quote the error itself, by the class they belong to.
_COMPOSED: dict[type[UpscopeError], Callable[[UpscopeError], str]] = {
    UpscopeInvalidInput: lambda error: error.message,
    UpscopeAuthenticationError: _authentication,
    UpscopeConfigurationError: _configuration,
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
        str(error.title),
        explain(error),
        retry=error.retry,
        retry_after=whole_seconds(getattr(error, "retry_after", None)),
    )
