"""The Upscope REST client: the only module that speaks HTTP to Upscope.

Cloud (API v1.1, seed ``000``)::

    client = UpscopeClient(api_key="...", api_url="https://api.upscope.io/v1.1")

On-premise (seed ``002``)::

    client = UpscopeClient(rest_key="...", base_endpoint="https://support.example.com/cobrowsing")

or :func:`get_client` to build one from ``settings.UPSCOPE``.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from django.views.decorators.debug import sensitive_variables

from . import __version__
from .conf import number_problem, upscope_settings, url_problem
from .exceptions import (
    UpscopeAPIError,
    UpscopeAuthenticationError,
    UpscopeConfigurationError,
    UpscopeConnectionError,
    UpscopeError,
    UpscopeInvalidInput,
    UpscopeInvalidResponse,
    UpscopeNotSupported,
    UpscopeRateLimited,
    UpscopeSubscriptionLimit,
    UpscopeTimeout,
    UpscopeUnavailable,
    UpscopeVisitorNotFound,
)
from .resources import (
    Usage,
    VisitorData,
    WatchURL,
    visitor_from_detail_payload,
    visitors_from_list_payload,
)
from .vocabulary import (
    AUTHENTICATION_CODES,
    AUTHENTICATION_REASONS,
    BRANDING_KEYS,
    DEFAULT_API_URL,
    ERROR_CODE_RE,
    MAX_QUERY_LENGTH,
    PERMISSION_KEYS,
    SHORT_ID_RE,
)

logger = logging.getLogger("django_upscope.client")

USER_AGENT = f"django-upscope/{__version__} (+https://pypi.org/project/django-upscope/)"

RETRY_STATUSES = frozenset({429, 502, 503, 504})


def validate_short_id(short_id: Any) -> str:
    """Return ``short_id`` if it is a safe token, else raise ``UpscopeInvalidInput``."""
    if not isinstance(short_id, str) or not SHORT_ID_RE.fullmatch(short_id):
        raise UpscopeInvalidInput(
            "short_id must be 1-128 letters, digits, '-' or '_' (Upscope's visitor id), "
            f"got {short_id!r:.60}",
            code="invalid_short_id",
        )
    return short_id


def validate_query(query: Any) -> str | None:
    if query is None:
        return None
    if not isinstance(query, str):
        raise UpscopeInvalidInput("search query must be a string", code="invalid_query")
    if len(query) > MAX_QUERY_LENGTH:
        raise UpscopeInvalidInput(
            f"search query is longer than {MAX_QUERY_LENGTH} characters", code="invalid_query"
        )
    try:
        query.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UpscopeInvalidInput(
            "search query is not valid Unicode text", code="invalid_query"
        ) from exc
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in query):
        raise UpscopeInvalidInput("search query contains control characters", code="invalid_query")
    return query.strip() or None


def validate_metadata(metadata: Any) -> dict[str, str | int | float | bool]:
    """Metadata must be flat: string keys, values str, int, float (finite) or bool."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise UpscopeInvalidInput("metadata must be a dict", code="invalid_metadata")
    bad = []
    for key, value in metadata.items():
        ok_key = isinstance(key, str) and key != ""
        ok_value = isinstance(value, (str, int, float, bool)) and not (
            isinstance(value, float) and not math.isfinite(value)
        )
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                ok_value = False
        if isinstance(key, str):
            try:
                key.encode("utf-8")
            except UnicodeEncodeError:
                ok_key = False
        if not (ok_key and ok_value):
            bad.append(key)
    if bad:
        names = ", ".join(sorted(repr(k)[:40] for k in bad))
        raise UpscopeInvalidInput(
            "metadata must be flat (string keys; str, int, float or bool values); "
            f"offending keys: {names}",
            code="invalid_metadata",
        )
    return dict(metadata)


