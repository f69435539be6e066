"""What Upscope's answers mean: status and body to result or exception.

Each endpoint states its contract once, as a :class:`Contract` built by
:func:`expect_json` (a JSON body given to a parser), :func:`expect_ok` (a
deletion: empty, plain ``ok`` or JSON ``{"status": "ok"}``) or
:func:`expect_plain_ok` (exactly ``ok``). :func:`handle` applies the error
statuses every endpoint shares (docs/upscope-api.md, "Errors"). Error text
never copies what Upscope says about itself (headers, bodies), only its
status, the size of a body and an error code that is a short token.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

import requests
from django.views.decorators.debug import sensitive_variables

from ..exceptions import (
    UpscopeAPIError,
    UpscopeAuthenticationError,
    UpscopeError,
    UpscopeInvalidResponse,
    UpscopeRateLimited,
    UpscopeSubscriptionLimit,
    UpscopeUnavailable,
    UpscopeVisitorNotFound,
)
from ..resources import WatchURL
from ..vocabulary import AUTHENTICATION_CODES, AUTHENTICATION_REASONS, ERROR_CODE_RE
from .transport import drop_frames

#: The codes this library knows, which are never taken for an echo of the secret.
KNOWN_ERROR_CODES = AUTHENTICATION_CODES | {"not_found", "subscription_limit", "rate_limited"}

T = TypeVar("T")


@dataclass(frozen=True)
class Request:
    """What the mapping knows about the request an answer belongs to.

    ``secret`` is only compared with error codes (one that contains it is not
    copied); ``wall_clock`` turns an HTTP-date ``Retry-After`` into seconds.
    """

    method: str
    path: str
    on_premise: bool = False
    secret: str | None = field(default=None, repr=False)
    wall_clock: Callable[[], float] = time.time

    @property
    def where(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Contract(Generic[T]):
    """One endpoint's answer: how a 2xx is read, and what its 404 means.

    ``not_found`` builds the error for a 404 (``None``: a 404 is a wrong URL).
    ``gone_means_done``: a 404 to a retry means the first attempt went through
    and its answer was lost (a deletion), so the result is ``None``.
    """

    read: Callable[[requests.Response, Request], T]
    not_found: Callable[[], UpscopeError] | None = None
    gone_means_done: bool = False


def visitor_not_found(short_id: str) -> Callable[[], UpscopeError]:
    """The ``not_found`` of an endpoint about visitor ``short_id``."""
    return lambda: UpscopeVisitorNotFound(
        f"Upscope has no visitor {short_id!r}.", status_code=404, code="visitor_not_found"
    )


def expect_json(
    parse: Callable[[Any], T], *, not_found: Callable[[], UpscopeError] | None = None
) -> Contract[T]:
    """A JSON body, given to ``parse`` (which raises ``UpscopeInvalidResponse``)."""

    # The payload may hold a watch URL; error reports that show locals must not.
    @sensitive_variables("payload")
    def read(response: requests.Response, request: Request) -> T:
        payload = json_body(response, request)
        try:
            return parse(payload)
        except UpscopeInvalidResponse as exc:
            # The parsers say what is wrong ("visitor response is not a JSON object");
            # say where too, and that it is Upscope's answer.
            raise UpscopeInvalidResponse(
                f"Upscope's answer to {request.where} is not the documented shape: {exc.message}.",
                status_code=response.status_code if exc.status_code is None else exc.status_code,
            ) from None

    return Contract(read, not_found)


def expect_ok(
    *, not_found: Callable[[], UpscopeError] | None = None, gone_means_done: bool = False
) -> Contract[None]:
    """A deletion's answer: empty, ``ok`` (maybe quoted) or JSON with status ok."""

    def read(response: requests.Response, request: Request) -> None:
        if response.text.strip().strip('"') in ("", "ok"):
            return None
        payload = json_body(response, request)
        if not isinstance(payload, dict) or payload.get("status", "ok") != "ok":
            raise UpscopeInvalidResponse(
                f"{request.where}: Upscope did not answer status ok",
                status_code=response.status_code,
            )
        return None

    return Contract(read, not_found, gone_means_done)


def expect_plain_ok(*, not_found: Callable[[], UpscopeError] | None = None) -> Contract[None]:
    """Exactly ``ok`` (maybe quoted), as ``DELETE /visitors/:short_id/session`` answers."""

    @sensitive_variables("text")
    def read(response: requests.Response, request: Request) -> None:
        text = response.text
        if text.strip().strip('"') != "ok":
            raise UpscopeInvalidResponse(
                "stop session: Upscope did not answer 'ok'", status_code=response.status_code
            )

    return Contract(read, not_found)


def handle(response: requests.Response, request: Request, contract: Contract[T], attempt: int) -> T:
    """The result of ``response`` under ``contract``, or the error it stands for.

    A 404 means "no such visitor" (or "already deleted") only when its body is
    Upscope's own error shape: a proxy's HTML 404 or a wrong ``API_URL`` path is
    an :class:`~django_upscope.exceptions.UpscopeAPIError` like any other 404.
    """
    status = response.status_code
    if 200 <= status < 300:
        return contract.read(response, request)
    if status == 404 and is_upscope_error(response):
        if contract.gone_means_done and attempt > 0:
            return None  # type: ignore[return-value]  # only deletions, whose result is None
        if contract.not_found is not None:
            raise contract.not_found()
    raise error_for_status(response, request)


class JSONTooDeep(ValueError):
    """JSON nested too deeply for the parser's stack."""


def loads(content: bytes) -> Any:
    """``json.loads``, with nesting too deep for the parser's stack a ``ValueError`` too."""
    try:
        return json.loads(content)
    except RecursionError:
        # Not chained: the RecursionError says nothing more, and its context holds the body.
        raise JSONTooDeep("JSON nested too deeply to parse") from None


