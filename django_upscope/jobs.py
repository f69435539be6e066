"""The bodies of the background tasks (:mod:`django_upscope.tasks`), as plain functions.

Each returns a JSON-serialisable dict (what a task result stores and the admin shows).
They run the same way in a worker, in a request, or in a management command:

- :func:`sync_mirror`: one sync of the mirror at a time, behind the ``sync_mirror``
  lease (:mod:`django_upscope.locks`); a second one says ``already_running``;
- :func:`snapshot_usage`: a usage snapshot;
- :func:`reconcile_purge`: after a purge, a pruning sync marks gone (or deletes) what
  Upscope deleted;
- :func:`run_bulk`: a bulk delete or refresh for a :class:`~django_upscope.models.BulkJob`,
  its progress committed after each visitor.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from . import locks, mirror, services
from .audit import Actor, Source, scrub
from .client import get_client
from .conf import upscope_settings
from .exceptions import UpscopeError, UpscopeVisitorNotFound
from .models import AuditEvent, BulkJob, Visitor
from .presentation import describe

logger = logging.getLogger("django_upscope.tasks")

#: The lease every sync of the mirror takes (the task, the purge follow-up).
SYNC_LEASE = "sync_mirror"
ALREADY_RUNNING = "already_running"
#: The bulk actions a worker can run, by audit action.
BULK_ACTIONS = (AuditEvent.Action.DELETE_VISITOR, AuditEvent.Action.REFRESH_VISITOR)


# -- the sync --------------------------------------------------------------------------


def _report_dict(report: mirror.SyncReport) -> dict[str, Any]:
    result = report.result
    return {
        "status": "ok" if not result.failed else "partial",
        "summary": result.summary(),
        "listed": report.listed,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "failed": result.failed,
        "skipped": result.skipped,
        "pruned": report.pruned,
        "errors": dict(report.errors),
    }


def run_sync(
    progress: mirror.ProgressCallback | None = None, **options: Any
) -> mirror.SyncReport | None:
    """Run :func:`django_upscope.mirror.sync_from_upscope` (``options`` are its keyword
    arguments) behind the sync lease, or return ``None`` when another sync holds it.

    ``progress`` is called after each batch, once the lease is renewed. The outcome is
    stored for the admin's "last sync" line. An
    :class:`~django_upscope.exceptions.UpscopeError` is recorded, then raised.
    """
    ttl = float(upscope_settings.SYNC_LOCK_TTL)
    with locks.held(SYNC_LEASE, ttl) as token:
        if token is None:
            logger.info("A sync of the mirror is already running; this one exits.")
            return None

        def renew(done: int, total: int, result: mirror.SyncResult) -> None:
            locks.renew(SYNC_LEASE, token, ttl)
            if progress is not None:
                progress(done, total, result)

        try:
            report = mirror.sync_from_upscope(progress=renew, **options)
        except UpscopeError as exc:
            locks.release(SYNC_LEASE, token, ok=False, summary=f"{exc.message} [{exc.code}]")
            raise
        summary = report.result.in_words()
        locks.release(SYNC_LEASE, token, ok=not report.result.failed, summary=summary)
    logger.info("Mirror synced: %s", report.result.summary())
    return report


def sync_mirror(**options: Any) -> dict[str, Any]:
    """:func:`run_sync` as a JSON-serialisable outcome (``{"status": "already_running"}``
    when another sync holds the lease)."""
    report = run_sync(**options)
    if report is None:
        return {"status": ALREADY_RUNNING}
    return _report_dict(report)


def snapshot_usage() -> dict[str, Any]:
    """Store a usage snapshot (:func:`django_upscope.services.get_usage`)."""
    usage = services.get_usage(record=True)
    return {"status": "ok", "usage": usage.raw}


def purge_pending(requested_at: str | None) -> int:
    """Mirrored visitors a purge requested at ``requested_at`` (ISO) should have removed:
    offline, and still in the mirror."""
    return int(_purge_candidates(requested_at).count())


#: How many purge candidates a check in a web request asks Upscope about, at most: one
#: GET each, so a large mirror cannot hold the request past a server's timeout.
INLINE_PURGE_CHECK_LIMIT = 50


def _purge_candidates(requested_at: str | None) -> Any:
    qs = Visitor.objects.filter(is_online=False, removed_upstream_at__isnull=True)
    return qs.filter(synced_at__lte=requested_at) if requested_at else qs


def check_purge_now(requested_at: str | None = None, limit: int | None = None) -> dict[str, Any]:
    """The check after a purge when no worker can run it later: ask Upscope about at most
    ``limit`` (default :data:`INLINE_PURGE_CHECK_LIMIT`) of the offline visitors still
    mirrored (least recently seen first) and mark
    those it answers 404 for as gone (deleted with ``PURGE_REMOVES_GONE``).

    The outcome has the keys of :func:`reconcile_purge`'s. An Upscope error other than
    404 is raised after what was found is written.
    """
    delete = bool(upscope_settings.PURGE_REMOVES_GONE)
    candidates = list(
        _purge_candidates(requested_at)
        .order_by("last_seen_at", "short_id")
        .values_list("short_id", flat=True)[: limit or INLINE_PURGE_CHECK_LIMIT]
    )
    client = get_client()
    gone: list[str] = []
    try:
        for short_id in candidates:
            try:
                client.get_visitor(short_id)
            except UpscopeVisitorNotFound:
                gone.append(short_id)
    finally:
        pruned = (mirror.remove_visitors if delete else mirror.mark_removed_upstream)(gone)
    return {
        "status": "ok",
        "checked": len(candidates),
        "pruned": pruned,
        "pending": purge_pending(requested_at),
        "removed": delete,
    }


def reconcile_purge(requested_at: str | None = None) -> dict[str, Any]:
    """A pruning sync after a purge: the visitors Upscope no longer has are marked gone
    (``removed_upstream_at``), or deleted with ``UPSCOPE["PURGE_REMOVES_GONE"]``.

    ``pruned`` counts them, ``removed`` says which of the two happened, and ``pending``
    counts the offline visitors still present after it (Upscope may not be done yet).
    """
    delete = bool(upscope_settings.PURGE_REMOVES_GONE)
    outcome = sync_mirror(prune=True, delete_pruned=delete, usage=False)
    if outcome["status"] != ALREADY_RUNNING:
        outcome["pending"] = purge_pending(requested_at)
        outcome["removed"] = delete
    return outcome


# -- bulk actions ----------------------------------------------------------------------


def actor_data(actor: Actor) -> dict[str, Any]:
    """``actor`` as JSON for a task's arguments (the request itself is left behind)."""
    user = actor.user
    return {
        "user_id": getattr(user, "pk", None) if user is not None else None,
        "client_ip": actor.client_ip,
        "request_id": actor.request_id,
        "source": actor.source,
    }


