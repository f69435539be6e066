"""How old the mirrored state on an admin page is: "synced 3 minutes ago".

Every page that shows the mirror says it, in a ``<time datetime="...">`` element:

- the visitor and session lists: the mirror's last sync (the sync lease's
  :class:`~django_upscope.models.SyncState`), as :func:`last_sync_line` words it;
- a visitor's page: when its row was last confirmed with Upscope (:func:`visitor_synced`);
- the usage page: the latest stored snapshot (:func:`latest_snapshot`).

A visitor's page also has a "Refresh from Upscope" button (:func:`refresh_from_upscope`).

One reading of the sync state serves the text line (the list's subtitle, also the page's
``<title>``, so plain text) and its HTML twin with the ``<time>`` element.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from .. import jobs, locks, services
from ..exceptions import UpscopeError, UpscopeVisitorNotFound
from ..models import AuditEvent, SyncState, UsageSnapshot, Visitor
from .common import admin_actor, admin_url, error_text

#: Younger than this reads "just now" rather than "0 minutes ago".
JUST_NOW = timedelta(minutes=1)


@dataclass(frozen=True)
class Freshness:
    """A moment (``None``: never) and its words (``text``). In a template it renders as a
    ``<time>`` element (a ``<span>`` for "never"): templates call ``str()`` first."""

    at: datetime | None
    text: str

    def __str__(self) -> str:
        return self.__html__()

    def __html__(self) -> SafeString:
        if self.at is None:
            return format_html('<span class="upscope-freshness">{}</span>', self.text)
        return format_html(
            '<time class="upscope-freshness" datetime="{}" title="{}">{}</time>',
            self.at.isoformat(),
            timezone.localtime(self.at).strftime("%Y-%m-%d %H:%M:%S %Z"),
            self.text,
        )


def _words(kind: str) -> tuple[str, str, str]:
    """(``%(since)s ago``, just now, never) for ``kind``: whole sentences, for translators."""
    if kind == "snapshot":
        return (
            _("latest snapshot %(since)s ago"),
            _("latest snapshot just now"),
            _("no snapshot stored yet"),
        )
    if kind == "gone":
        return (
            _("marked gone from Upscope %(since)s ago"),
            _("marked gone from Upscope just now"),
            _("not marked gone"),
        )
    return _("synced %(since)s ago"), _("synced just now"), _("never synced")


def ago(when: datetime | None, kind: str = "synced", now: datetime | None = None) -> Freshness:
    """``when`` in words: "synced 3 minutes ago", "synced just now", "never synced"
    (``kind`` "snapshot": "latest snapshot 3 minutes ago"; "gone": "marked gone ...")."""
    since_text, just_now, never = _words(kind)
    if when is None:
        return Freshness(None, never)
    now = now or timezone.now()
    if now - when < JUST_NOW:
        return Freshness(when, just_now)
    return Freshness(when, since_text % {"since": timesince(when, now, depth=1)})


# -- the mirror's last sync (the lists) ----------------------------------------------


def _sync_state() -> SyncState | None:
    return locks.state(jobs.SYNC_LEASE)


def _line(state: SyncState | None, now: datetime, *, html: bool) -> str:
    """The "Last sync" line; with ``html``, escaped and its moment in a ``<time>``."""

    def when(moment: datetime) -> str:
        words = (
            _("just now")
            if now - moment < JUST_NOW
            else _("%(since)s ago") % {"since": timesince(moment, now, depth=1)}
        )
        if not html:
            return words
        return format_html('<time datetime="{}">{}</time>', moment.isoformat(), words)

    if state is None:
        return _("Last sync: never.")
    if state.holder and state.lease_expires_at and state.lease_expires_at > now:
        since = when(state.started_at) if state.started_at else "?"
        return _("Sync running (started %(since)s).") % {"since": since}
    if state.finished_at is None:
        return _("Last sync: never.")
    summary = conditional_escape(state.summary) if html else state.summary
    values = {"when": when(state.finished_at), "summary": summary}
    if state.ok is False:
        return _("Last sync: %(when)s, failed: %(summary)s") % values
    return _("Last sync: %(when)s: %(summary)s") % values


def last_sync_line() -> str:
    """ "Last sync: 3 minutes ago: 0 new, 2 updated, 98 unchanged" (plain text, for a subtitle)."""
    return _line(_sync_state(), timezone.now(), html=False)


def last_sync_html() -> SafeString:
    """:func:`last_sync_line` with its moment in a ``<time datetime>`` element."""
    line = _line(_sync_state(), timezone.now(), html=True)
    # Every part of ``line`` was escaped by _line (the translated words are ours).
    return format_html('<span class="upscope-last-sync">{}</span>', mark_safe(line))  # noqa: S308


def last_sync() -> Freshness:
    """When the mirror last finished a sync: "synced 3 minutes ago" / "never synced"."""
    state = _sync_state()
    return ago(state.finished_at if state is not None else None)


# -- one visitor, usage ----------------------------------------------------------------


def visitor_synced(visitor: Visitor) -> Freshness:
    """When ``visitor``'s row was last confirmed with Upscope: written by a sync (its
    ``synced_at``, which an unchanged row keeps) or refreshed since (the audit trail)."""
    refreshed = (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.REFRESH_VISITOR,
            outcome=AuditEvent.Outcome.SUCCESS,
            visitor_short_id=visitor.short_id,
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    moments = [moment for moment in (visitor.synced_at, refreshed) if moment is not None]
    return ago(max(moments) if moments else None)


def visitor_gone(visitor: Visitor) -> Freshness | None:
    """ "marked gone from Upscope 3 minutes ago", or ``None`` for a present visitor."""
    if visitor.removed_upstream_at is None:
        return None
    return ago(visitor.removed_upstream_at, "gone")


def latest_snapshot() -> Freshness:
    """When the latest usage snapshot was stored: "latest snapshot 3 minutes ago"."""
    taken = UsageSnapshot.objects.order_by("-taken_at").values_list("taken_at", flat=True).first()
    return ago(taken, "snapshot")


# -- the "Refresh from Upscope" button of a visitor's page --------------------------------


def refresh_from_upscope(model_admin: Any, request: HttpRequest, short_id: str) -> HttpResponse:
    """The button's POST: refresh the visitor through :func:`services.refresh_visitor`,
    then back to its page with a message. Upscope's 404 marks it gone (and says so);
    any other Upscope error is described, never a 500."""
    if not model_admin.has_refresh_permission(request):
        raise PermissionDenied
    back = HttpResponseRedirect(admin_url(model_admin, "change", short_id))
    try:
        services.refresh_visitor(admin_actor(request), short_id)
    except PermissionDenied:
        messages.error(request, _("You may not refresh visitors."))
    except UpscopeVisitorNotFound:
        messages.warning(
            request,
            _(
                "Upscope no longer has visitor %(id)s: it is marked gone from Upscope, kept "
                "here and hidden from the visitor list unless you filter for it."
            )
            % {"id": short_id},
        )
    except UpscopeError as exc:
        messages.error(request, _("Not refreshed. %s") % error_text(exc))
    else:
        messages.success(request, _("Refreshed from Upscope just now."))
    return back


__all__ = [
    "Freshness",
    "ago",
    "last_sync",
    "last_sync_html",
    "last_sync_line",
    "latest_snapshot",
    "refresh_from_upscope",
    "visitor_gone",
    "visitor_synced",
]
