"""Named leases in the database: one holder at a time, across workers and machines.

A lease is a :class:`~django_upscope.models.SyncState` row claimed with one conditional
``UPDATE`` (``holder`` empty or ``lease_expires_at`` past). That statement is atomic on
every database Django supports (PostgreSQL re-checks the condition on the locked row,
SQLite serialises writers), so two workers racing for it get one winner. Nothing holds a
transaction open while the lease is held: the guarded work commits as it goes, and a
worker killed mid-way leaves a lease that simply expires after ``ttl`` seconds. A
long run calls :func:`renew` as it makes progress.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .audit import scrub
from .models import SyncState

logger = logging.getLogger("django_upscope.tasks")


def _ensure_row(name: str) -> None:
    if SyncState.objects.filter(name=name).exists():
        return
    try:
        with transaction.atomic():
            SyncState.objects.create(name=name)
    except IntegrityError:  # another process created it first: fine
        pass


def acquire(name: str, ttl: float) -> str | None:
    """Claim the lease ``name`` for ``ttl`` seconds: its token, or ``None`` when held."""
    _ensure_row(name)
    token = uuid.uuid4().hex
    now = timezone.now()
    claimed = (
        SyncState.objects.filter(name=name)
        .filter(Q(holder="") | Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now))
        .update(holder=token, lease_expires_at=now + timedelta(seconds=ttl), started_at=now)
    )
    return token if claimed else None


def renew(name: str, token: str, ttl: float) -> bool:
    """Extend a held lease by ``ttl`` seconds from now; ``False`` if it was lost (expired
    and taken by another holder)."""
    until = timezone.now() + timedelta(seconds=ttl)
    renewed = SyncState.objects.filter(name=name, holder=token).update(lease_expires_at=until)
    if not renewed:
        logger.warning("Lease %s was lost (expired and taken over)", name)
    return bool(renewed)


def release(name: str, token: str, *, ok: bool | None, summary: str) -> None:
    """Give the lease back and store the run's outcome (``summary`` scrubbed of secrets)."""
    SyncState.objects.filter(name=name, holder=token).update(
        holder="",
        lease_expires_at=None,
        finished_at=timezone.now(),
        ok=ok,
        summary=scrub(summary),
    )


@contextmanager
def held(name: str, ttl: float) -> Iterator[str | None]:
    """``with held(name, ttl) as token``: ``token`` is ``None`` when another holder has it.

    Leaving the block without :func:`release` (an exception) frees the lease and records
    the failure.
    """
    token = acquire(name, ttl)
    if token is None:
        yield None
        return
    try:
        yield token
    except BaseException as exc:
        release(name, token, ok=False, summary=f"{type(exc).__name__}: {exc}")
        raise
    else:
        # Normal exit: the caller released with its outcome; make sure the lease is free.
        SyncState.objects.filter(name=name, holder=token).update(holder="", lease_expires_at=None)


def state(name: str) -> SyncState | None:
    """The row of lease ``name`` (``None`` before its first run)."""
    return SyncState.objects.filter(name=name).first()


def claim_next_run(name: str, interval: float) -> datetime | None:
    """Reserve the next periodic run of ``name``: its ``run_after``, or ``None`` when a run
    is already scheduled (so two chains of self-scheduling tasks never run side by side)."""
    _ensure_row(name)
    now = timezone.now()
    # A little slack: the run that was scheduled for "now" may start a moment early or late.
    pending = Q(next_run_at__gt=now + timedelta(seconds=1))
    at = now + timedelta(seconds=interval)
    claimed = SyncState.objects.filter(name=name).exclude(pending).update(next_run_at=at)
    return at if claimed else None
