"""Payloads from Upscope -> mirror rows: the only module that writes ``Visitor``,
``Session``, ``Agent`` and ``UsageSnapshot`` rows.

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
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import models as dj_models
from django.db import transaction
from django.utils import timezone

from . import models, resources, signals
from .exceptions import (
    UpscopeAuthenticationError,
    UpscopeConfigurationError,
    UpscopeError,
    UpscopeNotSupported,
    UpscopeUnavailable,
    UpscopeVisitorNotFound,
)

if TYPE_CHECKING:
    from .client import UpscopeClient

logger = logging.getLogger("django_upscope.sync")

# Part of every content hash: bump it when the way columns are derived from a
# payload changes, so the next sync rewrites every row once.
HASH_VERSION = "1"
DEFAULT_BATCH_SIZE = 500
# upscope_sync stops when this many visitors in a row fail with Upscope unavailable.
MAX_CONSECUTIVE_UNAVAILABLE = 5

VISITOR_FIELDS = (
    "api_key",
    "identities",
    "display_name",
    "identities_text",
    "unique_id",
    "lookup_code",
    "tags",
    "tags_text",
    "device_type",
    "device_name",
    "browser_name",
    "location_city",
    "location_country",
    "location_country_name",
    "ip_address",
    "integration",
    "is_online",
    "is_in_session",
    "js_configuration",
    "first_seen_at",
    "last_seen_at",
    "last_url",
    "raw",
    "content_hash",
    "synced_at",
    "removed_upstream_at",
)
HISTORY_FIELDS = ("history", "history_hash", "history_synced_at")
SESSION_FIELDS = (
    "visitor",
    "length_seconds",
    "formatted_length",
    "call_length_seconds",
    "formatted_call_length",
    "started_at",
    "ended_at",
    "went_live",
    "features_used",
    "features_text",
    "team_id",
    "team_domain",
    "metadata",
    "raw",
    "content_hash",
    "synced_at",
)
AGENT_FIELDS = ("upscope_id", "agent_identifier", "name", "type", "raw", "synced_at")


@dataclass
class SyncResult:
    """What a sync did. Counts are always kept; the short_id lists only when
    ``keep_ids`` (the default; ``upscope_sync`` keeps counts only, so its memory
    does not grow with the number of visitors)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    skipped: int = 0
    created_ids: list[str] = field(default_factory=list)
    updated_ids: list[str] = field(default_factory=list)
    unchanged_ids: list[str] = field(default_factory=list)
    failed_ids: list[str] = field(default_factory=list)
    skipped_ids: list[str] = field(default_factory=list)
    sessions_created: int = 0
    sessions_updated: int = 0
    sessions_unchanged: int = 0
    keep_ids: bool = True

    def add(self, kind: str, short_ids: Sequence[str]) -> None:
        """Count ``short_ids`` under ``kind`` (created, updated, unchanged, failed, skipped)."""
        setattr(self, kind, getattr(self, kind) + len(short_ids))
        if self.keep_ids:
            getattr(self, f"{kind}_ids").extend(short_ids)

    def merge(self, other: SyncResult) -> None:
        """Add ``other``'s counts (and ids, if this result keeps them)."""
        for kind in ("created", "updated", "unchanged", "failed", "skipped"):
            setattr(self, kind, getattr(self, kind) + getattr(other, kind))
            if self.keep_ids:
                getattr(self, f"{kind}_ids").extend(getattr(other, f"{kind}_ids"))
        self.sessions_created += other.sessions_created
        self.sessions_updated += other.sessions_updated
        self.sessions_unchanged += other.sessions_unchanged

    @property
    def written(self) -> int:
        return self.created + self.updated

    def summary(self) -> str:
        return (
            f"created={self.created} updated={self.updated} unchanged={self.unchanged} "
            f"failed={self.failed} skipped={self.skipped}"
        )


# -- deriving columns from payloads ---------------------------------------------


