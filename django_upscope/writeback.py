"""The app's own actions written back to the mirror at once.

When this app mints a watch URL or stops a session, it knows the visitor's state changed
before any sync could tell: the row is marked (in session, or its session ended) and the
visitor is refreshed from Upscope (one ``GET``), so its admin page shows the session that
just ran. The share page relays the watch frame's events (``active``, ``ended``) here too.

The refresh is deduplicated per visitor and phase (``active`` after a mint, ``ended`` after
a stop): one requested while another after the same phase is in flight, or within
:data:`DEDUP_SECONDS` of one, is skipped (the mint and the frame's ``active`` event, or a
double click, make one ``GET``). The claim lives in Django's cache, so workers that
share a cache share it; :data:`clock` is the seam tests move instead of waiting.

Nothing here raises for a failed write-back: the action it follows already succeeded and
is audited; a locked database or an unreachable Upscope is logged, and the next read or
sync writes the row.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import DatabaseError, transaction

from . import mirror
from .client import get_client
from .exceptions import UpscopeError, UpscopeVisitorNotFound
from .resources import VisitorData

__all__ = [
    "DEDUP_SECONDS",
    "IN_FLIGHT_SECONDS",
    "PHASES",
    "SESSION_EVENTS",
    "after_mint",
    "after_stop",
    "clock",
    "refresh",
]

logger = logging.getLogger("django_upscope.writeback")

#: The watch frame's events the share page relays (what its script folds Upscope's into).
SESSION_EVENTS = frozenset({"active", "ended"})
#: What a refresh can follow: a mint, or one of the frame's events.
PHASES = SESSION_EVENTS | {"minted"}

#: A refresh done less than this many seconds ago makes another one unnecessary.
DEDUP_SECONDS = 3.0
#: A refresh claimed longer ago than this and never finished (its worker died) is ignored.
IN_FLIGHT_SECONDS = 60.0

#: Seconds on a clock every worker shares (the claim is compared across processes).
clock: Callable[[], float] = time.time

_CACHE_PREFIX = "django_upscope:writeback:"
# Whole seconds, for every cache backend; a claim older than this means nothing anyway.
_CACHE_TIMEOUT = int(IN_FLIGHT_SECONDS) + 1
# Claims of one process are taken under this lock; cache.add() orders the processes.
_claim_lock = threading.Lock()


def _key(short_id: str, phase: str) -> str:
    return f"{_CACHE_PREFIX}{short_id}:{phase}"


def _claim(short_id: str, phase: str) -> bool:
    """Claim the refresh of ``short_id`` after ``phase`` (one of :data:`PHASES`).

    False when a refresh after the same phase is in flight or just done. Each phase has
    its own claim, so a refresh after another phase is never skipped nor overwritten: the
    state it reads changed since (a stop right after a mint must still fetch the ended
    session; the frame going live may be when Upscope starts the session).
    """
    key = _key(short_id, phase)
    with _claim_lock:
        now = clock()
        mine = {"state": "running", "at": now}
        # add() is atomic in every backend: of two processes, one gets a fresh claim.
        if cache.add(key, mine, timeout=_CACHE_TIMEOUT):
            return True
        held = cache.get(key)
        if isinstance(held, dict):
            bound = IN_FLIGHT_SECONDS if held.get("state") == "running" else DEDUP_SECONDS
            if now - float(held.get("at", 0.0)) < bound:
                return False
        # An old claim (the cache's own expiry only clears it later): take it over.
        cache.set(key, mine, timeout=_CACHE_TIMEOUT)
        return True


def _release(short_id: str, phase: str) -> None:
    """Mark the refresh done now: another after ``phase`` within DEDUP_SECONDS is skipped."""
    cache.set(_key(short_id, phase), {"state": "done", "at": clock()}, timeout=_CACHE_TIMEOUT)


def _claimed(short_id: str, phase: str) -> bool:
    try:
        return _claim(short_id, phase)
    except Exception as exc:  # a cache backend raises its own client's errors
        # Without the cache there is no deduplication; the refresh itself still matters.
        logger.warning("The write-back's cache failed (%s); refreshing anyway.", type(exc).__name__)
        return True


def _released(short_id: str, phase: str) -> None:
    try:
        _release(short_id, phase)
    except Exception as exc:  # as in _claimed
        logger.warning("The write-back's cache failed (%s).", type(exc).__name__)


def _write(what: str, short_id: str, write: Callable[..., Any], *args: Any) -> bool:
    """Run a mirror write in a savepoint; a database error is logged, never raised."""
    try:
        with transaction.atomic():
            write(*args)
    except DatabaseError as exc:
        logger.warning("Writing back %s of visitor %s failed: %s", what, short_id, exc)
        return False
    return True


def refresh(short_id: str, phase: str) -> VisitorData | None:
    """Fetch the visitor from Upscope and write its row, unless deduplicated.

    ``phase`` is what just happened (one of :data:`PHASES`): refreshes after the same
    phase are deduplicated. The claim is released once the row is written, so a caller
    skipped meanwhile reads the refreshed row. Returns what Upscope said (even when the
    mirror write failed), or None when the refresh was skipped or Upscope could not
    answer (logged).
    """
    if phase not in PHASES:
        raise ValueError(f"Unknown session event {phase!r}.")
    if not _claimed(short_id, phase):
        logger.debug("Refresh of visitor %s skipped: one is in flight or just done.", short_id)
        return None
    try:
        try:
            visitor = get_client().get_visitor(short_id)
        except UpscopeVisitorNotFound:
            _write("the removal", short_id, mirror.mark_removed_upstream, [short_id])
            return None
        except UpscopeError as exc:
            logger.warning("Refresh of visitor %s after an action failed: %s", short_id, exc.code)
            return None
        _write("the refresh", short_id, mirror.upsert_visitors, [visitor])
        return visitor
    finally:
        _released(short_id, phase)


def after_mint(short_id: str) -> VisitorData | None:
    """A watch URL was minted: mark the row in session, then refresh it (deduplicated)."""
    _write("the session start", short_id, mirror.mark_in_session, short_id)
    return refresh(short_id, "minted")


def after_stop(short_id: str) -> VisitorData | None:
    """The session was stopped: mark it ended, then refresh the visitor (deduplicated)."""
    _write("the session end", short_id, mirror.mark_session_ended, short_id)
    return refresh(short_id, "ended")
