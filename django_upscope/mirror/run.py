"""A whole sync run: list visitors, fetch their details in batches, upsert each
batch, optionally prune what Upscope no longer has, and store a usage snapshot.

Used by ``manage.py upscope_sync`` and ``bench/bench_sync.py``. The writes
themselves are in :mod:`django_upscope.mirror.upsert`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from django.utils import timezone

from .. import models, resources
from ..client import UpscopeClient, get_client
from ..exceptions import (
    UpscopeAuthenticationError,
    UpscopeConfigurationError,
    UpscopeError,
    UpscopeNotSupported,
    UpscopeUnavailable,
    UpscopeVisitorNotFound,
)
from .upsert import (
    Outcome,
    SyncResult,
    mark_removed_upstream,
    record_usage,
    remove_visitors,
    upsert_visitors,
)

logger = logging.getLogger("django_upscope.sync")

DEFAULT_BATCH_SIZE = 500
# upscope_sync stops when this many visitors in a row fail with Upscope unavailable.
MAX_CONSECUTIVE_UNAVAILABLE = 5

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


#: progress(done, total, result): called after each batch.
ProgressCallback = Callable[[int, int, SyncResult], None]

_FATAL = (UpscopeAuthenticationError, UpscopeConfigurationError, UpscopeNotSupported)


def check_sync_options(
    *,
    query: str | None = None,
    short_ids: Iterable[str] | None = None,
    prune: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> None:
    """Raise ``ValueError`` for options :func:`sync_from_upscope` refuses (the one
    place they are refused: ``upscope_sync`` asks here before it starts)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if prune and (query or short_ids is not None):
        raise ValueError(PRUNE_NEEDS_FULL_LISTING)


def needs_details(listed: Sequence[resources.VisitorData]) -> list[str]:
    """The short_ids of the listed visitors whose details are fetched, in listing
    order, each once. Today every listed visitor is fetched: the listing lacks
    sessions (see docs/upscope-api.md, "Cloud endpoints (v1.1)")."""
    return list(dict.fromkeys(v.short_id for v in listed))


class Fetched(NamedTuple):
    """One batch of :meth:`Fetcher.fetch`."""

    visitors: list[resources.VisitorData]
    #: Upscope answered 404: deleted upstream since the listing.
    not_found: list[str]
    #: Any other error; counted in ``SyncReport.errors`` by code.
    failed: list[str]


