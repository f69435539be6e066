"""The only writers of mirror rows: ``Visitor``, ``Session``, ``Agent`` and
``UsageSnapshot``.

Every write path is bulk: a batch of visitors costs a fixed number of queries
whatever its size (one ``SELECT`` per table to load what is stored, one
``INSERT ... ON CONFLICT`` per table for what is new or changed, one ``DELETE``
and one ``INSERT`` for the session-agent links of changed sessions). Rows whose
content hash is unchanged are not written at all, so re-syncing unchanged data
issues no ``INSERT``, ``UPDATE`` or ``DELETE``.

Writes are idempotent and safe when two syncs run at once: rows are written with
``bulk_create(update_conflicts=True)`` / ``ignore_conflicts=True`` inside
``transaction.atomic()``, in primary-key order, so a row another sync inserted
meanwhile is updated instead of raising ``IntegrityError`` or being duplicated.

What is stored where:

- ``Visitor.raw``: the visitor payload without ``sessions`` and ``history``
  (each session keeps its own payload in ``Session.raw``; history is in
  ``Visitor.history``), so no field Upscope sends is lost.
- ``Visitor.history``: written only when the visitor was fetched with history
  (``with_history=True`` or a payload that carries a ``history`` key); a sync
  without history leaves stored history alone.
- Sessions are written only from payloads that carry a ``sessions`` list, and
  never deleted: Upscope lists only *recent* sessions, and the mirror keeps a
  record after Upscope forgets them.
- ``synced_at``: when the row was last written, that is when its content last
  changed. An unchanged row keeps its old ``synced_at`` (writing nothing is the
  point).

Signals (:mod:`django_upscope.signals`) are sent once per batch, after commit.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import models, resources, signals
from ..vocabulary import SHORT_ID_RE
from .columns import (
    AGENT_FIELDS,
    HISTORY_FIELDS,
    LISTING_FIELDS,
    SESSION_FIELDS,
    VISITOR_FIELDS,
    agent_columns,
    history_columns,
    session_columns,
    visitor_columns,
)


class Outcome(enum.Enum):
    """What happened to one visitor in a sync."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass
class SyncResult:
    """What a sync did. Counts are always kept; the short_id lists only when
    ``keep_ids`` (the default; ``upscope_sync`` keeps counts only, so its memory
    does not grow with the number of visitors)."""

    keep_ids: bool = True
    #: Visitors per outcome.
    counts: Counter[Outcome] = field(default_factory=Counter)
    #: Short_ids per outcome (empty unless ``keep_ids``).
    ids: dict[Outcome, list[str]] = field(default_factory=dict)
    #: Sessions per outcome (created, updated or unchanged only).
    sessions: Counter[Outcome] = field(default_factory=Counter)

    def add(self, outcome: Outcome, short_ids: Sequence[str]) -> None:
        """Count ``short_ids`` under ``outcome``."""
        self.counts[outcome] += len(short_ids)
        if self.keep_ids:
            self.ids.setdefault(outcome, []).extend(short_ids)

    def merge(self, other: SyncResult) -> None:
        """Add ``other``'s counts (and ids, if this result keeps them)."""
        self.counts.update(other.counts)
        self.sessions.update(other.sessions)
        if self.keep_ids:
            for outcome, short_ids in other.ids.items():
                self.ids.setdefault(outcome, []).extend(short_ids)

    # The names the counts had before they were keyed by Outcome.
    @property
    def created(self) -> int:
        return self.counts[Outcome.CREATED]

    @property
    def updated(self) -> int:
        return self.counts[Outcome.UPDATED]

    @property
    def unchanged(self) -> int:
        return self.counts[Outcome.UNCHANGED]

    @property
    def failed(self) -> int:
        return self.counts[Outcome.FAILED]

    @property
    def skipped(self) -> int:
        return self.counts[Outcome.SKIPPED]

    @property
    def created_ids(self) -> list[str]:
        return self.ids.get(Outcome.CREATED, [])

    @property
    def updated_ids(self) -> list[str]:
        return self.ids.get(Outcome.UPDATED, [])

    @property
    def unchanged_ids(self) -> list[str]:
        return self.ids.get(Outcome.UNCHANGED, [])

    @property
    def failed_ids(self) -> list[str]:
        return self.ids.get(Outcome.FAILED, [])

    @property
    def skipped_ids(self) -> list[str]:
        return self.ids.get(Outcome.SKIPPED, [])

    @property
    def sessions_created(self) -> int:
        return self.sessions[Outcome.CREATED]

    @property
    def sessions_updated(self) -> int:
        return self.sessions[Outcome.UPDATED]

    @property
    def sessions_unchanged(self) -> int:
        return self.sessions[Outcome.UNCHANGED]

    @property
    def written(self) -> int:
        return self.created + self.updated

    def summary(self) -> str:
        """``created=N updated=N ...``: the line commands print and scripts parse."""
        return " ".join(f"{o.value}={self.counts[o]}" for o in Outcome)

    def in_words(self) -> str:
        """``20 new, 3 updated, 77 unchanged`` (and failed, skipped when any): for people."""
        parts = [
            _("%(count)d new") % {"count": self.created},
            _("%(count)d updated") % {"count": self.updated},
            _("%(count)d unchanged") % {"count": self.counts[Outcome.UNCHANGED]},
        ]
        if self.failed:
            parts.append(_("%(count)d failed") % {"count": self.failed})
        if self.counts[Outcome.SKIPPED]:
            parts.append(_("%(count)d skipped") % {"count": self.counts[Outcome.SKIPPED]})
        return ", ".join(parts)