def _validate_options(
    value: Any, known: tuple[str, ...], what: str, check: Callable[[str, Any], bool]
) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise UpscopeInvalidInput(f"{what} must be a dict", code=f"invalid_{what}")
    unknown = [k for k in value if k not in known]
    if unknown:
        raise UpscopeInvalidInput(
            f"unknown {what} keys: {', '.join(sorted(repr(k)[:40] for k in unknown))}; "
            f"known keys: {', '.join(known)}",
            code=f"invalid_{what}",
        )
    wrong = [k for k, v in value.items() if not check(k, v)]
    if wrong:
        raise UpscopeInvalidInput(
            f"{what} values of the wrong type: {', '.join(sorted(wrong))}",
            code=f"invalid_{what}",
        )
    return dict(value)


def _branding_ok(key: str, value: Any) -> bool:
    if key == "naked":
        return isinstance(value, bool) or value == "page_only"
    if key == "no_bottom_bar":
        return value is None or isinstance(value, bool)
    # retry_url / on_end_url: absolute http(s) URLs or None.
    if value is None:
        return True
    if not isinstance(value, str) or not value.isprintable():
        return False
    try:
        parts = urlsplit(value)
        # .port raises ValueError for a port that is not a number in 0-65535.
        parts.port  # noqa: B018
    except ValueError:  # e.g. "http://[::1" (an unclosed IPv6 bracket)
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def validate_branding(branding: Any) -> dict[str, Any]:
    return _validate_options(branding, BRANDING_KEYS, "branding", _branding_ok)


def validate_permissions(permissions: Any) -> dict[str, bool]:
    return _validate_options(
        permissions, PERMISSION_KEYS, "permissions", lambda _k, v: isinstance(v, bool)
    )


