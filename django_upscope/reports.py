"""Reports over the mirrored sessions: per day, per agent, per feature, average length.

Pure functions over :class:`~django_upscope.models.Session` querysets. The counting and
averaging happen in the database (``GROUP BY`` with ``Count``/``Sum``), so they work the
same on SQLite and PostgreSQL. Days are local days in ``settings.TIME_ZONE`` (the current
time zone): a session started at 23:30 UTC belongs to the next day in Paris.

A session belongs to a report's range when it *started* on one of its days. Lengths are
averaged over the sessions that have ended (a running session has no length yet).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Session

#: The longest range a report covers, in days (the per-day report has one row a day).
MAX_DAYS = 366
#: The range when none is given: the last 30 days, today included.
DEFAULT_DAYS = 30

_ENDED = Q(ended_at__isnull=False)


@dataclass(frozen=True)
class Figures:
    """How many sessions, how many of them ended, and their total length in seconds."""

    sessions: int
    ended: int
    seconds: int

    @property
    def average_seconds(self) -> float | None:
        """The average length of the ended sessions, or None when none ended."""
        return self.seconds / self.ended if self.ended else None


@dataclass(frozen=True)
class DayRow:
    day: dt.date
    figures: Figures


@dataclass(frozen=True)
class AgentRow:
    #: The agent's pk, or None for the sessions without an agent.
    agent_id: int | None
    label: str
    figures: Figures


@dataclass(frozen=True)
class FeatureRow:
    feature: str
    figures: Figures


def today() -> dt.date:
    """Today in the current time zone."""
    return timezone.localdate() if settings.USE_TZ else dt.date.today()


def default_range() -> tuple[dt.date, dt.date]:
    """The last :data:`DEFAULT_DAYS` days, today included."""
    end = today()
    return end - dt.timedelta(days=DEFAULT_DAYS - 1), end


def day_start(day: dt.date) -> dt.datetime:
    """The first moment of the local day ``day``."""
    moment = dt.datetime.combine(day, dt.time.min)
    return timezone.make_aware(moment) if settings.USE_TZ else moment


def sessions_between(
    start: dt.date, end: dt.date, sessions: QuerySet[Session] | None = None
) -> QuerySet[Session]:
    """The sessions started on a local day from ``start`` to ``end`` (both included)."""
    if end < start:
        raise ValueError("a report's end is before its start")
    base = Session.objects.all() if sessions is None else sessions
    return base.filter(
        started_at__gte=day_start(start), started_at__lt=day_start(end + dt.timedelta(days=1))
    )


def _aggregates(prefix: str = "") -> dict[str, Count | Sum]:
    # distinct: joined through agents, a session could otherwise count once per row.
    return {
        "n": Count(f"{prefix}pk", distinct=True),
        "ended_n": Count(f"{prefix}pk", filter=_ENDED, distinct=True),
        "secs": Sum(f"{prefix}length_seconds", filter=_ENDED),
    }


def _grouped(sessions: QuerySet[Session], *fields: str) -> list[dict[str, Any]]:
    """The sessions' figures per distinct value of ``fields``, computed in the database."""
    rows = sessions.order_by().values(*fields).annotate(**_aggregates())
    return cast(list[dict[str, Any]], list(rows))


def _figures(row: dict[str, Any]) -> Figures:
    return Figures(sessions=row["n"], ended=row["ended_n"], seconds=row["secs"] or 0)


def sessions_per_day(
    start: dt.date, end: dt.date, sessions: QuerySet[Session] | None = None
) -> list[DayRow]:
    """One row per local day from ``start`` to ``end``, days without sessions included."""
    dated = sessions_between(start, end, sessions).annotate(
        day=TruncDate("started_at", tzinfo=timezone.get_current_timezone())
    )
    rows = _grouped(dated, "day")
    found = {row["day"]: _figures(row) for row in rows}
    empty = Figures(0, 0, 0)
    days = (start + dt.timedelta(days=i) for i in range((end - start).days + 1))
    return [DayRow(day, found.get(day, empty)) for day in days]


def per_agent(
    start: dt.date, end: dt.date, sessions: QuerySet[Session] | None = None
) -> list[AgentRow]:
    """One row per agent (most sessions first); a session with two agents counts for both."""
    rows = _grouped(
        sessions_between(start, end, sessions),
        "agents__id",
        "agents__name",
        "agents__agent_identifier",
        "agents__key",
    )
    result = [
        AgentRow(
            agent_id=row["agents__id"],
            label=(
                row["agents__name"] or row["agents__agent_identifier"] or row["agents__key"]
                if row["agents__id"] is not None
                else _("(no agent)")
            ),
            figures=_figures(row),
        )
        for row in rows
    ]
    return sorted(result, key=lambda r: (-r.figures.sessions, r.label, r.agent_id or 0))


def per_feature(
    start: dt.date, end: dt.date, sessions: QuerySet[Session] | None = None
) -> list[FeatureRow]:
    """One row per feature used (most sessions first); a session counts for each of its
    features. Sessions are grouped in the database by their set of features
    (``features_text``), and the few sets are then split into features."""
    rows = _grouped(sessions_between(start, end, sessions), "features_text")
    totals: dict[str, list[int]] = {}
    for row in rows:
        for feature in _features(row["features_text"]):
            total = totals.setdefault(feature, [0, 0, 0])
            total[0] += row["n"]
            total[1] += row["ended_n"]
            total[2] += row["secs"] or 0
    result = [FeatureRow(name, Figures(*numbers)) for name, numbers in totals.items()]
    return sorted(result, key=lambda r: (-r.figures.sessions, r.feature))


def _features(text: str) -> Iterable[str]:
    # features_text is " a b " (mirror/columns.py, padded): each word once.
    return dict.fromkeys(text.split())


def average_length(
    start: dt.date, end: dt.date, sessions: QuerySet[Session] | None = None
) -> Figures:
    """All the range's sessions at once: their number, the ended ones and their length."""
    row = sessions_between(start, end, sessions).aggregate(**_aggregates())
    return _figures(row)