# -- what is stored -------------------------------------------------------------


class StoredVisitor(NamedTuple):
    content_hash: str
    history_hash: str
    removed_upstream_at: dt.datetime | None
    listing_hash: str


class StoredListing(NamedTuple):
    """What a sync compares a listing entry with (see ``mirror.run.needs_details``)."""

    listing_hash: str
    is_in_session: bool
    removed_upstream_at: dt.datetime | None


class StoredSession(NamedTuple):
    content_hash: str
    ended_at: dt.datetime | None


class StoredAgent(NamedTuple):
    pk: int
    #: The stored ``AGENT_FIELDS`` but ``synced_at``.
    columns: dict[str, Any]


def _stored_visitors(short_ids: list[str]) -> dict[str, StoredVisitor]:
    """The stored rows of these visitors.

    The rows are locked (``SELECT ... FOR UPDATE`` where the database has it) in
    primary-key order, so a concurrent delete either finishes before this batch
    looks for deletions, or waits for the batch to commit.
    """
    rows = (
        models.Visitor.objects.select_for_update()
        .filter(pk__in=short_ids)
        .order_by("pk")
        .values_list("short_id", *StoredVisitor._fields)
    )
    return {pk: StoredVisitor(*stored) for pk, *stored in rows}


def stored_listings(short_ids: Sequence[str]) -> dict[str, StoredListing]:
    """The stored listing state of these visitors (a plain read: no lock, no write)."""
    rows = models.Visitor.objects.filter(pk__in=list(short_ids)).values_list(
        "short_id", *StoredListing._fields
    )
    return {pk: StoredListing(*stored) for pk, *stored in rows}


def _stored_sessions(ids: list[int]) -> dict[int, StoredSession]:
    rows = models.Session.objects.filter(pk__in=ids).values_list("id", *StoredSession._fields)
    return {pk: StoredSession(*stored) for pk, *stored in rows}


_AGENT_COMPARED = tuple(n for n in AGENT_FIELDS if n != "synced_at")


def _stored_agents(keys: list[str]) -> dict[str, StoredAgent]:
    rows = models.Agent.objects.filter(key__in=keys).values_list("key", "id", *_AGENT_COMPARED)
    return {
        key: StoredAgent(pk, dict(zip(_AGENT_COMPARED, old, strict=True))) for key, pk, *old in rows
    }


def _deleted_since(short_ids: list[str], since: dt.datetime) -> set[str]:
    """Visitors an agent deleted (successfully, per the audit trail) at or after ``since``."""
    return set(
        models.AuditEvent.objects.filter(
            action=models.AuditEvent.Action.DELETE_VISITOR,
            outcome=models.AuditEvent.Outcome.SUCCESS,
            visitor_short_id__in=short_ids,
            created_at__gte=since,
        ).values_list("visitor_short_id", flat=True)
    )