def content_hash(*parts: Any) -> str:
    """SHA-256 of the canonical JSON of ``parts`` (key order does not matter)."""
    text = json.dumps(
        [HASH_VERSION, *parts],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _max_lengths(model: type[dj_models.Model]) -> dict[str, int]:
    return {
        f.name: f.max_length
        for f in model._meta.concrete_fields
        if isinstance(f, (dj_models.CharField, dj_models.TextField)) and f.max_length
    }


_VISITOR_MAX = _max_lengths(models.Visitor)
_SESSION_MAX = _max_lengths(models.Session)
_AGENT_MAX = _max_lengths(models.Agent)


def _text(value: Any, name: str, limits: dict[str, int]) -> str:
    """A string column: ``None`` -> ``""``, cut to the column's length (``raw`` keeps it all)."""
    if value is None:
        return ""
    text = str(value)
    limit = limits.get(name)
    return text[:limit] if limit else text


def _padded(words: Iterable[str], name: str, limits: dict[str, int]) -> str:
    """``" a b "``: filter a word exactly with ``__contains=" a "``."""
    words = [w.replace(" ", "_") for w in words if w]
    if not words:
        return ""
    limit = limits[name]
    text = " " + " ".join(words) + " "
    if len(text) > limit:
        text = text[: text.rfind(" ", 0, limit) + 1]
    return text


def visitor_raw(visitor: resources.VisitorData) -> dict[str, Any]:
    """The visitor payload as stored in ``Visitor.raw`` (without sessions and history)."""
    return {k: v for k, v in visitor.raw.items() if k not in ("sessions", "history")}


def _visitor_values(visitor: resources.VisitorData) -> dict[str, Any]:
    lim = _VISITOR_MAX
    raw = visitor_raw(visitor)
    return {
        "api_key": _text(visitor.api_key, "api_key", lim),
        "identities": visitor.identities,
        "display_name": _text(visitor.display_name, "display_name", lim),
        "identities_text": "\n".join(visitor.identities),
        "unique_id": _text(visitor.unique_id, "unique_id", lim),
        "lookup_code": _text(visitor.lookup_code, "lookup_code", lim),
        "tags": visitor.tags,
        "tags_text": _padded(visitor.tags, "tags_text", lim),
        "device_type": _text(visitor.device_type, "device_type", lim),
        "device_name": _text(visitor.device_name, "device_name", lim),
        "browser_name": _text(visitor.browser_name, "browser_name", lim),
        "location_city": _text(visitor.location_city, "location_city", lim),
        "location_country": _text(visitor.location_country, "location_country", lim),
        "location_country_name": _text(visitor.location_country_name, "location_country_name", lim),
        "ip_address": _text(visitor.ip_address, "ip_address", lim),
        "integration": _text(visitor.integration, "integration", lim),
        "is_online": visitor.is_online,
        "is_in_session": visitor.is_in_session,
        "js_configuration": visitor.js_configuration,
        "first_seen_at": visitor.first_seen_at,
        "last_seen_at": visitor.last_seen_at,
        "last_url": _text(visitor.last_url, "last_url", lim),
        "raw": raw,
        "content_hash": content_hash("visitor", raw),
    }


def _session_values(session: resources.SessionData, short_id: str) -> dict[str, Any]:
    lim = _SESSION_MAX
    return {
        "visitor_id": short_id,
        "length_seconds": session.length_seconds,
        "formatted_length": _text(session.formatted_length, "formatted_length", lim),
        "call_length_seconds": session.call_length_seconds,
        "formatted_call_length": _text(session.formatted_call_length, "formatted_call_length", lim),
        "started_at": session.started_at,
        "ended_at": session.ended_at,
        "went_live": session.went_live,
        "features_used": session.features_used,
        "features_text": _padded(session.features_used, "features_text", lim),
        "team_id": session.team.id if session.team else None,
        "team_domain": _text(session.team.domain if session.team else None, "team_domain", lim),
        "metadata": session.metadata,
        "raw": session.raw,
        "content_hash": content_hash("session", short_id, session.raw),
    }


def agent_key(agent: resources.AgentData) -> str:
    """How an agent is recognised across payloads: Upscope's id, else the external
    ``agent_identifier``, else the name, else the payload itself."""
    if agent.id is not None:
        return f"id:{agent.id}"
    if agent.agent_identifier:
        return f"ext:{agent.agent_identifier}"[: _AGENT_MAX["key"]]
    if agent.name:
        return f"name:{agent.name}"[: _AGENT_MAX["key"]]
    return "raw:" + content_hash(agent.raw)


def _agent_values(agent: resources.AgentData) -> dict[str, Any]:
    lim = _AGENT_MAX
    return {
        "upscope_id": agent.id,
        "agent_identifier": _text(agent.agent_identifier, "agent_identifier", lim),
        "name": _text(agent.name, "name", lim),
        "type": _text(agent.type, "type", lim),
        "raw": agent.raw,
    }


# -- signals --------------------------------------------------------------------


def _send_on_commit(signal: Any, sender: type, **kwargs: Any) -> None:
    def send() -> None:
        for receiver, response in signal.send_robust(sender=sender, **kwargs):
            if isinstance(response, Exception):
                logger.error(
                    "Receiver %r of a django_upscope signal raised %r",
                    receiver,
                    response,
                    exc_info=response,
                )

    transaction.on_commit(send)


# -- the upserts ----------------------------------------------------------------


def _stored_visitors(short_ids: list[str]) -> dict[str, tuple[str, str, Any]]:
    """short_id -> (content_hash, history_hash, removed_upstream_at) of stored rows.

    The rows are locked (``SELECT ... FOR UPDATE`` where the database has it) in
    primary-key order, so a concurrent delete either finishes before this batch
    looks for deletions, or waits for the batch to commit.
    """
    rows = (
        models.Visitor.objects.select_for_update()
        .filter(pk__in=short_ids)
        .order_by("pk")
        .values_list("short_id", "content_hash", "history_hash", "removed_upstream_at")
    )
    return {pk: (chash, hhash, removed) for pk, chash, hhash, removed in rows}


def _stored_sessions(ids: list[int]) -> dict[int, tuple[str, Any]]:
    """id -> (content_hash, ended_at) of stored sessions."""
    rows = models.Session.objects.filter(pk__in=ids).values_list("id", "content_hash", "ended_at")
    return {pk: (chash, ended_at) for pk, chash, ended_at in rows}


def _stored_agents(keys: list[str]) -> dict[str, tuple[int, list[Any]]]:
    """key -> (pk, [the AGENT_FIELDS values but synced_at]) of stored agents."""
    rows = models.Agent.objects.filter(key__in=keys).values_list("key", "id", *AGENT_FIELDS[:-1])
    return {key: (pk, list(old)) for key, pk, *old in rows}


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


def upsert_visitors(
    visitors: Iterable[resources.VisitorData],
    *,
    with_history: bool = False,
    fetched_since: dt.datetime | None = None,
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
            result.add("skipped", sorted(deleted))
            for short_id in deleted:
                del batch[short_id]
        ordered = [batch[k] for k in sorted(batch)]
        writes: dict[bool, list[models.Visitor]] = {True: [], False: []}
        created: list[str] = []
        updated: list[str] = []
        unchanged: list[str] = []
        for visitor in ordered:
            values = _visitor_values(visitor)
            keep_history = with_history or "history" in visitor.raw
            if keep_history:
                values["history"] = visitor.history
                values["history_hash"] = content_hash("history", visitor.history)
                values["history_synced_at"] = now
            old = stored.get(visitor.short_id)
            if old is not None and (
                old[0] == values["content_hash"]
                and old[2] is None
                and (not keep_history or old[1] == values["history_hash"])
            ):
                unchanged.append(visitor.short_id)
                continue
            (updated if old is not None else created).append(visitor.short_id)
            writes[keep_history].append(
                models.Visitor(
                    short_id=visitor.short_id, synced_at=now, removed_upstream_at=None, **values
                )
            )
        for keep_history, objs in writes.items():
            if objs:
                fields = VISITOR_FIELDS + (HISTORY_FIELDS if keep_history else ())
                models.Visitor.objects.bulk_create(
                    objs,
                    update_conflicts=True,
                    unique_fields=["short_id"],
                    update_fields=list(fields),
                )
        result.add("created", created)
        result.add("updated", updated)
        result.add("unchanged", unchanged)
        _upsert_sessions(ordered, now, result)
        if created or updated:
            _send_on_commit(
                signals.visitor_synced, models.Visitor, created=created, updated=updated
            )
    return result


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
    changed_ids: list[int] = []
    started: list[int] = []
    ended: list[int] = []
    first_seen: list[int] = []
    for session_id in sorted(incoming):
        session, short_id = incoming[session_id]
        values = _session_values(session, short_id)
        old = stored.get(session_id)
        if old is not None and old[0] == values["content_hash"]:
            result.sessions_unchanged += 1
            continue
        if old is None:
            result.sessions_created += 1
            if session.ended_at is None:
                started.append(session_id)
            else:
                ended.append(session_id)
                first_seen.append(session_id)
        else:
            result.sessions_updated += 1
            changed_ids.append(session_id)
            if old[1] is None and session.ended_at is not None:
                ended.append(session_id)
        objs.append(models.Session(id=session_id, synced_at=now, **values))
    if not objs:
        return
    models.Session.objects.bulk_create(
        objs, update_conflicts=True, unique_fields=["id"], update_fields=list(SESSION_FIELDS)
    )
    _link_agents([incoming[obj.id][0] for obj in objs], changed_ids, now)
    if started:
        _send_on_commit(signals.session_started, models.Session, session_ids=started)
    if ended:
        _send_on_commit(
            signals.session_ended, models.Session, session_ids=ended, first_seen=first_seen
        )


def _link_agents(
    sessions: list[resources.SessionData], changed_ids: list[int], now: dt.datetime
) -> None:
    """Upsert the agents of new or changed sessions and (re)write their links."""
    agents: dict[str, dict[str, Any]] = {}
    pairs: list[tuple[int, str]] = []
    for session in sessions:
        for agent in session.agents:
            key = agent_key(agent)
            agents[key] = _agent_values(agent)
            pairs.append((session.id, key))
    through = models.Session.agents.through
    if changed_ids:
        # Links of a changed session are rewritten: agents may have left its list.
        through.objects.filter(session_id__in=changed_ids).delete()
    if not agents:
        return
    ids: dict[str, int] = {}
    to_write: list[models.Agent] = []
    for key, (pk, old) in _stored_agents(list(agents)).items():
        ids[key] = pk
        if old == [agents[key][name] for name in AGENT_FIELDS[:-1]]:
            del agents[key]
    for key in sorted(agents):
        to_write.append(models.Agent(key=key, synced_at=now, **agents[key]))
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


def upsert_visitor(visitor: resources.VisitorData, *, with_history: bool = False) -> models.Visitor:
    """Write one visitor (see :func:`upsert_visitors`) and return its mirror row."""
    upsert_visitors([visitor], with_history=with_history)
    return models.Visitor.objects.get(pk=visitor.short_id)


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
        _send_on_commit(
            signals.visitor_deleted, models.Visitor, short_ids=found, removed_locally=True
        )
    return len(found)


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
        _send_on_commit(
            signals.visitor_deleted, models.Visitor, short_ids=found, removed_locally=False
        )
    return len(found)


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


# -- a whole sync run (used by manage.py upscope_sync and bench/bench_sync.py) ---


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


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Fetcher:
    """Fetches visitor details one by one, counting failures and stopping the run
    when Upscope is clearly down or the credentials are refused."""

    def __init__(self, client: UpscopeClient, with_history: bool, report: SyncReport) -> None:
        self.client = client
        self.with_history = with_history
        self.report = report
        # Payloads fetched from now on may be overtaken by a delete: see upsert_visitors.
        self.started = timezone.now()
        self.unavailable_in_a_row = 0

    def fetch(
        self, short_ids: Sequence[str]
    ) -> tuple[list[resources.VisitorData], list[str], list[str]]:
        """Return (visitors, not_found short_ids, failed short_ids). On a fatal error
        the visitors fetched so far are written before the error propagates."""
        visitors: list[resources.VisitorData] = []
        not_found: list[str] = []
        failed: list[str] = []
        for short_id in short_ids:
            try:
                visitors.append(self.client.get_visitor(short_id, with_history=self.with_history))
                self.unavailable_in_a_row = 0
            except UpscopeVisitorNotFound:
                # Deleted upstream between the listing and now.
                not_found.append(short_id)
            except _FATAL:
                self._save(visitors)
                raise
            except UpscopeError as exc:
                failed.append(short_id)
                self.report.errors[exc.code] = self.report.errors.get(exc.code, 0) + 1
                logger.warning("Could not fetch visitor %s: %s", short_id, exc.code)
                if isinstance(exc, UpscopeUnavailable):
                    self.unavailable_in_a_row += 1
                    if self.unavailable_in_a_row >= MAX_CONSECUTIVE_UNAVAILABLE:
                        self._save(visitors)
                        raise UpscopeUnavailable(
                            f"Upscope failed {self.unavailable_in_a_row} visitors in a row "
                            f"({exc.code}); stopping. Everything synced so far is saved: run "
                            "the sync again later.",
                            status_code=exc.status_code,
                            code=exc.code,
                        ) from exc
        return visitors, not_found, failed

    def _save(self, visitors: list[resources.VisitorData]) -> None:
        if visitors:
            self.report.result.merge(self.upsert(visitors))

    def upsert(self, visitors: list[resources.VisitorData]) -> SyncResult:
        return upsert_visitors(visitors, with_history=self.with_history, fetched_since=self.started)


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

    Raises :class:`~django_upscope.exceptions.UpscopeError` when the listing
    fails, the credentials are refused, or Upscope keeps failing; per-visitor
    failures are counted in ``result.failed`` and the run goes on.
    """
    from .client import get_client

    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if prune and (query or short_ids is not None):
        raise ValueError(
            "prune needs the full visitor listing: it cannot be combined with a search query "
            "or a list of short_ids"
        )
    client = client or get_client()
    report = SyncReport(result=SyncResult(keep_ids=False))
    total = report.result
    fetcher = _Fetcher(client, with_history, report)
    # Upscope's listing has no pagination: one response, reduced at once to short_ids.
    if short_ids is None:
        short_ids = (v.short_id for v in client.search_visitors(query))
    short_ids = list(dict.fromkeys(short_ids))
    report.listed = len(short_ids)
    done = 0
    seen: set[str] = set()
    for chunk in _chunks(short_ids, batch_size):
        visitors, not_found, failed = fetcher.fetch(chunk)
        batch_result = fetcher.upsert(visitors)
        batch_result.add("skipped", not_found)
        batch_result.add("failed", failed)
        total.merge(batch_result)
        if prune:
            # Failed ones count as seen: nothing is pruned on a guess.
            seen.update(v.short_id for v in visitors)
            seen.update(failed)
        done += len(chunk)
        if progress is not None:
            progress(done, len(short_ids), total)
    if prune:
        _prune(client, fetcher, seen, delete_pruned, report)
    if usage:
        if client.on_premise:
            report.usage_skipped = "the on-premise API has no usage endpoint"
        else:
            try:
                report.usage = record_usage(client.get_usage())
            except _FATAL:
                raise
            except UpscopeError as exc:
                report.usage_error = exc
    return report


def _prune(
    client: UpscopeClient, fetcher: _Fetcher, seen: set[str], delete: bool, report: SyncReport
) -> None:
    for candidates in prune_candidates(seen, include_marked=delete):
        report.prune_checked += len(candidates)
        still_there, gone, failed = fetcher.fetch(candidates)
        if still_there:
            report.result.merge(fetcher.upsert(still_there))
        report.result.add("failed", failed)
        report.pruned += remove_visitors(gone) if delete else mark_removed_upstream(gone)
