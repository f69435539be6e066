"""What the purge page and its messages tell the agent, as it really happens.

Upscope deletes offline visitors in the background. The check that follows
(:func:`django_upscope.tasks.follow_up_purge`) is queued ``PURGE_RECONCILE_DELAY``
seconds later on a backend that defers, or runs at once otherwise; it marks the visitors
Upscope no longer has as gone (or deletes their rows, with ``PURGE_REMOVES_GONE``).
"""

from __future__ import annotations

from django.contrib import messages
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import jobs, tasks
from ..conf import upscope_settings
from .common import error_text

#: (level, text) of one admin message.
Message = tuple[int, str]


def _seconds(value: float) -> str:
    whole = int(value)
    return str(whole) if whole == value else f"{value:g}"


def _fate() -> str:
    if upscope_settings.PURGE_REMOVES_GONE:
        return _("removes them from this list")
    return _(
        "marks them \u201cGone from Upscope\u201d: hidden from this list, kept under that filter"
    )


def confirmation_explanation() -> str:
    """The purge page's explanation: what Upscope does, and what the check after it does."""
    upstream = _(
        "This applies to all offline visitors in Upscope, not only those selected. Upscope "
        "deletes them asynchronously, which can take a few minutes. It cannot be undone."
    )
    if tasks.purge_check_deferred():
        check = _(
            "%(delay)s seconds later, a check finds the visitors Upscope removed and %(fate)s."
        ) % {"delay": _seconds(float(upscope_settings.PURGE_RECONCILE_DELAY)), "fate": _fate()}
    else:
        check = _(
            "Without a task worker the check runs right away, so it finds only the visitors "
            "Upscope has removed already (up to %(limit)d of them) and %(fate)s; the next pruning "
            "sync (manage.py upscope_sync --prune, which an administrator schedules) finds the "
            "others."
        ) % {"fate": _fate(), "limit": jobs.INLINE_PURGE_CHECK_LIMIT}
    return f"{upstream} {check}"


def _ran_now(outcome: dict) -> list[Message]:
    if outcome.get("status") == jobs.ALREADY_RUNNING:
        return [
            (
                messages.WARNING,
                _(
                    "A sync was running, so the check did not run: the next pruning sync "
                    "finds the visitors Upscope removed."
                ),
            )
        ]
    count, pending = int(outcome.get("pruned", 0)), int(outcome.get("pending", 0))
    if outcome.get("removed"):
        text = ngettext(
            "Checked just now: %(count)d visitor Upscope no longer has was removed from this list.",
            "Checked just now: %(count)d visitors Upscope no longer has were removed from this "
            "list.",
            count,
        )
    else:
        text = ngettext(
            "Checked just now: %(count)d visitor Upscope no longer has is marked gone "
            "(filter \u201cGone from Upscope\u201d).",
            "Checked just now: %(count)d visitors Upscope no longer has are marked gone "
            "(filter \u201cGone from Upscope\u201d).",
            count,
        )
    found = [(messages.SUCCESS, text % {"count": count})]
    if pending:
        later = ngettext(
            "%(count)d offline visitor is still in Upscope for now (it may not have purged "
            "yet, or was not checked yet): the next pruning sync checks again.",
            "%(count)d offline visitors are still in Upscope for now (it may not have purged "
            "yet, or was not checked yet): the next pruning sync checks again.",
            pending,
        )
        found.append((messages.INFO, later % {"count": pending}))
    return found


def follow_up_messages(follow_up: tasks.PurgeFollowUp) -> list[Message]:
    """The messages after Upscope accepted a purge: accepted, then what the check did or
    will do."""
    accepted = _(
        "Upscope accepted the purge and deletes the offline visitors in the background "
        "(asynchronously: it may take a few minutes)."
    )
    said: list[Message] = [(messages.SUCCESS, accepted)]
    if follow_up.error is not None:
        text = _("The check after the purge failed. %s") % error_text(follow_up.error)
        return [*said, (messages.WARNING, text)]
    if follow_up.outcome is not None:
        return [*said, *_ran_now(follow_up.outcome)]
    if follow_up.delay is None:  # nothing queued, nothing run
        later = _("The next pruning sync finds the visitors it deleted.")
        return [*said, (messages.INFO, later)]
    delay = _seconds(follow_up.delay or 0.0)
    if upscope_settings.PURGE_REMOVES_GONE:
        later = _("A check in %(delay)s seconds will remove those it deleted from this list.")
    else:
        later = _(
            "A check in %(delay)s seconds will mark those it deleted as gone "
            "(filter \u201cGone from Upscope\u201d)."
        )
    return [*said, (messages.INFO, later % {"delay": delay})]


__all__ = ["confirmation_explanation", "follow_up_messages"]
