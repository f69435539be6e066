"""Concurrent detail requests for a sync: a pool of fetcher threads, each with its
own client (so its own connection pool, kept alive between requests), and one
shared :class:`RateGate` that every fetcher waits on before each request.

The fetchers only speak HTTP; they never touch the database. What they fetch is
handed back, as :class:`Fetched` results, to the one thread that writes the
mirror (:mod:`django_upscope.mirror.run`), which holds only a bounded number of
requests in flight.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from .. import resources
from ..client import UpscopeClient
from ..exceptions import (
    UpscopeAuthenticationError,
    UpscopeConfigurationError,
    UpscopeError,
    UpscopeNotSupported,
    UpscopeUnavailable,
)

#: Errors no other visitor would escape: credentials refused, configuration wrong.
FATAL_ERRORS = (UpscopeAuthenticationError, UpscopeConfigurationError, UpscopeNotSupported)

#: A run stops when this many visitors in a row fail with Upscope unavailable.
MAX_CONSECUTIVE_UNAVAILABLE = 5

Sleep = Callable[[float], None]
Clock = Callable[[], float]


class RateGate:
    """The moment before which no fetcher sends a request.

    Upscope's "slow down" (a 429, or a 503 with ``Retry-After``) is about the
    account, not one request: :meth:`pause` moves the moment for every fetcher.

    ``sleep`` and ``clock`` (monotonic seconds) are seams for tests. Without a
    ``sleep`` the wait is on the ``stop`` event given to :meth:`wait`, so a run
    stopped by a fatal error does not sit out a pause.
    """

    def __init__(self, *, sleep: Sleep | None = None, clock: Clock = time.monotonic) -> None:
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._until = float("-inf")
        self.pauses = 0

    def pause(self, seconds: float) -> None:
        """Hold every fetcher for ``seconds`` from now (a longer pause already set stays)."""
        with self._lock:
            self._until = max(self._until, self._clock() + seconds)
            self.pauses += 1

    def wait(self, stop: threading.Event) -> None:
        """Return once the pause is over (at once when there is none) or ``stop`` is set."""
        while not stop.is_set():
            with self._lock:
                remaining = self._until - self._clock()
            if remaining <= 0:
                return
            if self._sleep is None:
                stop.wait(remaining)
            else:
                self._sleep(remaining)


@dataclass
class Fetched:
    """The answer for one visitor: its payload, or the error that ended its requests."""

    short_id: str
    visitor: resources.VisitorData | None = None
    error: UpscopeError | None = None
    #: Logical requests sent for this visitor (0 when it was cancelled); the
    #: client's own retries, bounded by ``MAX_RETRIES``, are inside that one.
    requests: int = 0
    #: The run was stopped before this visitor was asked for.
    cancelled: bool = False


class Fetchers:
    """``concurrency`` threads fetching visitor details.

    ``make_client`` is called once in each fetcher thread (``get_client`` is
    cached per thread, so by default every fetcher has its own client); the
    clients it made are closed by :meth:`close`, except ``keep_open``.
    """

    def __init__(
        self,
        make_client: Callable[[], UpscopeClient],
        *,
        concurrency: int,
        with_history: bool,
        gate: RateGate,
        max_pause: float,
        keep_open: UpscopeClient | None = None,
    ) -> None:
        self.stop = threading.Event()
        #: Why the fetchers stopped by themselves (a fatal error, or Upscope kept
        #: failing), if they did.
        self.error: UpscopeError | None = None
        self.gate = gate
        self.with_history = with_history
        self.max_pause = max_pause
        self._make_client = make_client
        self._keep_open = keep_open
        self._local = threading.local()
        self._clients: list[UpscopeClient] = []
        self._clients_lock = threading.Lock()
        self._unavailable_in_a_row = 0
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="upscope-sync")

    def submit(self, short_id: str) -> Future[Fetched]:
        """Ask for ``short_id``'s details in a fetcher thread."""
        return self._pool.submit(self._fetch, short_id)

    def close(self, *, cancel: bool = False) -> None:
        """Wait for the fetchers (``cancel``: drop what has not started, stop the
        others before their next request) and close their clients' connections."""
        if cancel:
            self.stop.set()
        self._pool.shutdown(wait=True, cancel_futures=cancel)
        with self._clients_lock:
            for client in self._clients:
                if client is not self._keep_open:
                    client.close()
            self._clients.clear()

    def _client(self) -> UpscopeClient:
        client: UpscopeClient | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._make_client()
            with self._clients_lock:
                self._clients.append(client)
        return client

    def _fetch(self, short_id: str) -> Fetched:
        result = self._ask(short_id)
        self._count(result)
        return result

    def _count(self, result: Fetched) -> None:
        """Stop every fetcher at a fatal error, or once Upscope failed too many
        visitors in a row (in the order the answers came)."""
        with self._clients_lock:
            if result.visitor is not None:
                self._unavailable_in_a_row = 0
                return
            exc = result.error
            if isinstance(exc, FATAL_ERRORS) and self.error is None:
                self.error = exc
                self.stop.set()
            if not isinstance(exc, UpscopeUnavailable):
                return
            self._unavailable_in_a_row += 1
            if self._unavailable_in_a_row < MAX_CONSECUTIVE_UNAVAILABLE or self.error:
                return
            self.error = UpscopeUnavailable(
                f"Upscope failed {self._unavailable_in_a_row} visitors in a row "
                f"({exc.code}); stopping. Everything synced so far is saved: run "
                "the sync again later.",
                status_code=exc.status_code,
                code=exc.code,
            )
            self.error.__cause__ = exc
            self.stop.set()

    def _ask(self, short_id: str) -> Fetched:
        """One request for ``short_id`` (the client retries it by its own rule).

        When Upscope still says "wait" once the client gave up (a 429, or a 503
        with ``Retry-After``), the visitor counts as failed and every fetcher
        holds off for that long: asking again here would multiply the retry
        bound the client keeps (``MAX_RETRIES``, ``RETRY_MAX_TIME``).
        """
        result = Fetched(short_id)
        self.gate.wait(self.stop)
        if self.stop.is_set():
            result.cancelled = True
            return result
        result.requests += 1
        try:
            result.visitor = self._client().get_visitor(short_id, with_history=self.with_history)
        except UpscopeError as exc:
            result.error = exc
            wait = exc.retry_after if isinstance(exc, UpscopeUnavailable) else None
            if wait is not None and wait <= self.max_pause:
                self.gate.pause(wait)
        return result
