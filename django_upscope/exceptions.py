"""Errors raised by django-upscope.

Every error is an :class:`UpscopeError` with ``status_code`` (the HTTP status
Upscope answered, or ``None`` when no answer came) and ``code`` (a short
string: Upscope's own error code where it sent one). Messages never contain
the API key, the REST key or a watch URL.

Each class also says how the pages and the REST API present it, as class
attributes (as Django REST framework's ``APIException`` does): ``http_status``
(the status this site answers with), ``title`` and ``explanation`` (for people;
translated when shown) and ``retry`` (whether trying again may help). A subclass
inherits what it does not restate; :func:`django_upscope.presentation.describe`
reads them.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# Re-exported for old imports; the vocabulary module is their home.
from .vocabulary import AUTHENTICATION_CODES, AUTHENTICATION_REASONS  # noqa: F401


class UpscopeError(Exception):
    """Base class of every django-upscope error."""

    default_code = "upscope_error"
    http_status: int = 502
    title: str | Promise = _("Upscope reported an error")
    #: ``None``: the explanation is composed from the error (see ``presentation``).
    explanation: str | Promise | None = None
    retry: bool = True

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code or self.default_code

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, status_code={self.status_code!r}, "
            f"code={self.code!r})"
        )


class UpscopeConfigurationError(UpscopeError, ImproperlyConfigured):
    """The ``UPSCOPE`` setting is missing or contradictory (nothing was sent)."""

    default_code = "not_configured"
    title = _("Upscope is not configured")
    retry = False


class UpscopeNotSupported(UpscopeError):
    """The operation does not exist in the API being used (nothing was sent)."""

    default_code = "not_supported_on_premise"
    http_status = 501
    title = _("Not available with this Upscope server")
    explanation = _(
        "The on-premise Upscope API does not offer this operation; only Upscope's cloud API does."
    )
    retry = False


class UpscopeInvalidInput(UpscopeError, ValueError):
    """An argument was refused before any request was sent."""

    default_code = "invalid_input"
    http_status = 400
    title = _("Invalid request")
    retry = False


class UpscopeAPIError(UpscopeError):
    """Upscope answered with an error this library has no finer class for."""

    default_code = "api_error"


class UpscopeAuthenticationError(UpscopeAPIError):
    """401: the key is wrong, or the subscription does not allow API access.

    ``code`` is what Upscope sent: ``invalid_api_key``, ``subscription_expired``,
    ``api_not_enabled``, ``no_subscription`` or ``please_contact_team``. These are
    configuration problems an administrator must fix; they are never retried.
    """

    default_code = "invalid_api_key"
    title = _("Upscope refused this site's credentials")
    retry = False


class UpscopeVisitorNotFound(UpscopeAPIError):
    """404: Upscope has no visitor with this short_id."""

    default_code = "visitor_not_found"
    http_status = 404
    title = _("Visitor not found")
    explanation = _(
        "Upscope has no visitor with this id. The visitor may have been deleted, "
        "or the id is wrong."
    )
    retry = False


class UpscopeSubscriptionLimit(UpscopeAPIError):
    """402: the screen share would pass the subscription's limits."""

    default_code = "subscription_limit"
    http_status = 402
    title = _("Subscription limit reached")
    explanation = _(
        "Upscope refused because this would pass the limits of your Upscope "
        "subscription (for example the number of agents or concurrent sessions). End "
        "another session or ask an administrator to raise the plan."
    )


class UpscopeUnavailable(UpscopeError):
    """Upscope could not be reached or answered a transient error (429, 5xx).

    Raised as such for a 5xx answer; the subclasses say when no answer came
    (timeout, connection) or Upscope asked to slow down (429). ``retry_after``
    holds the seconds Upscope asked to wait, when it said. The explanation is
    composed in ``presentation`` (it quotes the status and the wait).
    """

    default_code = "unavailable"
    http_status = 503
    title = _("Upscope reported a server error")

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, code=code)
        self.retry_after = retry_after


class UpscopeTimeout(UpscopeUnavailable):
    """No answer within ``TIMEOUT`` seconds."""

    default_code = "timeout"
    http_status = 504
    title = _("Upscope did not answer in time")


class UpscopeConnectionError(UpscopeUnavailable):
    """The connection failed or was dropped before a whole answer arrived."""

    default_code = "connection_error"
    title = _("Upscope could not be reached")


class UpscopeRateLimited(UpscopeUnavailable):
    """429: too many requests."""

    default_code = "rate_limited"
    title = _("Upscope asked this site to slow down")


class UpscopeInvalidResponse(UpscopeError):
    """Upscope's answer was not the documented shape (HTML page, broken JSON...)."""

    default_code = "invalid_response"
    title = _("Upscope sent an unexpected answer")
    explanation = _(
        "Upscope answered, but not in the documented form. Try again; if it keeps "
        "happening, an administrator should check the UPSCOPE settings (API_URL)."
    )
