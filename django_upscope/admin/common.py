"""What the ModelAdmins of django-upscope share: read-only rows, token filters,
the confirmation page, badges, chips and pretty JSON, and the actor of an admin request.

The labels carry CSS classes styled by ``django_upscope/admin.css`` (:data:`ADMIN_CSS`, in
each ModelAdmin's ``Media``); every text in them is escaped, since it comes from Upscope."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy

from ..audit import Actor, Source, actor_from_request
from ..exceptions import UpscopeError
from ..presentation import describe


def badge(value: bool, yes: str, no: str) -> str:
    """A small coloured label: green ``yes`` when ``value``, grey ``no`` otherwise."""
    colour = "#1a7f37" if value else "#6e7781"
    return format_html(
        '<span class="upscope-badge" style="color:#fff;background:{};padding:1px 6px;'
        'border-radius:8px;font-size:11px;white-space:nowrap">{}</span>',
        colour,
        yes if value else no,
    )


#: The stylesheet of the chips, outcome labels, history and session tables.
ADMIN_CSS = "django_upscope/admin.css"

#: The tones a chip may have (each a CSS class ``upscope-chip--TONE``).
CHIP_TONES = frozenset({"identity", "tag", "agent", "feature"})


def chips(values: Iterable[Any] | None, tone: str = "", limit: int | None = None) -> str:
    """Each value as a small escaped label; ``-`` for none; past ``limit``, a ``+N`` chip.

    ``values`` is untrusted JSON from Upscope: anything that is not a list gives ``-``,
    and each item is shown as its text.
    """
    if not isinstance(values, (list, tuple)):
        return "-"
    items = [str(value) for value in values if value not in (None, "")]
    if not items:
        return "-"
    shown = items if limit is None else items[:limit]
    css = "upscope-chip" + (f" upscope-chip--{tone}" if tone in CHIP_TONES else "")
    html = format_html_join("", '<span class="{}">{}</span>', ((css, item) for item in shown))
    if len(items) > len(shown):
        more = len(items) - len(shown)
        html = format_html(
            '{}<span class="upscope-chip upscope-chip--more" title="{}">+{}</span>',
            html,
            ", ".join(items[len(shown) :]),
            more,
        )
    return format_html('<span class="upscope-chips">{}</span>', html)


def pretty_json(value: Any) -> str:
    """Indented, escaped JSON in a ``<pre>``; ``-`` for an empty value."""
    if value in (None, "", [], {}):
        return "-"
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return format_html(
        '<pre style="white-space:pre-wrap;max-height:30em;overflow:auto">{}</pre>', text
    )


def error_text(error: UpscopeError) -> str:
    """An Upscope error as one sentence for an admin message."""
    return describe(error).text


def admin_actor(request: HttpRequest) -> Actor:
    """The actor of an admin request."""
    return actor_from_request(request, Source.ADMIN)


def admin_url(model_admin: admin.ModelAdmin, page: str, *args: Any) -> str:
    """The URL of one of ``model_admin``'s pages (``changelist``, ``change``...) on its site."""
    opts = model_admin.model._meta
    name = f"{model_admin.admin_site.name}:{opts.app_label}_{opts.model_name}_{page}"
    return reverse(name, args=args, current_app=model_admin.admin_site.name)


class ReadOnlyMixin:
    """Mirror and audit rows are never added, changed or deleted through the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SpacedTokenFilter(admin.SimpleListFilter):
    """Filter on a ``" a b c "`` text column (tags, features) by one token."""

    field_name = ""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        tokens: set[str] = set()
        qs = model_admin.get_queryset(request).exclude(**{self.field_name: ""})
        for text in (
            qs.order_by(self.field_name).values_list(self.field_name, flat=True).distinct()[:2000]
        ):
            tokens.update(text.split())
        return [(token, token) for token in sorted(tokens)[:200]]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        return queryset.filter(**{f"{self.field_name}__contains": f" {value} "})


class TagFilter(SpacedTokenFilter):
    title = gettext_lazy("tag")
    parameter_name = "tag"
    field_name = "tags_text"


class FeatureFilter(SpacedTokenFilter):
    title = gettext_lazy("feature used")
    parameter_name = "feature"
    field_name = "features_text"


def confirm(
    request: HttpRequest,
    model_admin: admin.ModelAdmin,
    *,
    title: str,
    question: str,
    explanation: str,
    action: str | None,
    objects: Iterable[Any] = (),
    form_url: str = "",
    button: str,
) -> TemplateResponse:
    """The confirmation page posted back to the changelist (or ``form_url``)."""
    opts = model_admin.model._meta
    request.current_app = model_admin.admin_site.name
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "question": question,
        "explanation": explanation,
        "objects": list(objects),
        "action": action,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "form_url": form_url,
        "button": button,
        "opts": opts,
        "app_label": opts.app_label,
        "changelist_url": admin_url(model_admin, "changelist"),
    }
    return TemplateResponse(request, "django_upscope/admin/confirm_action.html", context)


#: What a spreadsheet runs as a formula when a cell starts with it.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text: JSON for a dict or list, ``""`` for
    ``None``, and a leading ``'`` on anything that starts like a formula."""
    if isinstance(value, (dict, list)):
        value = json.dumps(value, sort_keys=True)
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        text = "'" + text
    return text