@sensitive_variables("body")
def is_upscope_error(response: requests.Response) -> bool:
    """Whether the body is Upscope's error shape, ``{"status": "error", ...}``
    (docs/upscope-api.md, "Errors")."""
    try:
        body = loads(response.content)
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("status") == "error"


def error_for_status(response: requests.Response, request: Request) -> UpscopeError:
    """The error a non-2xx answer stands for (a 404 here is a wrong URL)."""
    status = response.status_code
    code = error_code(response, request.secret)
    if status == 401:
        code = code if code in AUTHENTICATION_CODES else "invalid_api_key"
        return UpscopeAuthenticationError(
            authentication_message(code, on_premise=request.on_premise),
            status_code=401,
            code=code,
        )
    if status == 402:
        what = "this screen share" if request.path.endswith("/watch_url.json") else request.where
        return UpscopeSubscriptionLimit(
            f"Upscope refused {what}: it would pass the subscription's limits.",
            status_code=402,
            code=code or "subscription_limit",
        )
    retry_after = retry_after_seconds(response.headers.get("Retry-After"), request.wall_clock)
    if status == 429:
        return UpscopeRateLimited(
            f"Upscope is rate limiting requests ({request.where}).",
            status_code=429,
            code="rate_limited",
            retry_after=retry_after,
        )
    if status >= 500:
        return UpscopeUnavailable(
            f"Upscope answered {status} (a server error) to {request.where}.",
            status_code=status,
            code=f"http_{status}",
            retry_after=retry_after,
        )
    setting = "BASE_ENDPOINT" if request.on_premise else "API_URL"
    hint = f" (check UPSCOPE['{setting}'])." if status == 404 or status < 400 else "."
    return UpscopeAPIError(
        f"Upscope answered {status} to {request.where}{hint}",
        status_code=status,
        code=code or f"http_{status}",
    )


def authentication_message(code: str, *, on_premise: bool) -> str:
    """The message of a refused key: the reason for ``code`` and the setting to fix."""
    setting = "REST_KEY" if on_premise else "API_KEY"
    return (
        AUTHENTICATION_REASONS.get(code, "Upscope refused the credentials")
        + f" ({code}); an administrator must fix UPSCOPE['{setting}'] or the subscription."
    )


def error_code(response: requests.Response, secret: str | None = None) -> str | None:
    """Upscope's ``error`` code, if it is a short token (and not our own secret)."""
    try:
        body = loads(response.content)
    except ValueError:
        return None
    code = body.get("error") if isinstance(body, dict) else None
    if not isinstance(code, str) or not ERROR_CODE_RE.fullmatch(code):
        return None
    if secret and _echoes(code, secret.lower()):
        return None
    return code


def _echoes(code: str, secret: str) -> bool:
    """Whether ``code`` holds the secret, or a run of it long enough to matter."""
    if secret in code:
        return True
    return code not in KNOWN_ERROR_CODES and len(code) >= 6 and code in secret


@sensitive_variables("payload")
def json_body(response: requests.Response, request: Request) -> Any:
    """The JSON body of a 2xx answer; ``{"status": "error"}`` raises the error it names."""
    try:
        payload = loads(response.content)
    except ValueError as exc:
        # The decoder's frames hold the body (maybe a watch URL): keep only its text.
        drop_frames(exc)
        what = "JSON nested too deeply to read" if isinstance(exc, JSONTooDeep) else "not JSON"
        raise UpscopeInvalidResponse(
            f"Upscope answered {request.where} with a body that is {what} "
            f"({len(response.content)} bytes).",
            status_code=response.status_code,
        ) from exc
    if isinstance(payload, dict) and payload.get("status") == "error":
        code = error_code(response, request.secret) or "api_error"
        if code in AUTHENTICATION_CODES:
            raise UpscopeAuthenticationError(
                authentication_message(code, on_premise=request.on_premise),
                status_code=response.status_code,
                code=code,
            )
        raise UpscopeAPIError(
            f"Upscope reported an error ({code}) for {request.where}.",
            status_code=response.status_code,
            code=code,
        )
    return payload


def retry_after_seconds(value: str | None, wall_clock: Callable[[], float]) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delay seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - wall_clock())


def host_allowed(host: str, patterns: Iterable[str]) -> bool:
    """Whether ``host`` is one of ``patterns``: exact hosts, or ``*.example.com`` for
    any subdomain of ``example.com`` (not ``example.com`` itself). Case-insensitive."""
    host = host.lower().rstrip(".")
    for pattern in patterns:
        pattern = pattern.lower().strip("[]")  # an IPv6 host is listed in brackets
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif host == pattern:
            return True
    return False


@sensitive_variables("payload", "url", "parts")
def watch_url_from_payload(payload: Any, hosts: Iterable[str] | None = None) -> WatchURL:
    """The ``watch_url`` of ``POST /visitors/:short_id/watch_url.json``: an http(s) URL,
    on one of ``hosts`` (see :func:`host_allowed`; ``None``: any host).

    A refused URL is never named in the error: it is a bearer secret.
    """
    url = payload.get("watch_url") if isinstance(payload, dict) else None
    try:
        parts = urlsplit(url) if isinstance(url, str) else None
        host = parts.hostname if parts is not None else None
    except ValueError:  # e.g. an unclosed IPv6 bracket
        parts, host = None, None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise UpscopeInvalidResponse("watch_url response did not hold an http(s) watch_url")
    if hosts is not None and not host_allowed(host, hosts):
        raise UpscopeInvalidResponse(
            "watch_url points to a host that is not in UPSCOPE['WATCH_URL_HOSTS']"
        )
    return WatchURL(url)
