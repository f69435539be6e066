"""The Upscope REST client: the only package that speaks HTTP to Upscope.

Cloud (API v1.1; docs/upscope-api.md, "Cloud API")::

    client = UpscopeClient(api_key="...", api_url="https://api.upscope.io/v1.1")

On-premise (docs/upscope-api.md, "On-premise API")::

    client = UpscopeClient(rest_key="...", base_endpoint="https://support.example.com/cobrowsing")

or :func:`get_client` to build one from ``settings.UPSCOPE``. The jobs are split:
:mod:`.validation` checks arguments, :mod:`.transport` sends and retries,
:mod:`.responses` maps answers to results and errors; this module holds the
operations and the per-thread cache of :func:`get_client`.
"""

from __future__ import annotations

import functools
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import requests
from django.core.signals import setting_changed
from django.views.decorators.debug import sensitive_variables

from .. import capabilities
from ..conf import (
    import_callable,
    number_problem,
    resolve_watch_url_hosts,
    setting_or_default,
    upscope_settings,
    url_problem,
    watch_url_hosts_problem,
)
from ..exceptions import UpscopeConfigurationError, UpscopeNotSupported
from ..resources import (
    Usage,
    VisitorData,
    WatchURL,
    visitor_from_detail_payload,
    visitors_from_list_payload,
)

# Re-exported: the single-module client offered these names (their home is vocabulary).
from ..vocabulary import (  # noqa: F401
    AUTHENTICATION_CODES,
    AUTHENTICATION_REASONS,
    BRANDING_KEYS,
    DEFAULT_API_URL,
    ERROR_CODE_RE,
    MAX_QUERY_LENGTH,
    PERMISSION_KEYS,
    SHORT_ID_RE,
)
from . import responses
from .responses import Contract, expect_json, expect_ok, expect_plain_ok, visitor_not_found
from .transport import RETRY_STATUSES, USER_AGENT, RetryPolicy, Transport, header_safe
from .validation import (
    validate_agent,
    validate_branding,
    validate_metadata,
    validate_permissions,
    validate_query,
    validate_short_id,
)

__all__ = [
    "RETRY_STATUSES",
    "USER_AGENT",
    "RetryPolicy",
    "UpscopeClient",
    "close_clients",
    "get_client",
    "validate_agent",
    "validate_branding",
    "validate_metadata",
    "validate_permissions",
    "validate_query",
    "validate_short_id",
]

T = TypeVar("T")


def _check_base_url(value: Any, setting: str) -> None:
    problem = url_problem(value)
    if problem:
        raise UpscopeConfigurationError(f"UPSCOPE['{setting}'] {problem}.", code="invalid_url")


def _number_setting(setting: str, value: Any) -> Any:
    """``value``, or the setting's configured value (or default) when it is ``None``."""
    value = setting_or_default(setting) if value is None else value
    problem = number_problem(setting, value)
    if problem:
        raise UpscopeConfigurationError(f"UPSCOPE['{setting}'] {problem}.", code="invalid_setting")
    return value


def _watch_url_hosts(value: Sequence[str] | None, base_url: str) -> tuple[str, ...]:
    value = setting_or_default("WATCH_URL_HOSTS") if value is None else value
    problem = watch_url_hosts_problem(value)
    if problem:
        raise UpscopeConfigurationError(
            f"UPSCOPE['WATCH_URL_HOSTS'] {problem}.", code="invalid_setting"
        )
    return resolve_watch_url_hosts(value, base_url)


