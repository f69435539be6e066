"""Background tasks on Django's Tasks framework (``django.tasks``; ``django_tasks`` on 5.2).

Each task is a thin call into :mod:`django_upscope.jobs`, and runs on whatever backend the
project configures in ``TASKS``: the database backend (``django_tasks_db``, worker
``manage.py db_worker``), RQ (``django_tasks_rq``), or none at all, in which case the
framework's ``ImmediateBackend`` runs ``enqueue()`` at once in the calling process::

    from django_upscope.tasks import sync_mirror
    result = sync_mirror.enqueue()

- :data:`sync_mirror`: one sync at a time (a database lease); with
  ``UPSCOPE["SYNC_INTERVAL"]`` and a backend that defers, it queues its own next run
  (``run_after``), one chain only;
- :data:`snapshot_usage`: a usage snapshot;
- :data:`reconcile_purge`: after a purge, mark gone (or delete, ``PURGE_REMOVES_GONE``) the
  visitors Upscope deleted;
- :data:`refresh_visitors`, :data:`delete_visitors`: bulk actions, progress in a
  :class:`~django_upscope.models.BulkJob`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from . import jobs, locks
from .audit import Actor
from .conf import upscope_settings
from .exceptions import UpscopeError
from .models import AuditEvent, BulkJob
from .taskframework import in_seconds, runs_later, supports_defer, task

logger = logging.getLogger("django_upscope.tasks")

__all__ = [
    "PurgeFollowUp",
    "delete_visitors",
    "enqueue_bulk",
    "follow_up_purge",
    "purge_check_deferred",
    "reconcile_purge",
    "refresh_visitors",
    "schedule_next_sync",
    "snapshot_usage",
    "sync_mirror",
]


@task
def sync_mirror(**options: Any) -> dict[str, Any]:
    """Sync the mirror (options: those of ``sync_from_upscope``), then schedule the next."""
    try:
        return jobs.sync_mirror(**options)
    finally:
        if not options:  # only the plain, whole sync is the periodic one
            schedule_next_sync()


def schedule_next_sync() -> Any:
    """Queue the next :data:`sync_mirror` ``SYNC_INTERVAL`` seconds from now, unless one
    is queued already or the backend cannot defer; the queued ``TaskResult`` or ``None``."""
    interval = upscope_settings.SYNC_INTERVAL
    if not interval:
        return None
    if not supports_defer(sync_mirror.backend):
        logger.info("SYNC_INTERVAL is set but the task backend cannot defer: use cron.")
        return None
    run_after = locks.claim_next_run(jobs.SYNC_LEASE, float(interval))
    if run_after is None:
        return None
    return sync_mirror.using(run_after=run_after).enqueue()


@task
def snapshot_usage() -> dict[str, Any]:
    """Store a usage snapshot."""
    return jobs.snapshot_usage()


@task
def reconcile_purge(requested_at: str | None = None, attempt: int = 1) -> dict[str, Any]:
    """Mark gone what a purge removed; again later while offline visitors remain."""
    outcome = jobs.reconcile_purge(requested_at)
    if outcome.get("pending") and attempt < int(upscope_settings.PURGE_RECONCILE_ATTEMPTS):
        _queue_reconcile(requested_at, attempt + 1)
    return outcome


def _queue_reconcile(requested_at: str | None, attempt: int) -> Any:
    delay = float(upscope_settings.PURGE_RECONCILE_DELAY)
    return reconcile_purge.using(run_after=in_seconds(delay)).enqueue(
        requested_at=requested_at, attempt=attempt
    )


@dataclass(frozen=True)
class PurgeFollowUp:
    """What followed a purge Upscope accepted: a check queued ``delay`` seconds later
    (``queued``), the check run at once (its ``outcome``, or the ``error`` it met), or
    nothing (all ``None``)."""

    delay: float | None = None
    queued: Any = None
    outcome: dict[str, Any] | None = None
    error: UpscopeError | None = None


def purge_check_deferred() -> bool:
    """Whether the check after a purge is queued for later (a backend that defers), rather
    than run at once in the calling process."""
    return supports_defer(reconcile_purge.backend)


def follow_up_purge(*, run_now: bool = False) -> PurgeFollowUp:
    """After Upscope accepted a purge: queue :data:`reconcile_purge`
    ``PURGE_RECONCILE_DELAY`` seconds later (Upscope purges asynchronously).

    Without a backend that defers, nothing is queued; with ``run_now`` (the admin, which
    reports what it found) a bounded check runs now (:func:`jobs.check_purge_now`: at
    most ``INLINE_PURGE_CHECK_LIMIT`` visitors, so the request stays short) and finds what
    Upscope has removed so far. An Upscope error is returned, not raised: the purge
    itself succeeded.
    """
    requested_at = timezone.now().isoformat()
    if purge_check_deferred():
        delay = float(upscope_settings.PURGE_RECONCILE_DELAY)
        return PurgeFollowUp(delay=delay, queued=_queue_reconcile(requested_at, 1))
    if not run_now:
        return PurgeFollowUp()
    try:
        return PurgeFollowUp(outcome=jobs.check_purge_now(requested_at))
    except UpscopeError as exc:
        logger.warning("The check after a purge failed: %s", exc.code)
        return PurgeFollowUp(error=exc)


@task
def refresh_visitors(
    short_ids: list[str], actor: dict[str, Any] | None = None, job_id: str | None = None
) -> dict[str, Any]:
    """Refresh each visitor from Upscope (``actor``: :func:`jobs.actor_data`)."""
    return jobs.run_bulk(AuditEvent.Action.REFRESH_VISITOR, short_ids, actor, job_id)


@task
def delete_visitors(
    short_ids: list[str], actor: dict[str, Any] | None = None, job_id: str | None = None
) -> dict[str, Any]:
    """Delete each visitor in Upscope and here, each recorded before the next starts."""
    return jobs.run_bulk(AuditEvent.Action.DELETE_VISITOR, short_ids, actor, job_id)


BULK_TASKS = {
    AuditEvent.Action.DELETE_VISITOR: delete_visitors,
    AuditEvent.Action.REFRESH_VISITOR: refresh_visitors,
}


def should_queue(count: int) -> bool:
    """Whether a bulk action on ``count`` visitors runs as a task: more than
    ``UPSCOPE["BULK_TASK_THRESHOLD"]`` of them, and a backend with a worker."""
    return count > int(upscope_settings.BULK_TASK_THRESHOLD) and runs_later(delete_visitors.backend)


def enqueue_bulk(action: str, actor: Actor, short_ids: list[str]) -> BulkJob:
    """Create the :class:`BulkJob` of ``action`` on ``short_ids`` and queue its task."""
    job = jobs.create_bulk_job(action, actor, short_ids)
    result = BULK_TASKS[AuditEvent.Action(action)].enqueue(
        list(job.short_ids), jobs.actor_data(actor), str(job.pk)
    )
    job.task_result_id = str(result.id)
    job.save(update_fields=["task_result_id"])
    return job
