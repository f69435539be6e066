"""The visitor list's "Gone from Upscope" filter, badge and share cell.

A visitor is *gone* when Upscope confirmed it no longer has it (a 404 to a refresh, a
pruning sync, the check after a purge): its row is kept, ``removed_upstream_at`` set.
The list hides gone visitors unless asked, and offers them no screen share (Upscope
would answer 404).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import Visitor

#: The filter's values: only the gone visitors, or everyone.
GONE, ALL = "gone", "all"


class GoneFromUpscopeFilter(admin.SimpleListFilter):
    """Present visitors by default; "Gone from Upscope" shows only the gone ones, "All"
    both. Combines with the other filters and the search like any list filter."""

    title = gettext_lazy("presence in Upscope")
    parameter_name = "upscope_presence"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [(GONE, gettext_lazy("Gone from Upscope")), (ALL, gettext_lazy("All"))]

    def choices(self, changelist: Any) -> Any:
        # The default (no parameter) is "present", so it is the first choice, not "All".
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("In Upscope"),
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Visitor]) -> QuerySet[Visitor]:
        value = self.value()
        if value == ALL:
            return queryset
        if value == GONE:
            return queryset.filter(removed_upstream_at__isnull=False)
        return queryset.filter(removed_upstream_at__isnull=True)


def gone_badge(visitor: Visitor) -> str:
    """A red "Gone from Upscope" label for a gone visitor; "" otherwise."""
    if visitor.removed_upstream_at is None:
        return ""
    return format_html(
        '<span class="upscope-badge upscope-gone" title="{}" style="color:#fff;'
        "background:#b42318;padding:1px 6px;border-radius:8px;font-size:11px;"
        'white-space:nowrap">{}</span>',
        _("Upscope no longer has this visitor (marked %(when)s).")
        % {"when": visitor.removed_upstream_at.isoformat(timespec="seconds")},
        _("Gone from Upscope"),
    )


def name_cell(visitor: Visitor) -> str:
    """The list's name column: the name, and the gone badge when there is one."""
    name = visitor.display_name or visitor.short_id
    badge = gone_badge(visitor)
    if not badge:
        return name
    return format_html("{} {}", name, badge)


def gone_share_cell(visitor: Visitor) -> str | None:
    """What the share column shows instead of a button for a gone visitor; ``None`` for a
    present one (which gets the button)."""
    if visitor.removed_upstream_at is None:
        return None
    return format_html(
        '<span class="upscope-gone-share" title="{}">{}</span>',
        _("Upscope no longer has this visitor: there is nothing to share."),
        _("gone"),
    )


__all__ = ["ALL", "GONE", "GoneFromUpscopeFilter", "gone_badge", "gone_share_cell", "name_cell"]
