"""Signals for integrators, sent by the mirror's upserts (:mod:`django_upscope.mirror.upsert`).

Every signal is sent once per synced batch (not once per row), after the
transaction that wrote the mirror rows has committed, so a receiver always sees
the committed rows and is never told about a change that was rolled back.
Receivers are called with ``send_robust``: an exception in one receiver is
logged (logger ``django_upscope.sync``) and does not stop the sync or the other
receivers.

``visitor_synced``
    ``sender=models.Visitor``; ``created``: list of the short_ids of visitors
    that were new to the mirror, ``updated``: list of the short_ids of visitors
    whose stored data changed. Visitors whose data was unchanged are in neither
    list (and nothing was written for them). Sent only when one list is not empty.

``visitor_deleted``
    ``sender=models.Visitor``; ``short_ids``: list of short_ids;
    ``removed_locally``: ``True`` when the mirror rows were deleted (after Upscope
    confirmed the deletion, or by ``upscope_sync --prune --delete``), ``False``
    when the rows were kept and only marked ``removed_upstream_at`` because
    Upscope no longer has the visitors (``upscope_sync --prune``).

``session_started``
    ``sender=models.Session``; ``session_ids``: list of Upscope session ids
    seen for the first time while still running (no ``ended_at``).

``session_ended``
    ``sender=models.Session``; ``session_ids``: list of Upscope session ids that
    are ended for the first time in the mirror; ``first_seen``: the subset of
    ``session_ids`` the mirror had never seen before. A session is in
    ``session_ids`` when the mirror had it running and it now has an
    ``ended_at``, or when it is seen for the first time already ended (it started
    and ended between two syncs, or predates the mirror: the first sync of an
    account reports every past session here, all of them in ``first_seen``).
    Such a session gets ``session_ended`` only, never ``session_started``.
    Receivers that want only live transitions ignore the ids in ``first_seen``.

Example::

    from django.dispatch import receiver
    from django_upscope.signals import session_ended

    @receiver(session_ended)
    def notify(sender, session_ids, first_seen, **kwargs):
        for session in sender.objects.filter(pk__in=set(session_ids) - set(first_seen)):
            ...
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.dispatch import Signal

# The name integrators already configure: the signals were sent by ``django_upscope.sync``.
logger = logging.getLogger("django_upscope.sync")

visitor_synced = Signal()
visitor_deleted = Signal()
session_started = Signal()
session_ended = Signal()


def send_on_commit(signal: Signal, sender: type, **kwargs: Any) -> None:
    """Send ``signal`` once the current transaction commits (never if it rolls
    back), with ``send_robust``: a receiver that raises is logged, the others run."""

    def send() -> None:
        for receiver, response in signal.send_robust(sender=sender, **kwargs):
            if isinstance(response, Exception):
                logger.error(
                    "Receiver %r of a django_upscope signal raised %r",
                    receiver,
                    response,
                    exc_info=response,
                )

    transaction.on_commit(send)
