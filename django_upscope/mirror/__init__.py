"""The local mirror of Upscope: payload -> columns (:mod:`.columns`), the only
writers of mirror rows (:mod:`.upsert`), the concurrent detail fetchers
(:mod:`.fetch`) and a whole sync run (:mod:`.run`).

``django_upscope.sync`` re-exports these names for code written before the split.
"""

from __future__ import annotations

from .columns import (
    AGENT_FIELDS,
    HASH_VERSION,
    HISTORY_FIELDS,
    SESSION_FIELDS,
    VISITOR_FIELDS,
    agent_columns,
    agent_key,
    content_hash,
    history_columns,
    listing_hash,
    session_columns,
    visitor_columns,
    visitor_raw,
)
from .fetch import MAX_CONSECUTIVE_UNAVAILABLE, RateGate
from .run import (
    DEFAULT_BATCH_SIZE,
    PRUNE_NEEDS_FULL_LISTING,
    ProgressCallback,
    SyncReport,
    check_sync_options,
    detail_reason,
    needs_details,
    prune_candidates,
    sync_from_upscope,
)
from .upsert import (
    Outcome,
    StoredAgent,
    StoredListing,
    StoredSession,
    StoredVisitor,
    SyncResult,
    mark_in_session,
    mark_removed_upstream,
    mark_session_ended,
    record_usage,
    remove_visitors,
    stored_listings,
    upsert_visitor,
    upsert_visitors,
)

__all__ = [
    "AGENT_FIELDS",
    "DEFAULT_BATCH_SIZE",
    "HASH_VERSION",
    "HISTORY_FIELDS",
    "MAX_CONSECUTIVE_UNAVAILABLE",
    "PRUNE_NEEDS_FULL_LISTING",
    "SESSION_FIELDS",
    "VISITOR_FIELDS",
    "Outcome",
    "ProgressCallback",
    "RateGate",
    "StoredAgent",
    "StoredListing",
    "StoredSession",
    "StoredVisitor",
    "SyncReport",
    "SyncResult",
    "agent_columns",
    "agent_key",
    "check_sync_options",
    "content_hash",
    "detail_reason",
    "history_columns",
    "listing_hash",
    "mark_in_session",
    "mark_removed_upstream",
    "mark_session_ended",
    "needs_details",
    "prune_candidates",
    "record_usage",
    "remove_visitors",
    "session_columns",
    "stored_listings",
    "sync_from_upscope",
    "upsert_visitor",
    "upsert_visitors",
    "visitor_columns",
    "visitor_raw",
]