# -- visitors -------------------------------------------------------------------


def upsert_visitors(
    visitors: Iterable[resources.VisitorData],
    *,
    with_history: bool = False,
    fetched_since: dt.datetime | None = None,
    listing_hashes: Mapping[str, str] | None = None,
) -> SyncResult:
    """Write a batch of visitors (and their sessions and agents) to the mirror.

    Bulk and idempotent: the number of queries does not depend on the batch
    size (beyond the database's own limit on parameters per statement), and
    visitors, sessions and agents whose content is unchanged are not written.
    History is stored when ``with_history`` is true, or when a payload carries a
    ``history`` key; otherwise stored history is kept. If a short_id appears
    twice, the last payload wins.

    ``fetched_since``: when the payloads were fetched (a sync passes its start
    time). Visitors deleted through :mod:`django_upscope.services` since then are
    left out (counted as ``skipped``): their payloads are stale, and writing them
    would bring a deleted visitor back.

    ``listing_hashes``: short_id -> the hash of its entry in the listing the sync
    read (:func:`~django_upscope.mirror.columns.listing_hash`), stored with the
    row. A visitor whose content is unchanged but whose listing hash is new stays
    ``unchanged`` and costs only that column.
    """
    batch = {v.short_id: v for v in visitors}
    result = SyncResult()
    if not batch:
        return result
    now = timezone.now()
    with transaction.atomic():
        stored = _stored_visitors(list(batch))
        if fetched_since is not None:
            deleted = _deleted_since(list(batch), fetched_since)
            result.add(Outcome.SKIPPED, sorted(deleted))
            for short_id in deleted:
                del batch[short_id]
        ordered = [batch[k] for k in sorted(batch)]
        _write_visitors(ordered, stored, with_history, listing_hashes or {}, now, result)
        _upsert_sessions(ordered, now, result)
        created, updated = result.created_ids, result.updated_ids
        if created or updated:
            signals.send_on_commit(
                signals.visitor_synced, models.Visitor, created=created, updated=updated
            )
    return result


def _write_visitors(
    ordered: list[resources.VisitorData],
    stored: dict[str, StoredVisitor],
    with_history: bool,
    listing_hashes: Mapping[str, str],
    now: dt.datetime,
    result: SyncResult,
) -> None:
    """Write the new or changed visitors of ``ordered`` (one statement per set of
    columns written: with or without history, with or without a listing hash, or
    the listing hash alone) and count every visitor in ``result``."""
    writes: dict[tuple[str, ...], list[models.Visitor]] = {}
    for visitor in ordered:
        values = visitor_columns(visitor)
        keep_history = with_history or "history" in visitor.raw
        if keep_history:
            values.update(history_columns(visitor), history_synced_at=now)
        listed = listing_hashes.get(visitor.short_id)
        if listed is not None:
            values["listing_hash"] = listed
        old = stored.get(visitor.short_id)
        fields = VISITOR_FIELDS + (HISTORY_FIELDS if keep_history else ())
        fields += LISTING_FIELDS if listed is not None else ()
        if old is not None and (
            old.content_hash == values["content_hash"]
            and old.removed_upstream_at is None
            and (not keep_history or old.history_hash == values["history_hash"])
        ):
            result.add(Outcome.UNCHANGED, [visitor.short_id])
            if listed is None or old.listing_hash == listed:
                continue
            # Content as stored, listing worded anew: remember the new listing only.
            fields = LISTING_FIELDS
        else:
            result.add(Outcome.UPDATED if old is not None else Outcome.CREATED, [visitor.short_id])
        writes.setdefault(fields, []).append(
            models.Visitor(synced_at=now, removed_upstream_at=None, **values)
        )
    for fields, objs in writes.items():
        models.Visitor.objects.bulk_create(
            objs, update_conflicts=True, unique_fields=["short_id"], update_fields=list(fields)
        )


def upsert_visitor(visitor: resources.VisitorData, *, with_history: bool = False) -> models.Visitor:
    """Write one visitor (see :func:`upsert_visitors`) and return its mirror row."""
    upsert_visitors([visitor], with_history=with_history)
    return models.Visitor.objects.get(pk=visitor.short_id)