def actor_from_data(data: dict[str, Any] | None) -> Actor:
    """The :class:`Actor` of :func:`actor_data`; ``None``: the server (a command)."""
    if not data:
        return Actor(user=None, source=Source.COMMAND)
    user = None
    if data.get("user_id") is not None:
        user = get_user_model()._default_manager.filter(pk=data["user_id"]).first()
        if user is None:
            raise LookupError("The user who queued this job no longer exists.")
    return Actor(
        user=user,
        client_ip=data.get("client_ip"),
        request_id=str(data.get("request_id") or ""),
        source=data.get("source") or Source.COMMAND,
    )


def create_bulk_job(action: str, actor: Actor, short_ids: Iterable[str]) -> BulkJob:
    """A queued :class:`BulkJob` for ``action`` on ``short_ids`` (each once)."""
    ids = list(dict.fromkeys(short_ids))
    user = actor.user if getattr(actor.user, "pk", None) is not None else None
    return BulkJob.objects.create(
        id=uuid.uuid4(),
        action=action,
        user=user,
        username=actor.username,
        short_ids=ids,
        total=len(ids),
    )


def _message(action: str, short_id: str, error: UpscopeError | None) -> dict[str, Any]:
    verb = "deleted" if action == AuditEvent.Action.DELETE_VISITOR else "refreshed"
    if error is None:
        return {"short_id": short_id, "ok": True, "text": f"Visitor {short_id} {verb}."}
    text = f"Visitor {short_id} was not {verb}. {describe(error).text}"
    return {"short_id": short_id, "ok": False, "text": scrub(text)}


def _progress(job: BulkJob | None, action: str) -> services.EachCallback:
    def on_each(short_id: str, error: UpscopeError | None) -> None:
        if job is None:
            return
        if error is None:
            job.done += 1
        else:
            job.failed += 1
        job.messages.append(_message(action, short_id, error))
        # Committed at once (autocommit), like the visitor's own record just before it.
        job.save(update_fields=["done", "failed", "messages"])

    return on_each


def _finish(job: BulkJob | None, status: str, detail: str = "") -> None:
    if job is None:
        return
    job.status = status
    job.detail = scrub(detail)
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "detail", "finished_at"])


def run_bulk(
    action: str,
    short_ids: list[str],
    actor: dict[str, Any] | None = None,
    job_id: str | None = None,
) -> dict[str, Any]:
    """Delete or refresh (``action``: an audit action) each visitor for ``actor``
    (:func:`actor_data`), updating the :class:`BulkJob` ``job_id`` after each one.

    The services check the actor's permissions again here: a permission withdrawn since
    the job was queued stops it.
    """
    if action not in BULK_ACTIONS:
        raise ValueError(f"Not a bulk action: {action!r}")
    job = BulkJob.objects.filter(pk=job_id).first() if job_id else None
    if job is not None:
        job.status = BulkJob.Status.RUNNING
        job.save(update_fields=["status"])
    try:
        who = actor_from_data(actor)
        run = (
            services.delete_visitors
            if action == AuditEvent.Action.DELETE_VISITOR
            else services.refresh_visitors
        )
        result = run(who, short_ids, on_each=_progress(job, action))
    except Exception as exc:
        _finish(job, BulkJob.Status.FAILED, str(exc))
        raise
    _finish(job, BulkJob.Status.FINISHED)
    return {
        "status": "ok",
        "succeeded": result.succeeded,
        "failed": [short_id for short_id, _error in result.failed],
        "already_gone": result.already_gone,
    }
