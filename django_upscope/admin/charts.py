"""The geometry of the usage page's inline SVG charts, drawn on the server.

No JavaScript: each function returns numbers and labels for a template to draw, and every
chart's template puts a table with the same numbers right after it, for a screen reader.
Labels reach the SVG through the template, so they are escaped like any other text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import dateformat, timezone
from django.utils.translation import gettext_lazy

USAGE_SERIES = (
    ("visitors_online_now", gettext_lazy("visitors online"), "#2271b1"),
    ("sessions_today", gettext_lazy("sessions today"), "#d63638"),
    ("agents_today", gettext_lazy("agents today"), "#00a32a"),
)
#: At most this many time labels under a chart.
TIME_TICKS = 5
PAD = 30
#: Room for the labels under the x axis.
BOTTOM_PAD = 40


@dataclass(frozen=True)
class UsagePoint:
    """Usage figures at one moment: a stored snapshot, or the current figures (``now``)."""

    taken_at: dt.datetime
    visitors_online_now: int
    sessions_today: int
    agents_today: int
    now: bool = False

    @classmethod
    def of(cls, row: Any, *, now: bool = False) -> UsagePoint:
        """The point of a UsageSnapshot (or of anything with its attributes)."""
        return cls(
            taken_at=row.taken_at,
            visitors_online_now=row.visitors_online_now,
            sessions_today=row.sessions_today,
            agents_today=row.agents_today,
            now=now,
        )


def _local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment) if timezone.is_aware(moment) else moment


def time_label(moment: dt.datetime, span: dt.timedelta) -> str:
    """A short label for ``moment`` on an axis covering ``span``: the date when the axis
    covers days, the time (and date) when it covers hours."""
    local = _local(moment)
    if span >= dt.timedelta(days=2):
        return dateformat.format(local, "M j")
    if span >= dt.timedelta(hours=12):
        return dateformat.format(local, "M j H:i")
    return dateformat.format(local, "H:i")


def usage_chart(
    points: Sequence[Any], width: int = 640, height: int = 220
) -> dict[str, Any] | None:
    """A line per series, with x proportional to time (oldest first) and time labels.

    ``points`` are :class:`UsagePoint` or UsageSnapshot rows; None when there are none.
    One point (or all at one moment) is drawn in the middle.
    """
    if not points:
        return None
    points = sorted(
        (p if isinstance(p, UsagePoint) else UsagePoint.of(p) for p in points),
        key=lambda p: p.taken_at,
    )
    first, last = points[0].taken_at, points[-1].taken_at
    span = last - first
    bottom, right = height - BOTTOM_PAD, width - PAD
    top = max([1] + [getattr(p, name) for p in points for name, _l, _c in USAGE_SERIES])

    def x(moment: dt.datetime) -> float:
        if not span:
            return (PAD + right) / 2
        return PAD + (right - PAD) * ((moment - first) / span)

    def y(value: int) -> float:
        return bottom - (bottom - PAD) * value / top

    series = [
        {
            "label": label,
            "colour": colour,
            "points": " ".join(f"{x(p.taken_at):.1f},{y(getattr(p, name)):.1f}" for p in points),
            "dots": [
                {"x": f"{x(p.taken_at):.1f}", "y": f"{y(getattr(p, name)):.1f}"} for p in points
            ],
        }
        for name, label, colour in USAGE_SERIES
    ]
    ticks = [first + span * i / (TIME_TICKS - 1) for i in range(TIME_TICKS)] if span else [first]
    return {
        "width": width,
        "height": height,
        "pad": PAD,
        "top": top,
        "series": series,
        "bottom": bottom,
        "right": right,
        "label_y": bottom + 16,
        "ticks": [
            {"x": f"{x(t):.1f}", "label": time_label(t, span), "datetime": t.isoformat()}
            for t in ticks
        ],
        "points": points,
        "first": first,
        "last": last,
    }


def bar_chart(
    bars: Sequence[tuple[str, float]],
    width: int = 640,
    height: int = 200,
    *,
    label_every: int = 1,
) -> dict[str, Any] | None:
    """Vertical bars, one per ``(label, value)`` in order; None when there are none.

    ``label_every`` labels one bar in that many (the per-day chart has one bar a day).
    """
    if not bars:
        return None
    bottom, right = height - BOTTOM_PAD, width - PAD
    top = max([1.0] + [float(value) for _label, value in bars])
    slot = (right - PAD) / len(bars)
    gap = min(slot * 0.2, 8)
    drawn = []
    for i, (label, value) in enumerate(bars):
        tall = (bottom - PAD) * float(value) / top
        drawn.append(
            {
                "x": f"{PAD + i * slot + gap / 2:.1f}",
                "y": f"{bottom - tall:.1f}",
                "width": f"{slot - gap:.1f}",
                "height": f"{tall:.1f}",
                "centre": f"{PAD + (i + 0.5) * slot:.1f}",
                "label": label,
                "value": value,
                "labelled": i % max(label_every, 1) == 0,
            }
        )
    return {
        "width": width,
        "height": height,
        "pad": PAD,
        "top": top if top != int(top) else int(top),
        "bottom": bottom,
        "right": right,
        "label_y": bottom + 16,
        "bars": drawn,
    }