class UpscopeClient:
    """A client for Upscope's cloud (v1.1) or on-premise REST API.

    Pass ``api_key`` (and optionally ``api_url``) for the cloud, or ``rest_key``
    and ``base_endpoint`` for an on-premise server. Requests share one
    ``requests.Session``. GET and DELETE requests are retried on connection
    errors, timeouts, 429, 502, 503 and 504, at most ``max_retries`` times and
    within ``retry_max_time`` seconds; POST is never retried.

    A number left out is read from ``settings.UPSCOPE`` when Django's settings are
    configured, else taken from :data:`django_upscope.conf.DEFAULTS`, so the
    client also works in a script without Django settings. ``sleep`` waits
    between retries, ``clock`` (monotonic seconds) bounds their total time and
    ``wall_clock`` (epoch seconds) reads an HTTP-date ``Retry-After``: tests pass
    their own instead of patching :mod:`time`.

    ``watch_url_hosts`` (default ``UPSCOPE["WATCH_URL_HOSTS"]``) lists the hosts a
    minted watch URL may point to; ``None`` means Upscope's own plus the API's host.
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
        watch_url_hosts: Sequence[str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
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
        self.timeout = float(_number_setting("TIMEOUT", timeout))
        self.max_retries = int(_number_setting("MAX_RETRIES", max_retries))
        self.retry_max_time = float(_number_setting("RETRY_MAX_TIME", retry_max_time))
        self.retry_backoff = float(_number_setting("RETRY_BACKOFF", retry_backoff))
        self.watch_url_hosts = _watch_url_hosts(watch_url_hosts, self.base_url)
        self.session = session or requests.Session()
        self.session.headers.update({"Accept": "application/json", "User-Agent": USER_AGENT})
        self.wall_clock = wall_clock
        self.transport = Transport(
            self.base_url,
            session=self.session,
            timeout=self.timeout,
            retry=RetryPolicy(self.max_retries, self.retry_max_time, self.retry_backoff),
            sleep=sleep,
            clock=clock,
        )

    def __repr__(self) -> str:
        mode = "on-premise" if self.on_premise else "cloud"
        return f"<UpscopeClient {mode} {self.base_url}>"

    def close(self) -> None:
        """Close the session's pooled connections (the client stays usable)."""
        self.session.close()

    # -- the operations -------------------------------------------------------
    # Each cloud-only one starts with _require_cloud: on-premise it sends nothing.

    def get_usage(self) -> Usage:
        """``GET /usage.json`` (cloud only): the account's usage figures."""
        self._require_cloud("get_usage")
        return self._call("GET", "/usage.json", expect_json(Usage.from_payload))

    def search_visitors(self, query: str | None = None) -> list[VisitorData]:
        """Search visitors as the Upscope app's search box does.

        Cloud: ``GET /list.json?search=QUERY``; on-premise:
        ``GET /visitors/list/search?q=QUERY``. No query lists the latest visitors.
        """
        query = validate_query(query)
        contract = expect_json(visitors_from_list_payload)
        if self.on_premise:
            params = {"q": query} if query else None
            return self._call("GET", "/visitors/list/search", contract, params=params)
        params = {"search": query} if query else None
        return self._call("GET", "/list.json", contract, params=params)

    def latest_visitors(self) -> list[VisitorData]:
        """The latest visitors.

        On-premise: ``GET /visitors/list/latest`` (needs MongoDB on the server).
        Cloud: ``GET /list.json`` with no search, which the cloud documents as the
        list of visitors.
        """
        if self.on_premise:
            return self._call(
                "GET", "/visitors/list/latest", expect_json(visitors_from_list_payload)
            )
        return self.search_visitors(None)

    def get_visitor(self, short_id: str, with_history: bool = False) -> VisitorData:
        """``GET /visitors/:short_id.json`` (on-premise ``GET /visitors/{id}``).

        ``with_history=True`` adds ``?with_history=true`` and fills ``history``
        (cloud only: the on-premise API does not document it).
        """
        if self.on_premise and with_history:
            self._require_cloud("get_visitor_history")
        short_id = validate_short_id(short_id)
        contract = expect_json(visitor_from_detail_payload, not_found=visitor_not_found(short_id))
        if self.on_premise:
            return self._call("GET", f"/visitors/{short_id}", contract)
        params = {"with_history": "true"} if with_history else None
        return self._call("GET", f"/visitors/{short_id}.json", contract, params=params)

    def delete_visitor(self, short_id: str) -> None:
        """``DELETE /visitors/:short_id.json`` (cloud only): delete the visitor for good.

        If a retry of this request answers 404, the earlier attempt went through
        (its answer was lost): that counts as deleted.
        """
        self._require_cloud("delete_visitor")
        short_id = validate_short_id(short_id)
        contract = expect_ok(not_found=visitor_not_found(short_id), gone_means_done=True)
        self._call("DELETE", f"/visitors/{short_id}.json", contract)

    def purge_offline_visitors(self) -> None:
        """``DELETE /visitors.json?all=true`` (cloud only).

        Upscope removes every visitor not online now, asynchronously: it "might
        take a few minutes to complete".
        """
        self._require_cloud("purge_offline_visitors")
        self._call("DELETE", "/visitors.json", expect_ok(), params={"all": "true"})

    def delete_offline_visitors(self) -> None:
        """Deprecated alias of :meth:`purge_offline_visitors` (the operation's old name)."""
        self.purge_offline_visitors()

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
                "id": validate_agent(agent_id, "agent_id"),
                "name": validate_agent(agent_name, "agent_name"),
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
            # The options table lists "branding.metadata", but the example body has a
            # top-level "metadata" object beside "branding": we follow the example
            # (docs/upscope-api.md, "Creating a watch URL").
            body["metadata"] = checked_metadata
        hosts = self.watch_url_hosts
        contract = expect_json(
            # A partial, not a lambda: no frame of ours holds the payload unredacted.
            functools.partial(responses.watch_url_from_payload, hosts=hosts),
            not_found=visitor_not_found(short_id),
        )
        return self._call("POST", f"/visitors/{short_id}/watch_url.json", contract, json_body=body)

    def stop_session(self, short_id: str) -> None:
        """``DELETE /visitors/:short_id/session`` (cloud only): end the active session.

        Upscope answers ``ok`` even when no session is active.
        """
        self._require_cloud("stop_session")
        short_id = validate_short_id(short_id)
        contract = expect_plain_ok(not_found=visitor_not_found(short_id))
        self._call("DELETE", f"/visitors/{short_id}/session", contract)

    # -- the wire -------------------------------------------------------------

    def supports(self, operation: str) -> bool:
        """Whether this client's server offers ``operation`` (a client method's name, or
        ``"get_visitor_history"``): see :func:`django_upscope.capabilities.supports`."""
        return capabilities.supports(operation, on_premise=self.on_premise)

    def _require_cloud(self, operation: str) -> None:
        if not self.supports(operation):
            # In words for people (API details, admin pages): no method names.
            raise UpscopeNotSupported(capabilities.unsupported_message(operation))

    def _credentials_header(self) -> dict[str, str]:
        setting = "REST_KEY" if self.on_premise else "API_KEY"
        if not self._secret:
            raise UpscopeConfigurationError(
                f"No Upscope credentials: set UPSCOPE['{setting}'] in your Django settings "
                "(see the README, 'Settings')."
            )
        if not header_safe(self._secret):
            # Refused here, naming no character: requests/http.client would raise with the
            # key in the message (InvalidHeader) or in frame locals (UnicodeEncodeError).
            raise UpscopeConfigurationError(
                f"UPSCOPE['{setting}'] cannot be sent in an HTTP header: it must be printable "
                "ASCII without surrounding spaces (check for a trailing newline, a space or a "
                "typographic quote copied with the key)."
            )
        if self.on_premise:
            return {"Authorization": self._secret}
        return {"X-Api-Key": self._secret}

    @sensitive_variables("headers")
    def _call(
        self,
        method: str,
        path: str,
        contract: Contract[T],
        *,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
    ) -> T:
        """Send one logical request and read its answer under ``contract``."""
        headers = self._credentials_header()
        request = responses.Request(
            method, path, self.on_premise, secret=self._secret, wall_clock=self.wall_clock
        )
        return self.transport.send(
            method,
            path,
            lambda response, attempt: responses.handle(response, request, contract, attempt),
            headers=headers,
            params=params,
            json_body=json_body,
        )


