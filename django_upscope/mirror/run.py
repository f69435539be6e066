"""A whole sync run: list visitors, decide whose details to fetch, fetch those
concurrently, upsert in batches, optionally prune what Upscope no longer has,
and store a usage snapshot.

Used by ``manage.py upscope_sync`` and ``bench/bench_sync.py``. The writes
themselves are in :mod:`django_upscope.mirror.upsert`, the fetcher threads in
:mod:`django_upscope.mirror.fetch`. Every database read and write of a run
happens in the thread that called :func:`sync_from_upscope`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field

from django.utils import timezone

from .. import models, resources
from ..client import UpscopeClient, get_client
from ..conf import import_callable, number_problem, upscope_settings
from ..exceptions import (
    UpscopeError,
    UpscopeVisitorNotFound,
)
from .columns import listing_hash
from .fetch import FATAL_ERRORS, Clock, Fetched, Fetchers, RateGate, Sleep
from .upsert import (
    Outcome,
    StoredListing,
    SyncResult,
    mark_removed_upstream,
    record_usage,
    remove_visitors,
    stored_listings,
    upsert_visitors,
)

logger = logging.getLogger("django_upscope.sync")

DEFAULT_BATCH_SIZE = 500

PRUNE_NEEDS_FULL_LISTING = (
    "prune (--prune) needs the complete visitor listing, so it cannot be combined with a "
    "search (--search) or a list of short_ids: a visitor outside them is not gone from Upscope."
)


@dataclass
class SyncReport:
    """What :func:`sync_from_upscope` did."""

    result: SyncResult
    listed: int = 0
    pruned: int = 0
    prune_checked: int = 0
    usage: models.UsageSnapshot | None = None
    usage_error: UpscopeError | None = None
    usage_skipped: str = ""
    errors: dict[str, int] = field(default_factory=dict)
    #: Visitors whose details were fetched (answered with a payload).
    fetched: int = 0
    #: Calls made to Upscope: the listing, detail requests (a client's own
    #: retries not counted), the usage request.
    requests: int = 0
    #: Seconds the run took, start to end.
    elapsed: float = 0.0
    concurrency: int = 1

    def summary(self) -> str:
        """``listed=N fetched=N created=N ... requests=N elapsed=1.2s``: one line."""
        counts = self.result.counts
        return (
            f"listed={self.listed} fetched={self.fetched} created={counts[Outcome.CREATED]} "
            f"updated={counts[Outcome.UPDATED]} unchanged={counts[Outcome.UNCHANGED]} "
            f"skipped={counts[Outcome.SKIPPED]} failed={counts[Outcome.FAILED]} "
            f"requests={self.requests} elapsed={self.elapsed:.1f}s"
        )


#: progress(done, total, result): called after each batch.
ProgressCallback = Callable[[int, int, SyncResult], None]

_FATAL = FATAL_ERRORS


def check_sync_options(
    *,
    query: str | None = None,
    short_ids: Iterable[str] | None = None,
    prune: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    concurrency: int | None = None,
) -> None:
    """Raise ``ValueError`` for options :func:`sync_from_upscope` refuses (the one
    place they are refused: ``upscope_sync`` asks here before it starts)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if concurrency is not None and number_problem("SYNC_CONCURRENCY", concurrency):
        raise ValueError("concurrency must be an integer >= 1")
    if prune and (query or short_ids is not None):
        raise ValueError(PRUNE_NEEDS_FULL_LISTING)


def detail_reason(
    entry: resources.VisitorData, stored: StoredListing | None, *, full: bool = False
) -> str | None:
    """Why ``entry`` (from the listing) needs a detail request, or ``None``.

    ``new`` (not in the mirror), ``changed`` (its listing entry differs from the
    one stored, or the row was marked gone), ``in_session`` (now, per the
    listing: its session's figures move), ``was_in_session`` (at the last sync:
    that session has ended since), ``full`` (asked for every visitor).
    """
    if stored is None:
        return "new"
    if stored.listing_hash != listing_hash(entry) or stored.removed_upstream_at is not None:
        return "changed"
    if entry.is_in_session:
        return "in_session"
    if stored.is_in_session:
        return "was_in_session"
    return "full" if full else None


