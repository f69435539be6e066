"""How the visitor pages show what Upscope sent: the list's compact cells, the history
as a table of pageviews, and session lengths.

Everything here comes from Upscope (or from the page's SDK through Upscope), so it is
untrusted: every value is escaped by ``format_html``; a URL becomes a link only when it
is ``http(s)``. The history's fields are not documented (docs/upscope-api.md, "The visitor
object": "its fields are not documented, so it is kept as JSON"), so the table reads the
names seen in practice, tolerates any of them missing, and falls back to the JSON for a
shape it does not know.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..models import Visitor
from .common import badge, chips, pretty_json

#: At most this many pageviews in the table (a history can hold thousands).
MAX_HISTORY_ROWS = 500
#: Chips of each kind in the list before a ``+N`` chip.
LIST_CHIPS = 3

_TIME_KEYS = ("viewed_at", "time", "timestamp", "created_at", "at", "taken_at")
_URL_KEYS = ("url", "href", "page_url")
_IMAGE_KEYS = ("image_url", "screenshot_url", "src", "thumbnail_url", "url")


# -- small values ---------------------------------------------------------------------


def web_url(value: Any) -> str | None:
    """``value`` if it is an absolute ``http(s)`` URL (safe to link), else ``None``."""
    if not isinstance(value, str) or not value or any(ord(c) < 0x21 for c in value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    return value if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def link_or_text(value: Any, text: Any = None, max_chars: int = 80) -> SafeString:
    """A link for an ``http(s)`` URL, else the escaped text; long text truncated with a title."""
    if value in (None, ""):
        return mark_safe("-")
    label = Truncator(str(text if text not in (None, "") else value)).chars(max_chars)
    url = web_url(value)
    if url is None:
        return format_html('<span title="{}">{}</span>', str(value), label)
    return format_html(
        '<a href="{}" title="{}" rel="noopener noreferrer" target="_blank">{}</a>',
        url,
        url,
        label,
    )


def when(value: Any) -> SafeString:
    """A time from a payload (ISO 8601, or epoch seconds or milliseconds) in local time;
    text it cannot read is shown as it came."""
    moment = _moment(value)
    if moment is None:
        return format_html("{}", "-" if value in (None, "") else str(value))
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    return format_html(
        '<time datetime="{}">{}</time>', moment.isoformat(), date_format(local, "DATETIME_FORMAT")
    )


def _moment(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > 10**11 else value
        try:
            return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            return parse_datetime(value.strip())
        except ValueError:
            return None
    return None


def human_length(seconds: Any) -> str:
    """A duration as a person reads it: ``4 min 12 s``, ``1 h 3 min``, ``45 s``."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
        return "-"
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)d min %(s)d s") % {"m": minutes, "s": secs}
    return _("%(s)d s") % {"s": secs}


# -- the visitor list's cells ---------------------------------------------------------


def labels_cell(visitor: Visitor) -> SafeString:
    """The identities (other than the name the list shows) and the tags, as chips."""
    name = visitor.display_name or visitor.short_id
    identities = visitor.identities if isinstance(visitor.identities, list) else []
    others = [value for value in identities if str(value) != name]
    labels = [
        chips(group, tone, LIST_CHIPS)
        for group, tone in ((others, "identity"), (visitor.tags, "tag"))
        if isinstance(group, list) and group
    ]
    if not labels:
        return mark_safe("-")
    return format_html_join("", "{}", ((label,) for label in labels))


def status_cell(visitor: Visitor) -> SafeString:
    """Online or offline, and "in session" when one is going on, as one compact column."""
    online = badge(visitor.is_online, _("online"), _("offline"))
    if not visitor.is_in_session:
        return format_html('<span class="upscope-status">{}</span>', online)
    return format_html(
        '<span class="upscope-status">{}{}</span>', online, badge(True, _("in session"), "")
    )


def place_cell(visitor: Visitor) -> SafeString:
    """The country, with the device and browser under it in small type."""
    country = visitor.location_country_name or visitor.location_country or "-"
    parts = [visitor.device_type, visitor.device_name, visitor.browser_name]
    device = " \u00b7 ".join(part for part in parts if part)
    if not device:
        return format_html("{}", country)
    return format_html('{}<br><span class="upscope-small">{}</span>', country, device)


def short_when(moment: dt.datetime | None) -> SafeString:
    """A compact time for a list: the time today, the day this year, else the date; the
    whole date and time in its ``title``."""
    if moment is None:
        return mark_safe("-")
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    today = timezone.localdate() if timezone.is_aware(moment) else dt.date.today()
    if local.date() == today:
        text = date_format(local, "TIME_FORMAT")
    elif local.year == today.year:
        text = date_format(local, "MONTH_DAY_FORMAT")
    else:
        text = date_format(local, "DATE_FORMAT")
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        moment.isoformat(),
        date_format(local, "DATETIME_FORMAT"),
        text,
    )


def last_url_cell(url: str) -> SafeString:
    """The last URL, cut by CSS to the column's width, whole in its ``title``."""
    if not url:
        return mark_safe("-")
    return format_html(
        '<span class="upscope-url" title="{}">{}</span>', url, Truncator(url).chars(80)
    )