def _validate_agent(value: Any, name: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or not value.isprintable():
        raise UpscopeInvalidInput(
            f"{name} is required: a non-empty printable string", code=f"invalid_{name}"
        )
    return value


def _check_base_url(value: Any, setting: str) -> None:
    problem = url_problem(value)
    if problem:
        raise UpscopeConfigurationError(f"UPSCOPE['{setting}'] {problem}.", code="invalid_url")


def _number_setting(setting: str, value: Any, default: Any) -> Any:
    value = default if value is None else value
    problem = number_problem(setting, value)
    if problem:
        raise UpscopeConfigurationError(f"UPSCOPE['{setting}'] {problem}.", code="invalid_setting")
    return value


def _retry_after_seconds(value: str | None) -> float | None:
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
    return max(0.0, when.timestamp() - time.time())


class UpscopeClient:
    """A client for Upscope's cloud (v1.1) or on-premise REST API.

    Pass ``api_key`` (and optionally ``api_url``) for the cloud, or ``rest_key``
    and ``base_endpoint`` for an on-premise server. Requests share one
    ``requests.Session``. GET and DELETE requests are retried on connection
    errors, timeouts, 429, 502, 503 and 504, at most ``max_retries`` times and
    within ``retry_max_time`` seconds; POST is never retried.
    """

    @sensitive_variables("api_key", "rest_key")
    def __init__(
        self,
        api_key: str | None = None,
        api_url: str | None = None,
        *,
        rest_key: str | None = None,
        base_endpoint: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        retry_max_time: float | None = None,
        retry_backoff: float | None = None,
        session: requests.Session | None = None,
    ) -> None:
        if base_endpoint and (api_key or api_url):
            raise UpscopeConfigurationError(
                "Configure either the cloud API (API_KEY/API_URL) or an on-premise server "
                "(BASE_ENDPOINT/REST_KEY), not both."
            )
        if rest_key and not base_endpoint:
            raise UpscopeConfigurationError(
                "REST_KEY is for on-premise servers: set UPSCOPE['BASE_ENDPOINT'] too."
            )
        self.on_premise = bool(base_endpoint)
        if self.on_premise:
            assert base_endpoint is not None
            _check_base_url(base_endpoint, "BASE_ENDPOINT")
            self.base_url = base_endpoint.rstrip("/") + "/api"
            self._secret = rest_key
        else:
            _check_base_url(api_url or DEFAULT_API_URL, "API_URL")
            self.base_url = (api_url or DEFAULT_API_URL).rstrip("/")
            self._secret = api_key
        s = upscope_settings
        self.timeout = float(_number_setting("TIMEOUT", timeout, s.TIMEOUT))
        self.max_retries = int(_number_setting("MAX_RETRIES", max_retries, s.MAX_RETRIES))
        self.retry_max_time = float(
            _number_setting("RETRY_MAX_TIME", retry_max_time, s.RETRY_MAX_TIME)
        )
        self.retry_backoff = float(_number_setting("RETRY_BACKOFF", retry_backoff, s.RETRY_BACKOFF))
        self.session = session or requests.Session()
        self.session.headers.update({"Accept": "application/json", "User-Agent": USER_AGENT})
        self._sleep: Callable[[float], None] = time.sleep

    def __repr__(self) -> str:
        mode = "on-premise" if self.on_premise else "cloud"
        return f"<UpscopeClient {mode} {self.base_url}>"

    def close(self) -> None:
        self.session.close()

    # -- the operations -------------------------------------------------------

    def get_usage(self) -> Usage:
        """``GET /usage.json`` (cloud only): the account's usage figures."""
        self._require_cloud("get_usage")
        return self._request("GET", "/usage.json", parse=Usage.from_payload)

    def search_visitors(self, query: str | None = None) -> list[VisitorData]:
        """Search visitors as the Upscope app's search box does.

        Cloud: ``GET /list.json?search=QUERY``; on-premise:
        ``GET /visitors/list/search?q=QUERY``. No query lists the latest visitors.
        """
        query = validate_query(query)
        if self.on_premise:
            params = {"q": query} if query else None
            return self._request(
                "GET", "/visitors/list/search", params=params, parse=visitors_from_list_payload
            )
        params = {"search": query} if query else None
        return self._request("GET", "/list.json", params=params, parse=visitors_from_list_payload)

    def latest_visitors(self) -> list[VisitorData]:
        """The latest visitors.

        On-premise: ``GET /visitors/list/latest`` (needs MongoDB on the server).
        Cloud: ``GET /list.json`` with no search, which the cloud documents as the
        list of visitors.
        """
        if self.on_premise:
            return self._request("GET", "/visitors/list/latest", parse=visitors_from_list_payload)
        return self.search_visitors(None)

    def get_visitor(self, short_id: str, with_history: bool = False) -> VisitorData:
        """``GET /visitors/:short_id.json`` (on-premise ``GET /visitors/{id}``).

        ``with_history=True`` adds ``?with_history=true`` and fills ``history``
        (cloud only: the on-premise API does not document it).
        """
        if self.on_premise and with_history:
            self._require_cloud("get_visitor(with_history=True)")
        short_id = validate_short_id(short_id)
        if self.on_premise:
            return self._request(
                "GET",
                f"/visitors/{short_id}",
                short_id=short_id,
                parse=visitor_from_detail_payload,
            )
        params = {"with_history": "true"} if with_history else None
        return self._request(
            "GET",
            f"/visitors/{short_id}.json",
            params=params,
            short_id=short_id,
            parse=visitor_from_detail_payload,
        )

    def delete_visitor(self, short_id: str) -> None:
        """``DELETE /visitors/:short_id.json`` (cloud only): delete the visitor for good.

        If a retry of this request answers 404, the earlier attempt went through
        (its answer was lost): that counts as deleted.
        """
        self._require_cloud("delete_visitor")
        short_id = validate_short_id(short_id)
        self._request(
            "DELETE",
            f"/visitors/{short_id}.json",
            short_id=short_id,
            expect="ok",
            gone_means_done=True,
        )

    def delete_offline_visitors(self) -> None:
        """``DELETE /visitors.json?all=true`` (cloud only).

        Upscope removes every visitor not online now, asynchronously: it "might
        take a few minutes to complete".
        """
        self._require_cloud("delete_offline_visitors")
        self._request("DELETE", "/visitors.json", params={"all": "true"}, expect="ok")

    @sensitive_variables("payload", "url", "parts")
    def create_watch_url(
        self,
        short_id: str,
        *,
        agent_id: str,
        agent_name: str,
        branding: Mapping[str, Any] | None = None,
        permissions: Mapping[str, bool] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> WatchURL:
        """``POST /visitors/:short_id/watch_url.json`` (cloud only): mint a watch URL.

        Opening the URL starts screen sharing with no further authorization, so
        it is a bearer secret: show it only to the agent it was minted for. The
        request is never retried automatically, since each call may start a
        session.
        """
        self._require_cloud("create_watch_url")
        short_id = validate_short_id(short_id)
        body: dict[str, Any] = {
            "agent": {
                "id": _validate_agent(agent_id, "agent_id"),
                "name": _validate_agent(agent_name, "agent_name"),
            }
        }
        checked_branding = validate_branding(branding)
        checked_permissions = validate_permissions(permissions)
        checked_metadata = validate_metadata(metadata)
        if checked_branding:
            body["branding"] = checked_branding
        if checked_permissions:
            body["permissions"] = checked_permissions
        if checked_metadata:
            # Seed 000's options table lists "branding.metadata", but its example body has a
            # top-level "metadata" object beside "branding": we follow the example.
            body["metadata"] = checked_metadata
        payload = self._request(
            "POST", f"/visitors/{short_id}/watch_url.json", json_body=body, short_id=short_id
        )
        url = payload.get("watch_url") if isinstance(payload, dict) else None
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise UpscopeInvalidResponse(
                "Upscope's watch_url response did not hold an http(s) watch_url",
                status_code=200,
            )
        return WatchURL(url)

    @sensitive_variables("text")
    def stop_session(self, short_id: str) -> None:
        """``DELETE /visitors/:short_id/session`` (cloud only): end the active session.

        Upscope answers ``ok`` even when no session is active.
        """
        self._require_cloud("stop_session")
        short_id = validate_short_id(short_id)
        text = self._request(
            "DELETE", f"/visitors/{short_id}/session", short_id=short_id, expect="text"
        )
        if text.strip().strip('"') != "ok":
            raise UpscopeInvalidResponse(
                "stop session: Upscope did not answer 'ok'", status_code=200
            )

    # -- the wire -------------------------------------------------------------

    def _require_cloud(self, operation: str) -> None:
        if self.on_premise:
            raise UpscopeNotSupported(
                f"{operation} is not supported on-premise: the on-premise REST API documents "
                "only latest visitors, search and visitor details."
            )

    def _credentials_header(self) -> dict[str, str]:
        if not self._secret:
            setting = "REST_KEY" if self.on_premise else "API_KEY"
            raise UpscopeConfigurationError(
                f"No Upscope credentials: set UPSCOPE['{setting}'] in your Django settings "
                "(see the README, 'Settings')."
            )
        if not _header_safe(self._secret):
            # Refused here, naming no character: requests/http.client would raise with the
            # key in the message (InvalidHeader) or in frame locals (UnicodeEncodeError).
            setting = "REST_KEY" if self.on_premise else "API_KEY"
            raise UpscopeConfigurationError(
                f"UPSCOPE['{setting}'] cannot be sent in an HTTP header: it must be printable "
                "ASCII without surrounding spaces (check for a trailing newline, a space or a "
                "typographic quote copied with the key)."
            )
        if self.on_premise:
            return {"Authorization": self._secret}
        return {"X-Api-Key": self._secret}

    @sensitive_variables("headers")
    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        short_id: str | None = None,
        expect: str = "json",
        parse: Callable[[Any], Any] | None = None,
        gone_means_done: bool = False,
    ) -> Any:
        """Send one logical request, retrying it when that is safe, and map failures.

        ``expect`` is ``json`` (a JSON body, given to ``parse``), ``text`` (the
        body as text) or ``ok`` (a deletion: empty, plain ``ok`` or JSON status ok).
        """
        headers = self._credentials_header()
        url = self.base_url + path
        retryable = method in ("GET", "DELETE")
        started = time.monotonic()
        slept = 0.0
        attempt = 0
        while True:
            sent = time.monotonic()
            try:
                # Redirects are not followed: requests would carry X-Api-Key to
                # whatever host a redirect names.
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    headers=headers,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
                try:
                    if response.status_code == 404 and gone_means_done and attempt > 0:
                        # Our earlier attempt went through before its answer was lost.
                        return None
                    result = self._handle(response, method, path, short_id, expect, parse)
                finally:
                    # Give the connection back now, not when a traceback is collected.
                    response.close()
                logger.debug(
                    "Upscope %s %s -> %s in %.0f ms",
                    method,
                    path,
                    response.status_code,
                    (time.monotonic() - sent) * 1000,
                )
                return result
            except requests.Timeout as exc:
                error: UpscopeError = UpscopeTimeout(
                    f"Upscope did not answer {method} {path} within {self.timeout:g} s"
                )
                cause: BaseException = exc
            except (
                requests.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ) as exc:
                error = UpscopeConnectionError(
                    f"Could not reach Upscope for {method} {path}: the connection failed or "
                    "was dropped"
                )
                cause = exc
            except requests.RequestException as exc:
                error = UpscopeConnectionError(f"Upscope request {method} {path} failed")
                cause = exc
            except UpscopeUnavailable as exc:
                error, cause = exc, exc
            logger.warning(
                "Upscope %s %s failed (attempt %d): %s", method, path, attempt + 1, error.code
            )
            # Real sleeps show in the monotonic clock; the slept total keeps the
            # bound when _sleep is replaced (tests).
            spent = max(time.monotonic() - started, slept)
            delay = self._retry_delay(error, attempt, spent) if retryable else None
            if delay is None:
                if cause is error:
                    raise error
                _drop_frames(cause)
                raise error from cause
            self._sleep(delay)
            slept += delay
            attempt += 1

    def _retry_delay(self, error: UpscopeError, attempt: int, spent: float) -> float | None:
        """Seconds to wait before the next attempt, or None to give up now."""
        if not isinstance(error, UpscopeUnavailable) or attempt >= self.max_retries:
            return None
        if error.status_code is not None and error.status_code not in RETRY_STATUSES:
            return None
        delay = self.retry_backoff * (2**attempt)
        if error.retry_after is not None:
            delay = max(delay, error.retry_after)
        if spent + delay > self.retry_max_time:
            return None
        return delay

    def _handle(
        self,
        response: requests.Response,
        method: str,
        path: str,
        short_id: str | None,
        expect: str,
        parse: Callable[[Any], Any] | None,
    ) -> Any:
        status = response.status_code
        if 200 <= status < 300:
            if expect == "text":
                return response.text
            if expect == "ok" and response.text.strip().strip('"') in ("", "ok"):
                return None
            payload = self._json(response, method, path)
            try:
                if expect == "ok":
                    if not isinstance(payload, dict) or payload.get("status", "ok") != "ok":
                        raise UpscopeInvalidResponse(
                            f"{method} {path}: Upscope did not answer status ok"
                        )
                    return None
                return parse(payload) if parse is not None else payload
            except UpscopeInvalidResponse as exc:
                if exc.status_code is None:
                    exc.status_code = status
                if not exc.message.startswith(f"{method} {path}"):
                    # The parsers say what is wrong ("visitor response is not a JSON
                    # object"); say where too, and that it is Upscope's answer.
                    exc.message = (
                        f"Upscope's answer to {method} {path} is not the documented shape: "
                        f"{exc.message}."
                    )
                    exc.args = (exc.message,)
                raise
        code = self._error_code(response)
        where = f"{method} {path}"
        if status == 401:
            code = code if code in AUTHENTICATION_CODES else "invalid_api_key"
            raise UpscopeAuthenticationError(self._auth_message(code), status_code=401, code=code)
        if status == 402:
            what = "this screen share" if path.endswith("/watch_url.json") else where
            raise UpscopeSubscriptionLimit(
                f"Upscope refused {what}: it would pass the subscription's limits.",
                status_code=402,
                code=code or "subscription_limit",
            )
        if status == 404 and short_id is not None:
            raise UpscopeVisitorNotFound(
                f"Upscope has no visitor {short_id!r}.", status_code=404, code="visitor_not_found"
            )
        if status == 429:
            raise UpscopeRateLimited(
                f"Upscope is rate limiting requests ({where}).",
                status_code=429,
                code="rate_limited",
                retry_after=_retry_after_seconds(response.headers.get("Retry-After")),
            )
        if status >= 500:
            raise UpscopeUnavailable(
                f"Upscope is unavailable: it answered {status} to {where}.",
                status_code=status,
                code=f"http_{status}",
                retry_after=_retry_after_seconds(response.headers.get("Retry-After")),
            )
        setting = "BASE_ENDPOINT" if self.on_premise else "API_URL"
        hint = f" (check UPSCOPE['{setting}'])." if status == 404 or status < 400 else "."
        raise UpscopeAPIError(
            f"Upscope answered {status} to {where}{hint}",
            status_code=status,
            code=code or f"http_{status}",
        )

    def _auth_message(self, code: str) -> str:
        setting = "REST_KEY" if self.on_premise else "API_KEY"
        return (
            AUTHENTICATION_REASONS.get(code, "Upscope refused the credentials")
            + f" ({code}); an administrator must fix UPSCOPE['{setting}'] or the subscription."
        )

    def _error_code(self, response: requests.Response) -> str | None:
        """Upscope's ``error`` code, if it is a short token (and not our own secret)."""
        try:
            body = response.json()
        except ValueError:
            return None
        code = body.get("error") if isinstance(body, dict) else None
        if not isinstance(code, str) or not ERROR_CODE_RE.fullmatch(code):
            return None
        if self._secret and self._secret.lower() in code:
            return None
        return code

    @sensitive_variables("payload")
    def _json(self, response: requests.Response, method: str, path: str) -> Any:
        try:
            payload = json.loads(response.content)
        except ValueError as exc:
            # The decoder's frames hold the body (maybe a watch URL): keep only its text.
            _drop_frames(exc)
            content_type = response.headers.get("Content-Type", "unknown")
            raise UpscopeInvalidResponse(
                f"Upscope answered {method} {path} with a body that is not JSON "
                f"(Content-Type {content_type:.60}, {len(response.content)} bytes).",
                status_code=response.status_code,
            ) from exc
        if isinstance(payload, dict) and payload.get("status") == "error":
            code = self._error_code(response) or "api_error"
            if code in AUTHENTICATION_CODES:
                raise UpscopeAuthenticationError(
                    self._auth_message(code), status_code=response.status_code, code=code
                )
            raise UpscopeAPIError(
                f"Upscope reported an error ({code}) for {method} {path}.",
                status_code=response.status_code,
                code=code,
            )
        return payload


def _header_safe(value: Any) -> bool:
    """Whether a key can go in an HTTP header as is: printable ASCII, no surrounding space."""
    if not isinstance(value, str):
        return False
    return value.isascii() and value.isprintable() and value == value.strip()


def _drop_frames(exc: BaseException | None) -> None:
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


_local = threading.local()


def get_client() -> UpscopeClient:
    """The client configured by ``settings.UPSCOPE``.

    One client per thread and configuration, so sequential calls reuse the
    same HTTP connection; a settings change builds a new one.
    """
    s = upscope_settings
    key = (
        s.API_KEY,
        s.API_URL,
        s.BASE_ENDPOINT,
        s.REST_KEY,
        s.TIMEOUT,
        s.MAX_RETRIES,
        s.RETRY_MAX_TIME,
        s.RETRY_BACKOFF,
    )
    cached = getattr(_local, "client", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    if s.BASE_ENDPOINT:
        # API_KEY / a custom API_URL beside BASE_ENDPOINT is contradictory: the
        # constructor refuses it rather than silently ignore one of them.
        custom_url = s.API_URL if s.API_URL != DEFAULT_API_URL else None
        client = UpscopeClient(
            api_key=s.API_KEY,
            api_url=custom_url,
            rest_key=s.REST_KEY,
            base_endpoint=s.BASE_ENDPOINT,
        )
    else:
        client = UpscopeClient(api_key=s.API_KEY, api_url=s.API_URL, rest_key=s.REST_KEY)
    if cached is not None:
        cached[1].close()
    _local.client = (key, client)
    return client