def needs_details(
    listed: Sequence[resources.VisitorData],
    stored: Mapping[str, StoredListing] | None = None,
    *,
    full: bool = False,
) -> list[str]:
    """The short_ids of the listed visitors whose details are fetched, in listing
    order, each once (see :func:`detail_reason`). Without ``stored`` (what the
    mirror holds), every listed visitor is."""
    if stored is None:
        return list(dict.fromkeys(v.short_id for v in listed))
    wanted = (v.short_id for v in listed if detail_reason(v, stored.get(v.short_id), full=full))
    return list(dict.fromkeys(wanted))


def _chunks(
    items: Sequence[resources.VisitorData], size: int
) -> Iterator[list[resources.VisitorData]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


#: Detail requests in flight or answered but not yet taken, per fetcher: enough to
#: keep the fetchers busy while a batch is written, few enough to keep memory flat.
WINDOW_PER_FETCHER = 8


def sync_from_upscope(
    client: UpscopeClient | None = None,
    *,
    query: str | None = None,
    short_ids: Iterable[str] | None = None,
    with_history: bool = False,
    prune: bool = False,
    delete_pruned: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    usage: bool = True,
    progress: ProgressCallback | None = None,
    full: bool = False,
    concurrency: int | None = None,
    worker_client: Callable[[], UpscopeClient] | None = None,
    sleep: Sleep | None = None,
    clock: Clock | None = None,
) -> SyncReport:
    """List visitors (``search_visitors(query)``), fetch the details of those that
    need it (:func:`detail_reason`; every one with ``full`` or ``with_history``)
    with ``concurrency`` requests at once (default ``UPSCOPE["SYNC_CONCURRENCY"]``)
    and upsert them in batches of ``batch_size``, each in its own transaction, in
    this thread. A re-sync in which the listing shows no change makes the one list
    request and no detail request, and writes nothing.

    ``short_ids``: sync exactly these visitors instead of listing (each one's
    details are fetched; the listing returns only what Upscope's list returns:
    it has no pagination, and the fake, like Upscope, caps it at 100 visitors).

    Clients: ``client`` makes the listing; each fetcher thread gets its own from
    ``worker_client`` if given, else shares ``client`` if given, else calls
    :func:`~django_upscope.client.get_client` (one client, so one connection pool,
    per thread). ``sleep`` and ``clock`` are the seams of the shared rate-limit
    pause (:class:`~django_upscope.mirror.fetch.RateGate`).

    Memory stays flat: a bounded number of requests in flight and one batch of
    payloads at a time. An interrupted run can simply be run again.

    ``prune`` (only without ``query``): every mirrored visitor the listing did
    not return is checked with ``get_visitor``; a 404 confirms Upscope no longer
    has it and the row is marked ``removed_upstream_at`` (or deleted, with
    ``delete_pruned``); a visitor Upscope still has is refreshed instead.

    Raises ``ValueError`` for the options :func:`check_sync_options` refuses, and
    :class:`~django_upscope.exceptions.UpscopeError` when the listing fails, the
    credentials are refused, or Upscope keeps failing: every fetcher stops and
    what was fetched is written first. Per-visitor failures are counted in
    ``result.failed`` and the run goes on.
    """
    check_sync_options(
        query=query, short_ids=short_ids, prune=prune, batch_size=batch_size,
        concurrency=concurrency,
    )  # fmt: skip
    began = time.perf_counter()
    concurrency = concurrency or int(upscope_settings.SYNC_CONCURRENCY)
    explicit = client
    client = client or get_client()
    report = SyncReport(result=SyncResult(keep_ids=False), concurrency=concurrency)
    writer = _Writer(report, with_history=with_history, batch_size=batch_size, progress=progress)
    fetchers = Fetchers(
        _worker_clients(worker_client, explicit),
        concurrency=concurrency,
        with_history=with_history,
        gate=RateGate(sleep=sleep or _configured_sleep(), clock=clock or time.monotonic),
        max_pause=float(upscope_settings.RETRY_MAX_TIME),
        keep_open=explicit,
    )
    window = concurrency * WINDOW_PER_FETCHER
    try:
        items = _wanted(client, writer, query, short_ids, prune=prune, full=full or with_history)
        _drive(fetchers, writer, items, window)
        if writer.seen is not None:
            _prune(fetchers, writer, delete_pruned, window)
    finally:
        fetchers.close(cancel=True)
        report.elapsed = time.perf_counter() - began
    if usage:
        _record_usage(client, report)
    report.elapsed = time.perf_counter() - began
    return report


def _wanted(
    client: UpscopeClient,
    writer: _Writer,
    query: str | None,
    short_ids: Iterable[str] | None,
    *,
    prune: bool,
    full: bool,
) -> Iterator[str]:
    """The short_ids whose details are fetched: ``short_ids`` as given, or those of
    the listing that need it (the listing is one response: Upscope has no pages)."""
    report = writer.report
    if short_ids is not None:
        wanted = list(dict.fromkeys(short_ids))
        writer.total = report.listed = len(wanted)
        return iter(wanted)
    report.requests += 1
    listed = list({v.short_id: v for v in reversed(client.search_visitors(query))}.values())
    listed.reverse()  # listing order, each visitor once (its first entry)
    writer.total = report.listed = len(listed)
    writer.seen = {v.short_id for v in listed} if prune else None
    return _listing_items(writer, listed, full=full)


def _configured_sleep() -> Sleep | None:
    """``UPSCOPE["RETRY_SLEEP"]`` when a project (or its tests) set one, so the shared
    pause waits the way the client's retries do; ``None`` (wait on the stop event,
    so a fatal error ends the pause) for the default ``time.sleep``."""
    sleep = import_callable("RETRY_SLEEP")
    return None if sleep is None or sleep is time.sleep else sleep


def _worker_clients(
    worker_client: Callable[[], UpscopeClient] | None, explicit: UpscopeClient | None
) -> Callable[[], UpscopeClient]:
    if worker_client is not None:
        return worker_client
    if explicit is not None:
        return lambda: explicit
    return get_client


def _listing_items(
    writer: _Writer, listed: list[resources.VisitorData], *, full: bool
) -> Iterator[str]:
    """The short_ids to fetch, batch by batch of the listing; the others are
    counted unchanged (their listing entry is as stored: nothing to write)."""
    for chunk in _chunks(listed, writer.batch_size):
        stored = stored_listings([v.short_id for v in chunk])
        unchanged = []
        for entry in chunk:
            if detail_reason(entry, stored.get(entry.short_id), full=full) is None:
                unchanged.append(entry.short_id)
            else:
                writer.expect(entry.short_id, listing_hash(entry))
                yield entry.short_id
        writer.unchanged(unchanged)


def _drive(fetchers: Fetchers, writer: _Writer, items: Iterator[str], window: int) -> None:
    """Fetch ``items`` with at most ``window`` answers outstanding, hand each answer
    to ``writer``; on a stopping error stop every fetcher, write what was fetched
    and raise it."""
    inflight: set[Future[Fetched]] = set()
    for short_id in items:
        inflight.add(fetchers.submit(short_id))
        while len(inflight) >= window and writer.error is None:
            inflight = _take_done(fetchers, writer, inflight)
        if writer.error is not None:
            break
    while inflight and writer.error is None:
        inflight = _take_done(fetchers, writer, inflight)
    if writer.error is not None:
        fetchers.stop.set()
        for future in inflight:
            future.cancel()
        wait(inflight)
        for future in inflight:
            if not future.cancelled():
                writer.take(future.result())
    writer.flush()
    if writer.error is not None:
        raise writer.error


def _take_done(
    fetchers: Fetchers, writer: _Writer, inflight: set[Future[Fetched]]
) -> set[Future[Fetched]]:
    done, pending = wait(inflight, return_when=FIRST_COMPLETED)
    for future in done:
        writer.take(future.result())
    if writer.error is None and fetchers.error is not None:
        writer.error = fetchers.error
    return pending


class _Writer:
    """The writing side of a run: takes the fetchers' answers in the order they
    arrive and upserts them in batches of ``batch_size``, one transaction each."""

    def __init__(
        self,
        report: SyncReport,
        *,
        with_history: bool,
        batch_size: int,
        progress: ProgressCallback | None,
    ) -> None:
        self.report = report
        self.with_history = with_history
        self.batch_size = batch_size
        self.progress = progress
        # Payloads fetched from now on may be overtaken by a delete: see upsert_visitors.
        self.started = timezone.now()
        self.total = 0
        self.done = 0
        #: Listed short_ids a prune must not touch (``None``: no prune).
        self.seen: set[str] | None = None
        #: ``None`` while syncing; while pruning, whether 404s are deleted.
        self.prune_delete: bool | None = None
        #: The error that stops the run, once one happened.
        self.error: UpscopeError | None = None
        self._hashes: dict[str, str] = {}
        self._visitors: list[resources.VisitorData] = []
        self._not_found: list[str] = []
        self._failed: list[str] = []

    def expect(self, short_id: str, listing: str) -> None:
        """``short_id`` is being fetched because of its listing entry ``listing``."""
        self._hashes[short_id] = listing

    def unchanged(self, short_ids: list[str]) -> None:
        """Count listed visitors whose details are not needed."""
        if short_ids:
            self.report.result.add(Outcome.UNCHANGED, short_ids)
            self.done += len(short_ids)
            self._progress()

    def take(self, fetched: Fetched) -> None:
        """One answer; writes a batch when one is full. Never raises: an error that
        stops the run is kept in :attr:`error`."""
        self.report.requests += fetched.requests
        if fetched.cancelled:
            return
        if fetched.visitor is not None:
            self._visitors.append(fetched.visitor)
            self.report.fetched += 1
        elif isinstance(fetched.error, UpscopeVisitorNotFound):
            self._not_found.append(fetched.short_id)
        elif fetched.error is not None and self.error is None:
            self._failed_one(fetched.short_id, fetched.error)
        if len(self._visitors) + len(self._not_found) + len(self._failed) >= self.batch_size:
            self.flush()

    def _failed_one(self, short_id: str, exc: UpscopeError) -> None:
        if isinstance(exc, _FATAL):
            self.error = exc
            return
        self._failed.append(short_id)
        self.report.errors[exc.code] = self.report.errors.get(exc.code, 0) + 1
        logger.warning("Could not fetch visitor %s: %s", short_id, exc.code)

    def flush(self) -> None:
        """Write what was taken since the last flush, in one transaction."""
        visitors, gone, failed = self._visitors, self._not_found, self._failed
        self._visitors, self._not_found, self._failed = [], [], []
        hashes = {
            v.short_id: self._hashes.pop(v.short_id) for v in visitors if v.short_id in self._hashes
        }
        for short_id in (*gone, *failed):
            self._hashes.pop(short_id, None)
        batch = SyncResult(keep_ids=False)
        if visitors:
            batch = upsert_visitors(
                visitors,
                with_history=self.with_history,
                fetched_since=self.started,
                listing_hashes=hashes,
            )
        batch.add(Outcome.FAILED, failed)
        if self.prune_delete is None:
            batch.add(Outcome.SKIPPED, gone)
            if self.seen is not None:
                self.seen.difference_update(gone)
        elif gone:
            prune = remove_visitors if self.prune_delete else mark_removed_upstream
            self.report.pruned += prune(gone)
        self.report.result.merge(batch)
        if visitors or gone or failed:
            self.done += len(visitors) + len(gone) + len(failed)
            self._progress()

    def _progress(self) -> None:
        if self.progress is not None and self.prune_delete is None:
            self.progress(self.done, self.total, self.report.result)


def _record_usage(client: UpscopeClient, report: SyncReport) -> None:
    if client.on_premise:
        report.usage_skipped = "the on-premise API has no usage endpoint"
        return
    report.requests += 1
    try:
        report.usage = record_usage(client.get_usage())
    except _FATAL:
        raise
    except UpscopeError as exc:
        report.usage_error = exc


def prune_candidates(
    seen_short_ids: set[str], *, include_marked: bool = False, chunk_size: int = 1000
) -> Iterator[list[str]]:
    """Yield, in chunks, the short_ids of mirrored visitors not in ``seen_short_ids``.

    Keyset pagination keeps memory flat however large the mirror is. Rows already
    marked ``removed_upstream_at`` are left out unless ``include_marked``.
    """
    qs = models.Visitor.objects.order_by("short_id")
    if not include_marked:
        qs = qs.filter(removed_upstream_at__isnull=True)
    last = None
    while True:
        page_qs = qs if last is None else qs.filter(short_id__gt=last)
        page = list(page_qs.values_list("short_id", flat=True)[:chunk_size])
        if not page:
            return
        last = page[-1]
        missing = [sid for sid in page if sid not in seen_short_ids]
        if missing:
            yield missing


def _prune(fetchers: Fetchers, writer: _Writer, delete: bool, window: int) -> None:
    """Ask Upscope about every mirrored visitor the listing did not return: refresh
    the ones it still has, mark (or ``delete``) the ones it answers 404 for."""
    assert writer.seen is not None
    writer.prune_delete = delete
    for candidates in prune_candidates(writer.seen, include_marked=delete):
        writer.report.prune_checked += len(candidates)
        _drive(fetchers, writer, iter(candidates), window)
