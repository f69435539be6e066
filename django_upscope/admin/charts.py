"""The geometry of the usage page's small inline SVG chart."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from ..models import UsageSnapshot

USAGE_SERIES = (
    ("visitors_online_now", gettext_lazy("visitors online"), "#2271b1"),
    ("sessions_today", gettext_lazy("sessions today"), "#d63638"),
    ("agents_today", gettext_lazy("agents today"), "#00a32a"),
)


def usage_chart(snapshots: list[UsageSnapshot], width: int = 640, height: int = 200) -> dict:
    """Polyline points (oldest first) for a small inline SVG chart of the snapshots."""
    pad = 30
    top = max([1] + [getattr(s, name) for s in snapshots for name, _l, _c in USAGE_SERIES])
    count = len(snapshots)

    def x(i: int) -> float:
        return pad + (width - 2 * pad) * (i / (count - 1) if count > 1 else 0.5)

    def y(value: int) -> float:
        return height - pad - (height - 2 * pad) * value / top

    series = [
        {
            "label": label,
            "colour": colour,
            "points": " ".join(
                f"{x(i):.1f},{y(getattr(s, name)):.1f}" for i, s in enumerate(snapshots)
            ),
        }
        for name, label, colour in USAGE_SERIES
    ]
    return {
        "width": width,
        "height": height,
        "pad": pad,
        "top": top,
        "series": series,
        "bottom": height - pad,
        "right": width - pad,
        "first": snapshots[0].taken_at if snapshots else None,
        "last": snapshots[-1].taken_at if snapshots else None,
    }
