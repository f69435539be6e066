"""Payload -> column values: how a typed Upscope payload becomes a mirror row.

This is the one place that knows how each column of ``Visitor``, ``Session``
and ``Agent`` is filled. The upserts (:mod:`django_upscope.mirror.upsert`) and
the test factories (:mod:`django_upscope.testing.factories`) both go through it,
so a factory row is exactly what a sync writes.

Which columns come from a payload is read from the model's ``_meta``: every
concrete field except the few the upserts fill themselves (``synced_at``,
history, ...). A column is copied from the payload attribute of the same name
(text cut to the column's ``max_length``, ``None`` stored as ``""``) unless the
model's ``derived`` function below gives it a value of its own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import models as dj_models

from .. import models, resources

# Part of every content hash: bump it when the way columns are derived from a
# payload changes, so the next sync rewrites every row once.
HASH_VERSION = "1"

Payload = TypeVar("Payload")


@dataclass(frozen=True)
class ColumnMap(Generic[Payload]):
    """The payload columns of one model, and how the derived ones are computed."""

    model: type[dj_models.Model]
    #: Columns (attnames) filled from a payload, in the model's field order.
    names: tuple[str, ...]
    #: Text columns with a length limit: name -> max_length.
    limits: dict[str, int]
    #: Text columns (``None`` is stored as ``""``); the primary key is never cut.
    text: frozenset[str]

    def values(self, payload: Payload, derived: dict[str, Any]) -> dict[str, Any]:
        """Every column in :attr:`names`: ``derived`` ones as given, the others read
        from the payload attribute of the same name."""
        return {
            name: derived[name] if name in derived else self._copied(payload, name)
            for name in self.names
        }

    def _copied(self, payload: Payload, name: str) -> Any:
        value = getattr(payload, name)
        if name in self.text:
            return text_value(value, self.limits.get(name))
        return value


def _column_map(model: type[dj_models.Model], *, not_from_payload: Iterable[str]) -> ColumnMap[Any]:
    skipped = set(not_from_payload)
    fields = [f for f in model._meta.concrete_fields if f.name not in skipped]
    text = [f for f in fields if isinstance(f, (dj_models.CharField, dj_models.TextField))]
    return ColumnMap(
        model=model,
        names=tuple(f.attname for f in fields),
        limits={f.attname: f.max_length for f in text if f.max_length},
        text=frozenset(f.attname for f in text if not f.primary_key),
    )


#: Visitor columns the upserts fill themselves rather than from the payload.
HISTORY_FIELDS = ("history", "history_hash", "history_synced_at")
VISITOR_BOOKKEEPING = ("synced_at", "removed_upstream_at")
#: Written only by a sync that listed the visitor (see :func:`listing_hash`).
LISTING_FIELDS = ("listing_hash",)
VISITOR_COLUMNS: ColumnMap[resources.VisitorData] = _column_map(
    models.Visitor, not_from_payload=HISTORY_FIELDS + VISITOR_BOOKKEEPING + LISTING_FIELDS
)
SESSION_COLUMNS: ColumnMap[resources.SessionData] = _column_map(
    models.Session, not_from_payload=("synced_at",)
)
AGENT_COLUMNS: ColumnMap[resources.AgentData] = _column_map(
    models.Agent, not_from_payload=("id", "synced_at")
)

#: What an upsert writes over an existing row (its primary key excluded).
VISITOR_FIELDS = (*(n for n in VISITOR_COLUMNS.names if n != "short_id"), *VISITOR_BOOKKEEPING)
SESSION_FIELDS = (*(n for n in SESSION_COLUMNS.names if n != "id"), "synced_at")
#: ``key`` is the conflict target, so it is not among the fields an upsert updates.
AGENT_FIELDS = (*(n for n in AGENT_COLUMNS.names if n != "key"), "synced_at")


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


def text_value(value: Any, limit: int | None) -> str:
    """A string column: ``None`` -> ``""``, cut to the column's length (``raw`` keeps it all)."""
    if value is None:
        return ""
    text = str(value)
    return text[:limit] if limit else text


