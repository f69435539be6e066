"""One description of each Upscope error, shared by every surface.

:func:`describe` gives the HTTP status that the screen-share page, the admin and
the REST API answer with, a title and an explanation for people, whether trying
again may help, and the seconds Upscope asked to wait. It is built from the
error's class and code (plus the error's own message where that helps, which
never holds a key or a watch URL), so it is safe to show.

=====================================  ======  ==================================
exception                              status  title
=====================================  ======  ==================================
UpscopeInvalidInput                    400     Invalid request
UpscopeSubscriptionLimit               402     Subscription limit reached
UpscopeVisitorNotFound                 404     Visitor not found
UpscopeNotSupported                    501     Not available with this server
UpscopeAuthenticationError             502     Upscope refused this site's ...
UpscopeConfigurationError              502     Upscope is not configured
UpscopeInvalidResponse                 502     Upscope sent an unexpected answer
UpscopeAPIError (any other)            502     Upscope reported an error
UpscopeTimeout                         504     Upscope is unavailable
UpscopeUnavailable (and the others)    503     Upscope is unavailable
=====================================  ======  ==================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils.translation import gettext as _

from .exceptions import (
    AUTHENTICATION_REASONS,
    UpscopeAuthenticationError,
    UpscopeConfigurationError,
    UpscopeError,
    UpscopeInvalidInput,
    UpscopeInvalidResponse,
    UpscopeNotSupported,
    UpscopeSubscriptionLimit,
    UpscopeTimeout,
    UpscopeUnavailable,
    UpscopeVisitorNotFound,
)


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


def describe(error: UpscopeError) -> ErrorDescription:
    """The :class:`ErrorDescription` of ``error`` (see the module's table)."""
    if isinstance(error, UpscopeInvalidInput):
        return ErrorDescription(400, _("Invalid request"), error.message, retry=False)
    if isinstance(error, UpscopeSubscriptionLimit):
        return ErrorDescription(
            402,
            _("Subscription limit reached"),
            _(
                "Upscope refused because this would pass the limits of your Upscope "
                "subscription (for example the number of agents or concurrent sessions). End "
                "another session or ask an administrator to raise the plan."
            ),
            retry=True,
        )
    if isinstance(error, UpscopeVisitorNotFound):
        return ErrorDescription(
            404,
            _("Visitor not found"),
            _(
                "Upscope has no visitor with this id. The visitor may have been deleted, "
                "or the id is wrong."
            ),
            retry=False,
        )
    if isinstance(error, UpscopeNotSupported):
        return ErrorDescription(
            501,
            _("Not available with this Upscope server"),
            _(
                "The on-premise Upscope API does not offer this operation; only Upscope's "
                "cloud API does."
            ),
            retry=False,
        )
    if isinstance(error, UpscopeAuthenticationError):
        reason = AUTHENTICATION_REASONS.get(error.code, "Upscope refused the credentials")
        return ErrorDescription(
            502,
            _("Upscope refused this site's credentials"),
            f"{reason}. "
            + _(
                "An administrator must fix the UPSCOPE settings of this site "
                "(the API key or the subscription)."
            ),
            retry=False,
        )
    if isinstance(error, UpscopeConfigurationError):
        return ErrorDescription(
            502,
            _("Upscope is not configured"),
            f"{error.message} " + _("An administrator must fix the UPSCOPE settings of this site."),
            retry=False,
        )
    if isinstance(error, UpscopeUnavailable):
        retry_after = error.retry_after
        return ErrorDescription(
            504 if isinstance(error, UpscopeTimeout) else 503,
            _("Upscope is unavailable"),
            _(
                "Upscope could not be reached or did not answer in time. This is usually "
                "temporary: try again in a moment."
            ),
            retry=True,
            retry_after=None if retry_after is None else max(0, math.ceil(retry_after)),
        )
    if isinstance(error, UpscopeInvalidResponse):
        return ErrorDescription(
            502,
            _("Upscope sent an unexpected answer"),
            _(
                "Upscope answered, but not in the documented form. Try again; if it keeps "
                "happening, an administrator should check the UPSCOPE settings (API_URL)."
            ),
            retry=True,
        )
    return ErrorDescription(
        502,
        _("Upscope reported an error"),
        _("Upscope answered with an error (%(code)s).") % {"code": error.code},
        retry=True,
    )