class Fetcher:
    """Fetches visitor details one by one, counting failures and stopping the run
    when Upscope is clearly down or the credentials are refused."""

    def __init__(self, client: UpscopeClient, with_history: bool, report: SyncReport) -> None:
        self.client = client
        self.with_history = with_history
        self.report = report
        # Payloads fetched from now on may be overtaken by a delete: see upsert_visitors.
        self.started = timezone.now()
        self.unavailable_in_a_row = 0

    def fetch(self, short_ids: Sequence[str]) -> Fetched:
        """Fetch ``short_ids``. On a fatal error the visitors fetched so far are
        written before the error propagates."""
        fetched = Fetched([], [], [])
        for short_id in short_ids:
            try:
                visitor = self.client.get_visitor(short_id, with_history=self.with_history)
            except UpscopeVisitorNotFound:
                fetched.not_found.append(short_id)
            except _FATAL:
                self._save(fetched.visitors)
                raise
            except UpscopeError as exc:
                fetched.failed.append(short_id)
                self._failed(short_id, exc, fetched.visitors)
            else:
                fetched.visitors.append(visitor)
                self.unavailable_in_a_row = 0
        return fetched

    def _failed(
        self, short_id: str, exc: UpscopeError, fetched: list[resources.VisitorData]
    ) -> None:
        self.report.errors[exc.code] = self.report.errors.get(exc.code, 0) + 1
        logger.warning("Could not fetch visitor %s: %s", short_id, exc.code)
        if not isinstance(exc, UpscopeUnavailable):
            return
        self.unavailable_in_a_row += 1
        if self.unavailable_in_a_row >= MAX_CONSECUTIVE_UNAVAILABLE:
            self._save(fetched)
            raise UpscopeUnavailable(
                f"Upscope failed {self.unavailable_in_a_row} visitors in a row "
                f"({exc.code}); stopping. Everything synced so far is saved: run "
                "the sync again later.",
                status_code=exc.status_code,
                code=exc.code,
            ) from exc

    def _save(self, visitors: list[resources.VisitorData]) -> None:
        if visitors:
            self.report.result.merge(self.upsert(visitors))

    def upsert(self, visitors: list[resources.VisitorData]) -> SyncResult:
        return upsert_visitors(visitors, with_history=self.with_history, fetched_since=self.started)


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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
) -> SyncReport:
    """List visitors (``search_visitors(query)``), fetch each one's details in
    batches of ``batch_size`` and upsert each batch in its own transaction.

    ``short_ids``: sync exactly these visitors instead of listing (the listing
    returns only what Upscope's list returns: it has no pagination, and the
    fake, like Upscope, caps it at 100 visitors).

    Only one batch of payloads is held at a time. An interrupted run can simply
    be run again: committed batches are unchanged and cost no writes.

    ``prune`` (only without ``query``): every mirrored visitor the listing did
    not return is checked with ``get_visitor``; a 404 confirms Upscope no longer
    has it and the row is marked ``removed_upstream_at`` (or deleted, with
    ``delete_pruned``); a visitor Upscope still has is refreshed instead.

    Raises ``ValueError`` for the options :func:`check_sync_options` refuses, and
    :class:`~django_upscope.exceptions.UpscopeError` when the listing fails, the
    credentials are refused, or Upscope keeps failing; per-visitor failures are
    counted in ``result.failed`` and the run goes on.
    """
    check_sync_options(query=query, short_ids=short_ids, prune=prune, batch_size=batch_size)
    client = client or get_client()
    report = SyncReport(result=SyncResult(keep_ids=False))
    fetcher = Fetcher(client, with_history, report)
    if short_ids is None:
        # Upscope's listing has no pagination: one response, reduced at once to short_ids.
        wanted = needs_details(client.search_visitors(query))
    else:
        wanted = list(dict.fromkeys(short_ids))
    report.listed = len(wanted)
    # Only a prune needs to know what was seen; without one, memory stays one batch.
    seen: set[str] | None = set() if prune else None
    _sync_batches(fetcher, wanted, batch_size, progress, seen)
    if seen is not None:
        _prune(fetcher, seen, delete_pruned)
    if usage:
        _record_usage(client, report)
    return report


def _sync_batches(
    fetcher: Fetcher,
    short_ids: list[str],
    batch_size: int,
    progress: ProgressCallback | None,
    seen: set[str] | None,
) -> None:
    """Fetch and upsert ``short_ids`` batch by batch; add to ``seen`` the short_ids
    Upscope did not answer 404 for (the ones a prune must not touch)."""
    total = fetcher.report.result
    done = 0
    for chunk in _chunks(short_ids, batch_size):
        fetched = fetcher.fetch(chunk)
        batch_result = fetcher.upsert(fetched.visitors)
        batch_result.add(Outcome.SKIPPED, fetched.not_found)
        batch_result.add(Outcome.FAILED, fetched.failed)
        total.merge(batch_result)
        if seen is not None:
            # Failed ones count as seen: nothing is pruned on a guess.
            seen.update(v.short_id for v in fetched.visitors)
            seen.update(fetched.failed)
        done += len(chunk)
        if progress is not None:
            progress(done, len(short_ids), total)


def _record_usage(client: UpscopeClient, report: SyncReport) -> None:
    if client.on_premise:
        report.usage_skipped = "the on-premise API has no usage endpoint"
        return
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


def _prune(fetcher: Fetcher, seen: set[str], delete: bool) -> None:
    """Ask Upscope about every mirrored visitor not in ``seen``: refresh the ones it
    still has, mark (or ``delete``) the ones it answers 404 for."""
    report = fetcher.report
    for candidates in prune_candidates(seen, include_marked=delete):
        report.prune_checked += len(candidates)
        still_there, gone, failed = fetcher.fetch(candidates)
        if still_there:
            report.result.merge(fetcher.upsert(still_there))
        report.result.add(Outcome.FAILED, failed)
        report.pruned += remove_visitors(gone) if delete else mark_removed_upstream(gone)