# -- the per-thread clients of get_client() -------------------------------------

_local = threading.local()
_lock = threading.Lock()
# Every client get_client() has cached, in any thread; a dead thread's client drops out.
_cached_clients: weakref.WeakSet[UpscopeClient] = weakref.WeakSet()
# Bumped by close_clients(): a thread's cached client from an older generation is stale.
_generation = 0


def _settings_key() -> tuple[Any, ...]:
    s = upscope_settings
    return (
        s.API_KEY,
        s.API_URL,
        s.BASE_ENDPOINT,
        s.REST_KEY,
        s.TIMEOUT,
        s.MAX_RETRIES,
        s.RETRY_MAX_TIME,
        s.RETRY_BACKOFF,
        s.RETRY_SLEEP,
        repr(s.WATCH_URL_HOSTS),
    )


def _client_from_settings() -> UpscopeClient:
    s = upscope_settings
    sleep = import_callable("RETRY_SLEEP") or time.sleep
    if s.BASE_ENDPOINT:
        # API_KEY / a custom API_URL beside BASE_ENDPOINT is contradictory: the
        # constructor refuses it rather than silently ignore one of them.
        custom_url = s.API_URL if s.API_URL != DEFAULT_API_URL else None
        return UpscopeClient(
            api_key=s.API_KEY,
            api_url=custom_url,
            rest_key=s.REST_KEY,
            base_endpoint=s.BASE_ENDPOINT,
            sleep=sleep,
        )
    return UpscopeClient(api_key=s.API_KEY, api_url=s.API_URL, rest_key=s.REST_KEY, sleep=sleep)


def get_client() -> UpscopeClient:
    """The client configured by ``settings.UPSCOPE``.

    One client per thread and configuration, so sequential calls reuse the
    same HTTP connection; a settings change builds a new one. It waits between
    retries with ``UPSCOPE["RETRY_SLEEP"]``.
    """
    key = _settings_key()
    cached = getattr(_local, "client", None)
    if cached is not None and cached[0] == (_generation, key):
        return cached[1]
    client = _client_from_settings()
    if cached is not None:
        cached[1].close()
    with _lock:
        _cached_clients.add(client)
        if cached is not None:
            _cached_clients.discard(cached[1])
        _local.client = ((_generation, key), client)
    return client


def close_clients() -> None:
    """Close every client :func:`get_client` has cached, in every thread.

    Each thread builds a new client on its next call. Called when the ``UPSCOPE``
    setting changes (``override_settings``, pytest-django's ``settings``), and by
    the shipped pytest plugin after each test, so no keep-alive connection
    outlives the server it points at.
    """
    global _generation
    with _lock:
        _generation += 1
        clients = list(_cached_clients)
        _cached_clients.clear()
    for client in clients:
        client.close()


def _reload_on_setting_change(*, setting: str, **kwargs: Any) -> None:
    if setting == "UPSCOPE":
        close_clients()


setting_changed.connect(_reload_on_setting_change, dispatch_uid="django_upscope.client")
