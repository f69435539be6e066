"""The session reports of the usage page: their range, tables, charts and CSV files.

The figures come from :mod:`django_upscope.reports`; this module turns them into rows for
the page and for one CSV download per report.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import dateformat
from django.utils.translation import gettext as _

from .. import reports
from ..models import UsageSnapshot
from .charts import bar_chart
from .common import csv_cell

#: Per-day charts label one day in this many when the range is long.
DAY_LABELS = 10
FIGURE_COLUMNS = ("sessions", "ended_sessions", "total_seconds", "average_seconds")
SNAPSHOT_COLUMNS = tuple(
    f.attname for f in UsageSnapshot._meta.concrete_fields if f.name not in ("id", "raw")
)


def average(figures: reports.Figures) -> str:
    """The average length in seconds with one decimal, ``""`` when no session ended."""
    value = figures.average_seconds
    return "" if value is None else f"{value:.1f}"


def figure_cells(figures: reports.Figures) -> list[Any]:
    return [figures.sessions, figures.ended, figures.seconds, average(figures)]


@dataclass(frozen=True)
class ReportRange:
    start: dt.date
    end: dt.date
    #: What was wrong with the requested range (the default was used instead).
    problems: tuple[str, ...] = ()


def report_range(request: HttpRequest) -> ReportRange:
    """The ``start`` and ``end`` dates of the query string (ISO dates, both included),
    falling back to the last 30 days; a range is at most ``reports.MAX_DAYS`` long."""
    default_start, default_end = reports.default_range()
    problems = []
    dates = {}
    # Far enough for any mirror, near enough that a day's bounds exist in every time zone.
    earliest, latest = dt.date(1970, 1, 1), default_end + dt.timedelta(days=366)
    for name, default in (("start", default_start), ("end", default_end)):
        text = request.GET.get(name, "")
        try:
            dates[name] = dt.date.fromisoformat(text) if text else default
        except ValueError:
            problems.append(_("“%(name)s” is not a date (YYYY-MM-DD).") % {"name": name})
            dates[name] = default
        if not earliest <= dates[name] <= latest:
            problems.append(
                _("“%(name)s” must be between %(earliest)s and %(latest)s.")
                % {"name": name, "earliest": earliest, "latest": latest}
            )
            dates[name] = default
    start, end = dates["start"], dates["end"]
    if end < start:
        problems.append(_("The end is before the start: the last 30 days are shown."))
        start, end = default_start, default_end
    if (end - start).days + 1 > reports.MAX_DAYS:
        problems.append(_("A report covers at most %(days)d days.") % {"days": reports.MAX_DAYS})
        start = end - dt.timedelta(days=reports.MAX_DAYS - 1)
    return ReportRange(start, end, tuple(problems))


def _per_day(span: ReportRange) -> tuple[list[str], list[list[Any]]]:
    rows = reports.sessions_per_day(span.start, span.end)
    return ["date", *FIGURE_COLUMNS], [[r.day.isoformat(), *figure_cells(r.figures)] for r in rows]


def _per_agent(span: ReportRange) -> tuple[list[str], list[list[Any]]]:
    rows = reports.per_agent(span.start, span.end)
    return ["agent", *FIGURE_COLUMNS], [[r.label, *figure_cells(r.figures)] for r in rows]


def _per_feature(span: ReportRange) -> tuple[list[str], list[list[Any]]]:
    rows = reports.per_feature(span.start, span.end)
    return ["feature", *FIGURE_COLUMNS], [[r.feature, *figure_cells(r.figures)] for r in rows]


def _average_length(span: ReportRange) -> tuple[list[str], list[list[Any]]]:
    figures = reports.average_length(span.start, span.end)
    row = [span.start.isoformat(), span.end.isoformat(), *figure_cells(figures)]
    return ["start", "end", *FIGURE_COLUMNS], [row]


def _snapshots(span: ReportRange) -> tuple[list[str], list[list[Any]]]:
    rows = UsageSnapshot.objects.filter(
        taken_at__gte=reports.day_start(span.start),
        taken_at__lt=reports.day_start(span.end + dt.timedelta(days=1)),
    ).order_by("taken_at", "id")
    return list(SNAPSHOT_COLUMNS), [
        [getattr(row, name) for name in SNAPSHOT_COLUMNS] for row in rows.iterator()
    ]


#: Each report's name in its CSV URL, and its columns and rows.
REPORTS: dict[str, Callable[[ReportRange], tuple[list[str], list[list[Any]]]]] = {
    "per-day": _per_day,
    "per-agent": _per_agent,
    "per-feature": _per_feature,
    "average-length": _average_length,
    "snapshots": _snapshots,
}


def csv_response(name: str, span: ReportRange) -> HttpResponse:
    """The report ``name`` over ``span`` as a CSV attachment (404 for an unknown name)."""
    try:
        build = REPORTS[name]
    except KeyError:
        raise Http404("no such report") from None
    header, rows = build(span)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"upscope-{name}-{span.start.isoformat()}-{span.end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return response


def _chart(rows: Iterable[tuple[str, int]], label_every: int = 1) -> dict[str, Any] | None:
    return bar_chart(list(rows), label_every=label_every)


def report_context(span: ReportRange) -> dict[str, Any]:
    """The page's report tables and bar charts over ``span``."""
    days = reports.sessions_per_day(span.start, span.end)
    agents = reports.per_agent(span.start, span.end)
    features = reports.per_feature(span.start, span.end)
    summary = reports.average_length(span.start, span.end)
    every = max(1, -(-len(days) // DAY_LABELS))  # ceil: at most DAY_LABELS labels
    return {
        "span": span,
        "summary": summary,
        "summary_average": average(summary),
        "days": [(r.day, r.figures, average(r.figures)) for r in days],
        "agents": [(r.label, r.figures, average(r.figures)) for r in agents],
        "features": [(r.feature, r.figures, average(r.figures)) for r in features],
        "day_chart": _chart(
            ((dateformat.format(r.day, "M j"), r.figures.sessions) for r in days), every
        ),
        "agent_chart": _chart((r.label, r.figures.sessions) for r in agents),
        "feature_chart": _chart((r.feature, r.figures.sessions) for r in features),
    }