def share_button(url: str) -> SafeString:
    """The list's compact "Share" button: one line, its full name for screen readers."""
    label = _("Start screen share")
    return format_html(
        '<a class="button upscope-screenshare upscope-share" href="{}" aria-label="{}" '
        'title="{}"><span aria-hidden="true">&#9654;</span> {}</a>',
        url,
        label,
        label,
        _("Share"),
    )


# -- history --------------------------------------------------------------------------


@dataclass
class Pageview:
    """One row of the history table."""

    time: Any = None
    url: Any = None
    title: Any = None
    screenshots: list[Mapping[str, Any]] = field(default_factory=list)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _first(item: Mapping[str, Any], keys: Iterable[str]) -> Any:
    return next((item[key] for key in keys if item.get(key) not in (None, "")), None)


def pageviews(history: Any) -> list[Pageview] | None:
    """The pageviews of a history payload with their screenshots; ``None`` for a shape this
    does not read (a dict without ``pageviews``/``screenshots`` lists, a scalar)."""
    views: list[Any]
    shots: list[Any]
    if isinstance(history, list):
        views, shots = history, []
    elif isinstance(history, Mapping) and (
        isinstance(history.get("pageviews"), list) or isinstance(history.get("screenshots"), list)
    ):
        views, shots = _list(history.get("pageviews")), _list(history.get("screenshots"))
    else:
        return None
    rows: list[Pageview] = []
    by_url: dict[str, Pageview] = {}
    for item in views:
        if not isinstance(item, Mapping):
            continue
        row = Pageview(_first(item, _TIME_KEYS), _first(item, _URL_KEYS), item.get("title"))
        own = item.get("screenshots") or item.get("screenshot")
        own_shots = own if isinstance(own, list) else [own]
        row.screenshots.extend(shot for shot in own_shots if isinstance(shot, Mapping))
        rows.append(row)
        if isinstance(row.url, str):
            by_url.setdefault(row.url, row)
    for shot in shots:
        if not isinstance(shot, Mapping):
            continue
        page = _first(shot, ("page_url", "url"))
        viewed = by_url.get(page) if isinstance(page, str) else None
        if viewed is None:  # a screenshot of a page with no pageview: a row of its own
            viewed = Pageview(_first(shot, _TIME_KEYS), page, None)
            rows.append(viewed)
        viewed.screenshots.append(shot)
    return rows


def _screenshot(shot: Mapping[str, Any]) -> SafeString:
    width, height = shot.get("width"), shot.get("height")
    size = f"{width}\u00d7{height}" if width and height else ""
    label = _("screenshot %(size)s") % {"size": size} if size else _("screenshot")
    taken = _moment(_first(shot, _TIME_KEYS))
    title = ""
    if taken is not None and timezone.is_aware(taken):
        title = date_format(timezone.localtime(taken), "DATETIME_FORMAT")
    url = web_url(_first(shot, _IMAGE_KEYS))
    if url is None:
        return format_html('<span class="upscope-chip" title="{}">{}</span>', title, label)
    return format_html(
        '<a class="upscope-chip upscope-screenshot" href="{}" title="{}" '
        'rel="noopener noreferrer" target="_blank">{}</a>',
        url,
        title,
        label,
    )


def history_table(history: Any) -> SafeString:
    """The history as a table of pageviews (time, URL, title, screenshots)."""
    if history in (None, "", [], {}):
        return format_html('<p class="upscope-small">{}</p>', _("No history fetched."))
    rows = pageviews(history)
    if rows is None:
        return format_html("{}", pretty_json(history))
    if not rows:
        return format_html('<p class="upscope-small">{}</p>', _("No pageviews."))
    body = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                when(row.time),
                link_or_text(row.url),
                "-" if row.title in (None, "") else str(row.title),
                format_html_join(" ", "{}", ((_screenshot(s),) for s in row.screenshots)) or "-",
            )
            for row in rows[:MAX_HISTORY_ROWS]
        ),
    )
    more = ""
    if len(rows) > MAX_HISTORY_ROWS:
        hidden = len(rows) - MAX_HISTORY_ROWS
        more = format_html(
            '<p class="upscope-small">{}</p>',
            ngettext("%(n)d more pageview not shown.", "%(n)d more pageviews not shown.", hidden)
            % {"n": hidden},
        )
    return format_html(
        '<table class="upscope-history"><thead><tr><th>{}</th><th>{}</th><th>{}</th>'
        "<th>{}</th></tr></thead><tbody>{}</tbody></table>{}",
        _("time"),
        _("URL"),
        _("title"),
        _("screenshots"),
        body,
        more,
    )


def fetch_history_button(url: str) -> SafeString:
    """A "Fetch history" button posting the change form (and so its CSRF token) to ``url``.

    A form may not hold another form, and the change form already carries the token: the
    button only sends it elsewhere (``formaction``).
    """
    return format_html(
        '<p class="upscope-fetch-history"><button type="submit" class="button" '
        'id="upscope-fetch-history" formaction="{}" formmethod="post" formnovalidate>{}</button>'
        ' <span class="help">{}</span></p>',
        url,
        _("Fetch history"),
        _("Asks Upscope for this visitor's pageviews and screenshots now."),
    )