# -- sessions and agents --------------------------------------------------------


@dataclass
class _SessionChanges:
    """The session ids of one batch that were written, by what the signals report."""

    changed: list[int] = field(default_factory=list)
    started: list[int] = field(default_factory=list)
    ended: list[int] = field(default_factory=list)
    first_seen: list[int] = field(default_factory=list)


def _upsert_sessions(
    ordered: list[resources.VisitorData], now: dt.datetime, result: SyncResult
) -> None:
    incoming: dict[int, tuple[resources.SessionData, str]] = {}
    for visitor in ordered:
        # A payload without a "sessions" key (a list entry) says nothing about sessions.
        if "sessions" in visitor.raw:
            for session in visitor.sessions:
                incoming[session.id] = (session, visitor.short_id)
    if not incoming:
        return
    stored = _stored_sessions(list(incoming))
    objs: list[models.Session] = []
    changes = _SessionChanges()
    for session_id in sorted(incoming):
        session, short_id = incoming[session_id]
        values = session_columns(session, short_id)
        old = stored.get(session_id)
        if old is not None and old.content_hash == values["content_hash"]:
            result.sessions[Outcome.UNCHANGED] += 1
            continue
        if old is None:
            result.sessions[Outcome.CREATED] += 1
            if session.ended_at is None:
                changes.started.append(session_id)
            else:
                changes.ended.append(session_id)
                changes.first_seen.append(session_id)
        else:
            result.sessions[Outcome.UPDATED] += 1
            changes.changed.append(session_id)
            if old.ended_at is None and session.ended_at is not None:
                changes.ended.append(session_id)
        objs.append(models.Session(synced_at=now, **values))
    if not objs:
        return
    models.Session.objects.bulk_create(
        objs, update_conflicts=True, unique_fields=["id"], update_fields=list(SESSION_FIELDS)
    )
    _link_agents([incoming[obj.id][0] for obj in objs], changes.changed, now)
    _send_session_signals(changes)


def _send_session_signals(changes: _SessionChanges) -> None:
    if changes.started:
        signals.send_on_commit(signals.session_started, models.Session, session_ids=changes.started)
    if changes.ended:
        signals.send_on_commit(
            signals.session_ended,
            models.Session,
            session_ids=changes.ended,
            first_seen=changes.first_seen,
        )


def _link_agents(
    sessions: list[resources.SessionData], changed_ids: list[int], now: dt.datetime
) -> None:
    """Upsert the agents of new or changed sessions and (re)write their links."""
    agents: dict[str, dict[str, Any]] = {}
    pairs: list[tuple[int, str]] = []
    for session in sessions:
        for agent in session.agents:
            values = agent_columns(agent)
            agents[values["key"]] = values
            pairs.append((session.id, values["key"]))
    through = models.Session.agents.through
    if changed_ids:
        # Links of a changed session are rewritten: agents may have left its list.
        through.objects.filter(session_id__in=changed_ids).delete()
    if not agents:
        return
    ids: dict[str, int] = {}
    for key, old in _stored_agents(list(agents)).items():
        ids[key] = old.pk
        if old.columns == {name: agents[key][name] for name in _AGENT_COMPARED}:
            del agents[key]
    to_write = [models.Agent(synced_at=now, **agents[key]) for key in sorted(agents)]
    if to_write:
        models.Agent.objects.bulk_create(
            to_write,
            update_conflicts=True,
            unique_fields=["key"],
            update_fields=list(AGENT_FIELDS),
        )
        missing = [a.key for a in to_write if a.key not in ids]
        if missing:
            ids.update(models.Agent.objects.filter(key__in=missing).values_list("key", "id"))
    links = {(session_id, ids[key]) for session_id, key in pairs}
    through.objects.bulk_create(
        [through(session_id=s, agent_id=a) for s, a in sorted(links)], ignore_conflicts=True
    )


# -- removals and usage ---------------------------------------------------------


