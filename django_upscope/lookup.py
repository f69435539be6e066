"""Find the visitor an agent wants to help: by who they are, or by the code they read out.

Both lookups search Upscope through :func:`django_upscope.services.search_visitors`
(which refreshes the mirror) with a documented search token (docs/upscope-api.md,
"Search syntax"): ``id:<uniqueId>`` for a customer (the ``uniqueId`` of
:func:`django_upscope.identity.unique_id_for`, the one the page's snippet sent), and the
four-digit lookup code. Upscope's answer is checked again here, so a search that
matched on free text never passes for the customer.

The result's ``matches`` are the visitors online now, most recently seen first; the
offline ones are kept (``offline``) for a chooser, and ``last_seen_at`` says when the
customer was last seen, from Upscope or, when Upscope no longer has them, the mirror.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from . import services
from .identity import IdentityAdapter, unique_id_for
from .models import Visitor
from .resources import VisitorData
from .vocabulary import LOOKUP_CODE_RE, SEARCH_ID_PREFIX

__all__ = ["VisitorLookup", "find_by_code", "find_by_identity", "find_by_unique_id"]


def _seen(visitor: VisitorData) -> float:
    return visitor.last_seen_at.timestamp() if visitor.last_seen_at else float("-inf")


@dataclass(frozen=True)
class VisitorLookup:
    """What a lookup found. ``matches``: online now; ``offline``: the others."""

    matches: list[VisitorData] = field(default_factory=list)
    offline: list[VisitorData] = field(default_factory=list)
    last_seen_at: dt.datetime | None = None

    @property
    def outcome(self) -> str:
        """``"one"``, ``"several"`` or ``"none"`` (nobody online)."""
        if not self.matches:
            return "none"
        return "one" if len(self.matches) == 1 else "several"

    @property
    def visitors(self) -> list[VisitorData]:
        """Every visitor found, online first, then most recently seen first."""
        return [*self.matches, *self.offline]


def _result(found: list[VisitorData], mirror_last_seen: dt.datetime | None) -> VisitorLookup:
    ordered = sorted(found, key=_seen, reverse=True)
    online = [visitor for visitor in ordered if visitor.is_online]
    offline = [visitor for visitor in ordered if not visitor.is_online]
    seen = [v.last_seen_at for v in ordered if v.last_seen_at is not None]
    if mirror_last_seen is not None:
        seen.append(mirror_last_seen)
    return VisitorLookup(online, offline, max(seen) if seen else None)


def _mirror_last_seen(**lookup: Any) -> dt.datetime | None:
    row = (
        Visitor.objects.filter(**lookup, last_seen_at__isnull=False)
        .order_by("-last_seen_at")
        .only("last_seen_at")
        .first()
    )
    return row.last_seen_at if row is not None else None


def find_by_unique_id(unique_id: str) -> VisitorLookup:
    """The visitors whose ``uniqueId`` is ``unique_id`` (Upscope's ``id:`` token).

    A ``unique_id`` with white space cannot be one search token: nothing is searched.
    Raises :class:`~django_upscope.exceptions.UpscopeError` when Upscope fails.
    """
    if not unique_id or any(char.isspace() for char in unique_id):
        return VisitorLookup()
    found = services.search_visitors(f"{SEARCH_ID_PREFIX}{unique_id}")
    mine = [visitor for visitor in found if visitor.unique_id == unique_id]
    return _result(mine, _mirror_last_seen(unique_id=unique_id))


def find_by_identity(obj: Any, adapter: IdentityAdapter | None = None) -> VisitorLookup:
    """The visitors the snippet identified as ``obj`` (a user, or any object via ``adapter``)."""
    unique_id = unique_id_for(obj, adapter)
    return find_by_unique_id(unique_id) if unique_id else VisitorLookup()


def valid_code(code: Any) -> bool:
    """Whether ``code`` is a four-digit lookup code."""
    return isinstance(code, str) and bool(LOOKUP_CODE_RE.fullmatch(code))


def find_by_code(code: str) -> VisitorLookup:
    """The visitors whose lookup code is ``code`` (four digits; anything else finds none).

    Raises :class:`~django_upscope.exceptions.UpscopeError` when Upscope fails.
    """
    if not valid_code(code):
        return VisitorLookup()
    found = services.search_visitors(code)
    return _result([visitor for visitor in found if visitor.lookup_code == code], None)
