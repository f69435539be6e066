"""What the configured Upscope server can do, answered in one place.

The cloud API offers every operation; an on-premise server documents only the reads
(docs/upscope-api.md, "On-premise endpoints"). :func:`supports` is the one answer the
client, the admin, the API and the example console ask, so that no surface offers a
control that can only fail, and :func:`unsupported_message` is what a person is told
when an operation is not offered (no method names).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .conf import upscope_settings
from .vocabulary import ON_PREMISE_OPERATIONS

#: Every operation of the client, with what it is for people ("does not offer ...").
OPERATIONS: dict[str, Any] = {
    "latest_visitors": gettext_lazy("the list of latest visitors"),
    "search_visitors": gettext_lazy("visitor search"),
    "get_visitor": gettext_lazy("visitor details"),
    "get_visitor_history": gettext_lazy("visitor history"),
    "delete_visitor": gettext_lazy("deleting visitors"),
    "purge_offline_visitors": gettext_lazy("purging offline visitors"),
    "create_watch_url": gettext_lazy("screen sharing"),
    "stop_session": gettext_lazy("stopping sessions"),
    "get_usage": gettext_lazy("usage figures"),
}

#: The operations a surface offers as controls, in the order the notice names them.
CONTROLS: tuple[str, ...] = (
    "create_watch_url",
    "stop_session",
    "delete_visitor",
    "purge_offline_visitors",
)


def is_on_premise() -> bool:
    """The configured server is on-premise (``UPSCOPE['BASE_ENDPOINT']`` is set)."""
    return bool(upscope_settings.BASE_ENDPOINT)


def supports(operation: str, *, on_premise: bool | None = None) -> bool:
    """Whether the server can do ``operation`` (a key of :data:`OPERATIONS`).

    ``on_premise`` defaults to the configured server (:func:`is_on_premise`). An unknown
    operation is a ``ValueError``: a typo must not read as "not offered".
    """
    if operation not in OPERATIONS:
        raise ValueError(f"Unknown Upscope operation {operation!r}.")
    if is_on_premise() if on_premise is None else on_premise:
        return operation in ON_PREMISE_OPERATIONS
    return True


def unsupported_message(operation: str) -> str:
    """Why ``operation`` is refused on-premise, in words for people."""
    return _(
        "This Upscope server (on-premise) does not offer %(what)s; on-premise servers "
        "document only the read endpoints."
    ) % {"what": OPERATIONS[operation]}


def _in_words(items: list[str]) -> str:
    """``["a", "b", "c"]`` as "a, b and c"."""
    if len(items) < 2:
        return "".join(items)
    return _("%(first)s and %(last)s") % {"first": ", ".join(items[:-1]), "last": items[-1]}


def server_notice() -> str:
    """The one line that says why controls are missing; empty when nothing is missing."""
    missing = [str(OPERATIONS[op]) for op in CONTROLS if not supports(op)]
    if not missing:
        return ""
    return _(
        "This Upscope server is on-premise: %(missing)s are not offered here, because "
        "on-premise servers document only the read endpoints (latest visitors, search and "
        "visitor details)."
    ) % {"missing": _in_words(missing)}


def summary() -> dict[str, Any]:
    """The server's mode, each operation's availability and the notice (for the API)."""
    return {
        "on_premise": is_on_premise(),
        "operations": {op: supports(op) for op in OPERATIONS},
        "notice": server_notice(),
    }