def remove_visitors(short_ids: Iterable[str]) -> int:
    """Delete visitors (and their sessions) from the mirror; return how many.

    Call only after Upscope confirmed the deletion (``DELETE`` answered ok, or a
    ``GET`` answered 404). Sends ``visitor_deleted`` with ``removed_locally=True``.
    """
    wanted = sorted(set(short_ids))
    if not wanted:
        return 0
    with transaction.atomic():
        found = list(
            models.Visitor.objects.filter(pk__in=wanted).values_list("short_id", flat=True)
        )
        if not found:
            return 0
        models.Visitor.objects.filter(pk__in=found).delete()
        signals.send_on_commit(
            signals.visitor_deleted, models.Visitor, short_ids=found, removed_locally=True
        )
    return len(found)


def remove_invalid_visitors() -> int:
    """Delete the mirror rows whose id is not a valid Upscope id; return how many.

    Such a row was stored before ids from Upscope were validated. Upscope cannot be
    asked about it (the id cannot go in a request path), so it is removed locally.
    """
    # In Python: a database regex's ``$`` may match before a trailing newline.
    ids = models.Visitor.objects.values_list("short_id", flat=True).iterator(chunk_size=2000)
    return remove_visitors([short_id for short_id in ids if not SHORT_ID_RE.fullmatch(short_id)])


def mark_removed_upstream(short_ids: Iterable[str]) -> int:
    """Keep the rows but set ``removed_upstream_at``: Upscope confirmed it no longer
    has these visitors. Returns how many rows were newly marked; sends
    ``visitor_deleted`` with ``removed_locally=False`` for them."""
    wanted = sorted(set(short_ids))
    if not wanted:
        return 0
    now = timezone.now()
    with transaction.atomic():
        qs = models.Visitor.objects.filter(pk__in=wanted, removed_upstream_at__isnull=True)
        found = list(qs.values_list("short_id", flat=True))
        if not found:
            return 0
        models.Visitor.objects.filter(pk__in=found).update(removed_upstream_at=now, synced_at=now)
        signals.send_on_commit(
            signals.visitor_deleted, models.Visitor, short_ids=found, removed_locally=False
        )
    return len(found)


def mark_in_session(short_id: str) -> int:
    """Mark the visitor's row in session: this app just minted a watch URL for it.

    The content hash is cleared, so the next upsert writes Upscope's own state whatever it
    says (not "unchanged" against this mark). Returns how many rows were marked (0: the
    visitor is not mirrored yet; the refresh that follows creates it).
    """
    return models.Visitor.objects.filter(pk=short_id).update(
        is_in_session=True, content_hash="", listing_hash=""
    )


def mark_session_ended(short_id: str) -> int:
    """Mark the visitor out of session and its running sessions ended: this app stopped it.

    ``ended_at`` is now until the next upsert writes Upscope's own (the hashes are cleared
    for that). ``session_ended`` is sent for the sessions ended here, as an upsert would have.
    Returns how many sessions were marked ended.
    """
    now = timezone.now()
    with transaction.atomic():
        models.Visitor.objects.filter(pk=short_id).update(
            is_in_session=False, content_hash="", listing_hash=""
        )
        running = models.Session.objects.filter(visitor_id=short_id, ended_at__isnull=True)
        ended = sorted(running.values_list("id", flat=True))
        if not ended:
            return 0
        models.Session.objects.filter(pk__in=ended).update(ended_at=now, content_hash="")
        signals.send_on_commit(
            signals.session_ended, models.Session, session_ids=ended, first_seen=[]
        )
    return len(ended)


def record_usage(
    usage: resources.Usage, *, taken_at: dt.datetime | None = None
) -> models.UsageSnapshot:
    """Store Upscope's usage figures as a :class:`~django_upscope.models.UsageSnapshot`."""
    return models.UsageSnapshot.objects.create(
        taken_at=taken_at or timezone.now(),
        visitors_online_now=usage.visitors.online_now,
        visitors_last_24_hrs=usage.visitors.last_24_hrs,
        visitors_last_30_days=usage.visitors.last_30_days,
        agents_today=usage.agents.today,
        agents_last_30_days=usage.agents.last_30_days,
        sessions_now=usage.session_counts.now,
        sessions_today=usage.session_counts.today,
        sessions_last_30_days=usage.session_counts.last_30_days,
        session_seconds_today=usage.session_seconds.today,
        session_seconds_last_30_days=usage.session_seconds.last_30_days,
        raw=usage.raw,
    )