def padded(words: Iterable[str], limit: int) -> str:
    """``" a b "``: filter a word exactly with ``__contains=" a "``.

    Spaces inside a word become ``_`` (a word stays one token); a text longer
    than the column is cut at the last whole word that fits.
    """
    tokens = [w.replace(" ", "_") for w in words if w]
    if not tokens:
        return ""
    text = " " + " ".join(tokens) + " "
    if len(text) > limit:
        text = text[: text.rfind(" ", 0, limit) + 1]
    return text


def visitor_raw(visitor: resources.VisitorData) -> dict[str, Any]:
    """The visitor payload as stored in ``Visitor.raw`` (without sessions and history)."""
    return {k: v for k, v in visitor.raw.items() if k not in ("sessions", "history")}


def visitor_columns(visitor: resources.VisitorData) -> dict[str, Any]:
    """The ``Visitor`` columns for ``visitor`` (``short_id`` included; history,
    ``synced_at`` and ``removed_upstream_at`` excluded: see :func:`history_columns`)."""
    raw = visitor_raw(visitor)
    return VISITOR_COLUMNS.values(
        visitor,
        {
            "identities_text": "\n".join(visitor.identities),
            "tags_text": padded(visitor.tags, VISITOR_COLUMNS.limits["tags_text"]),
            "raw": raw,
            "content_hash": content_hash("visitor", raw),
        },
    )


def listing_hash(entry: resources.VisitorData) -> str:
    """The hash of a visitor's entry in Upscope's listing (``list.json``).

    Only what every listing entry carries counts: the visitor's own fields, not
    ``sessions`` or ``history`` (a listing may leave them out). A sync stores it
    with the row and fetches the visitor's details again only when it differs
    (see :func:`django_upscope.mirror.run.needs_details`); it is a separate hash
    from ``content_hash`` (the detail payload) so a listing that words a field
    differently from the details costs one detail request, not one per sync.
    """
    return content_hash("listing", visitor_raw(entry))


def history_columns(visitor: resources.VisitorData) -> dict[str, Any]:
    """``history`` and ``history_hash`` (the caller sets ``history_synced_at``)."""
    return {
        "history": visitor.history,
        "history_hash": content_hash("history", visitor.history),
    }


def session_columns(session: resources.SessionData, short_id: str) -> dict[str, Any]:
    """The ``Session`` columns for ``session`` of visitor ``short_id`` (``id``
    included, ``synced_at`` excluded). The visitor is the one whose payload
    listed the session, whatever the session's own ``visitor_id`` says."""
    limits = SESSION_COLUMNS.limits
    team = session.team
    return SESSION_COLUMNS.values(
        session,
        {
            "visitor_id": short_id,
            "features_text": padded(session.features_used, limits["features_text"]),
            "team_id": team.id if team else None,
            "team_domain": text_value(team.domain if team else None, limits["team_domain"]),
            "content_hash": content_hash("session", short_id, session.raw),
        },
    )


def agent_key(agent: resources.AgentData) -> str:
    """How an agent is recognised across payloads: Upscope's id, else the external
    ``agent_identifier``, else the name, else the payload itself."""
    limit = AGENT_COLUMNS.limits["key"]
    if agent.id is not None:
        return f"id:{agent.id}"
    if agent.agent_identifier:
        return f"ext:{agent.agent_identifier}"[:limit]
    if agent.name:
        return f"name:{agent.name}"[:limit]
    return "raw:" + content_hash(agent.raw)


def agent_columns(agent: resources.AgentData) -> dict[str, Any]:
    """The ``Agent`` columns for ``agent`` (``key`` included; ``id`` and
    ``synced_at`` excluded)."""
    return AGENT_COLUMNS.values(agent, {"key": agent_key(agent), "upscope_id": agent.id})
