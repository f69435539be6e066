"""Sending one logical request to Upscope: the retry loop and its policy.

The waits and clocks are parameters (``sleep``, ``clock``), so a caller or a test
can make retries instant without patching the ``time`` module. Nothing here knows
what an answer means: the caller passes ``handle``, which maps one response to a
result or raises (see :mod:`django_upscope.client.responses`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from django.views.decorators.debug import sensitive_variables

from .. import __version__
from ..exceptions import UpscopeConnectionError, UpscopeError, UpscopeTimeout, UpscopeUnavailable

logger = logging.getLogger("django_upscope.client")

USER_AGENT = f"django-upscope/{__version__} (+https://pypi.org/project/django-upscope/)"

#: The statuses worth another attempt (with ``Retry-After`` honoured when sent).
RETRY_STATUSES = frozenset({429, 502, 503, 504})

#: The methods that are safe to repeat; POST (minting a watch URL) never is.
RETRYABLE_METHODS = frozenset({"GET", "DELETE"})

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """When to try a failed request again, and after how long.

    At most ``max_retries`` retries, with exponential backoff from ``backoff``
    seconds (or longer when Upscope's ``Retry-After`` says so), and never past
    ``max_time`` seconds spent in total.
    """

    max_retries: int
    max_time: float
    backoff: float

    def delay(self, error: UpscopeError, attempt: int, spent: float) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or ``None`` to give up now."""
        if not isinstance(error, UpscopeUnavailable) or attempt >= self.max_retries:
            return None
        if error.status_code is not None and error.status_code not in RETRY_STATUSES:
            return None
        delay = self.backoff * (2**attempt)
        if error.retry_after is not None:
            delay = max(delay, error.retry_after)
        if spent + delay > self.max_time:
            return None
        return delay


def origin(url: str) -> str:
    """``scheme://host:port`` of ``url``: where a request went, without path or userinfo.

    Error messages name it so that a wrong ``API_URL`` port shows; the path is left
    out, as is anything before ``@`` (credentials someone may have put in the URL).
    """
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{host}:{port}"


def header_safe(value: Any) -> bool:
    """Whether a key can go in an HTTP header as is: printable ASCII, no surrounding space."""
    if not isinstance(value, str):
        return False
    return value.isascii() and value.isprintable() and value == value.strip()


def drop_frames(exc: BaseException | None) -> None:
    """Drop the tracebacks of a requests/urllib3 failure before chaining it.

    Their frames hold the request headers (the API key) as local variables,
    which error reports that show locals (Django's admin e-mails, Sentry)
    would print. The exception text, which names no secret, is kept.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        exc.__traceback__ = None
        exc = exc.__cause__ or exc.__context__


class Transport:
    """Sends requests to ``base_url`` over one ``requests.Session``, retrying when safe."""

    def __init__(
        self,
        base_url: str,
        *,
        session: requests.Session,
        timeout: float,
        retry: RetryPolicy,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url
        self.session = session
        self.timeout = timeout
        self.retry = retry
        self.sleep = sleep
        self.clock = clock
        self.origin = origin(base_url)

    @sensitive_variables("headers")
    def send(
        self,
        method: str,
        path: str,
        handle: Callable[[requests.Response, int], T],
        *,
        headers: Mapping[str, str],
        params: Mapping[str, str] | None = None,
        json_body: Mapping[str, Any] | None = None,
    ) -> T:
        """Send ``method path`` until ``handle(response, attempt)`` returns, or give up.

        ``handle`` raising :class:`~django_upscope.exceptions.UpscopeUnavailable`
        (429, 5xx) counts as a failed attempt, as do timeouts and broken
        connections; any other error is raised at once.
        """
        started = self.clock()
        slept = 0.0
        attempt = 0
        while True:
            try:
                return self._attempt(method, path, handle, attempt, headers, params, json_body)
            except requests.RequestException as exc:
                error: UpscopeError = self._transport_error(exc, method, path)
                cause: BaseException = exc
            except UpscopeUnavailable as exc:
                error, cause = exc, exc
            logger.warning(
                "Upscope %s %s failed (attempt %d): %s", method, path, attempt + 1, error.code
            )
            # Real sleeps show in the clock; the slept total keeps the bound when
            # ``sleep`` does not really wait (tests).
            spent = max(self.clock() - started, slept)
            delay = self.retry.delay(error, attempt, spent) if method in RETRYABLE_METHODS else None
            if delay is None:
                if cause is error:
                    raise error
                drop_frames(cause)
                raise error from cause
            self.sleep(delay)
            slept += delay
            attempt += 1

    @sensitive_variables("headers")
    def _attempt(
        self,
        method: str,
        path: str,
        handle: Callable[[requests.Response, int], T],
        attempt: int,
        headers: Mapping[str, str],
        params: Mapping[str, str] | None,
        json_body: Mapping[str, Any] | None,
    ) -> T:
        sent = self.clock()
        # Redirects are not followed: requests would carry X-Api-Key to whatever
        # host a redirect names.
        response = self.session.request(
            method,
            self.base_url + path,
            params=params,
            json=json_body,
            headers=headers,
            timeout=self.timeout,
            allow_redirects=False,
        )
        try:
            result = handle(response, attempt)
        finally:
            # Give the connection back now, not when a traceback is collected.
            response.close()
        logger.debug(
            "Upscope %s %s -> %s in %.0f ms",
            method,
            path,
            response.status_code,
            (self.clock() - sent) * 1000,
        )
        return result

    def _transport_error(
        self, exc: requests.RequestException, method: str, path: str
    ) -> UpscopeError:
        """The error for a request that got no whole answer; it names the host tried."""
        if isinstance(exc, requests.Timeout):
            return UpscopeTimeout(
                f"Upscope at {self.origin} did not answer {method} {path} within {self.timeout:g} s"
            )
        if isinstance(
            exc,
            (
                requests.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ),
        ):
            return UpscopeConnectionError(
                f"Could not reach Upscope at {self.origin} for {method} {path}: the "
                "connection failed or was dropped"
            )
        return UpscopeConnectionError(f"Upscope request {method} {path} to {self.origin} failed")
