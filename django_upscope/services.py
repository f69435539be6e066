"""What a person does with Upscope: the one place admin, views, the API and commands call.

Each service that acts on a person's behalf takes an :class:`Actor` and

1. checks the person's Django permissions first: a refusal raises
   :class:`~django.core.exceptions.PermissionDenied` and records a ``denied``
   :class:`~django_upscope.models.AuditEvent` without contacting Upscope;
2. calls Upscope through :func:`django_upscope.client.get_client`;
3. updates the local mirror through :mod:`django_upscope.sync`;
4. records an :class:`~django_upscope.models.AuditEvent` for the attempt, whether
   it succeeded or failed (error code, HTTP status, a secret-free detail);
5. returns a typed result, or raises the :class:`~django_upscope.exceptions.UpscopeError`.

The read services (:func:`search_visitors`, :func:`get_visitor`, :func:`get_usage`)
take no actor and are not audited; callers check who may read.

An ``Actor`` whose ``user`` is ``None`` is the server itself (a management
command run by an operator) and is allowed only with ``source="command"``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, transaction
from django.urls import NoReverseMatch, reverse

from . import permissions as perms
from . import sync, writeback
from .audit import (
    REQUEST_ID_HEADER,
    SOURCES,
    Action,
    Actor,
    Outcome,
    actor_from_request,
    audited_id,
    record,
    record_failure,
    watch_url_hmac,
)
from .client import get_client, validate_metadata, validate_permissions, validate_short_id
from .conf import import_callable, upscope_settings
from .exceptions import (
    UpscopeConfigurationError,
    UpscopeError,
    UpscopeInvalidInput,
    UpscopeVisitorNotFound,
)
from .models import AuditEvent, Visitor
from .resources import Usage, VisitorData, WatchURL

__all__ = [
    "PURGE_DETAIL",
    "REQUEST_ID_HEADER",
    "SOURCES",
    "Actor",
    "BulkResult",
    "DeleteResult",
    "ScreenShare",
    "actor_from_request",
    "agent_name_for",
    "check_session_event",
    "delete_visitor",
    "delete_visitors",
    "get_usage",
    "get_visitor",
    "purge_offline_visitors",
    "refresh_visitor",
    "refresh_visitors",
    "relay_session_event",
    "search_visitors",
    "start_screenshare",
    "stop_session",
    "watch_url_hmac",
]

logger = logging.getLogger("django_upscope.services")


@dataclass(frozen=True)
class ScreenShare:
    """A minted watch URL and what it allows. ``watch_url`` is a bearer secret."""

    visitor_short_id: str
    watch_url: WatchURL = field(repr=False)
    permissions: dict[str, bool]
    metadata: dict[str, Any]
    audit_event: AuditEvent
    #: The visitor as Upscope described it right after the mint (None: that refresh was
    #: skipped, as one just ran, or failed; the mirror row is then the freshest there is).
    visitor: VisitorData | None = None


@dataclass(frozen=True)
class DeleteResult:
    """A deleted visitor. ``already_gone``: Upscope answered 404 (deleted before)."""

    short_id: str
    already_gone: bool
    removed_locally: int
    audit_event: AuditEvent


@dataclass
class BulkResult:
    """Per-visitor outcome of a bulk operation; ``already_gone`` is a subset of ``succeeded``."""

    succeeded: list[str] = field(default_factory=list)
    failed: list[tuple[str, UpscopeError]] = field(default_factory=list)
    already_gone: list[str] = field(default_factory=list)


# -- helpers --------------------------------------------------------------------


def _require(
    actor: Actor,
    allowed: bool,
    action: AuditEvent.Action,
    short_ids: Iterable[Any],
    what: str,
    *,
    server_may: bool = True,
) -> None:
    """Raise PermissionDenied (after a ``denied`` audit row per visitor) unless allowed.

    With ``server_may``, an actor without a user is allowed when it is a command.
    """
    if actor.user is None:
        allowed = server_may and actor.source == AuditEvent.Source.COMMAND
    if allowed:
        return
    ids = list(short_ids) or [""]
    detail = f"{actor.username or 'anonymous'} may not {what}."
    for short_id in ids:
        record(actor, action, Outcome.DENIED, short_id=audited_id(short_id), detail=detail)
    raise PermissionDenied(detail)


def _has_perm(actor: Actor, perm: str) -> bool:
    user = actor.user
    return user is not None and getattr(user, "is_active", False) and user.has_perm(perm)


def _reverse_absolute(actor: Actor, viewname: str, short_id: str) -> str | None:
    if actor.request is None:
        return None
    try:
        path = reverse(viewname, args=[short_id])
    except NoReverseMatch:
        return None
    return actor.request.build_absolute_uri(path)


def _hook_metadata(actor: Actor, short_id: str) -> dict[str, Any]:
    hook = import_callable("METADATA_HOOK")
    if hook is None:
        return {}
    value = hook(actor.request, short_id)
    try:
        return validate_metadata(value)
    except UpscopeError as exc:
        raise UpscopeConfigurationError(
            f"UPSCOPE['METADATA_HOOK'] returned unusable metadata: {exc.message}",
            code="invalid_metadata_hook",
        ) from exc


#: Metadata keys this app stamps on every watch URL; callers and hooks cannot override them.
STAMPED_METADATA_KEYS = ("django_user_id", "request_id", "source")


def _stamps(actor: Actor) -> dict[str, str]:
    """The :data:`STAMPED_METADATA_KEYS` of a watch URL minted for ``actor``."""
    values = (str(actor.user.pk), actor.request_id, actor.source)
    return dict(zip(STAMPED_METADATA_KEYS, values, strict=True))


def _branding(
    actor: Actor, short_id: str, *, on_end_url: str | None, retry_url: str | None
) -> dict[str, Any]:
    """``naked``, and the end and retry URLs (given, else this app's pages)."""
    if not on_end_url:
        on_end_url = _reverse_absolute(actor, "django_upscope:screenshare_ended", short_id)
    # The screen-share page is the admin's, so only staff get it as a default.
    if not retry_url and actor.user.is_staff:
        retry_url = _reverse_absolute(actor, "django_upscope:screenshare", short_id)
    branding = {"naked": True, "on_end_url": on_end_url, "retry_url": retry_url or None}
    return {key: value for key, value in branding.items() if value is not None}


def agent_name_for(user: Any) -> str:
    """The agent name shown to the visitor: full name, else username."""
    full_name = getattr(user, "get_full_name", lambda: "")() or ""
    return full_name.strip() or str(user.get_username())


# -- services acting on a person's behalf ----------------------------------------


def start_screenshare(
    actor: Actor,
    short_id: str,
    *,
    permissions: Mapping[str, bool] | None = None,
    metadata: Mapping[str, Any] | None = None,
    on_end_url: str | None = None,
    retry_url: str | None = None,
) -> ScreenShare:
    """Mint a watch URL for ``actor.user`` to watch visitor ``short_id``.

    The agent is the Django user (``agent.id`` = ``str(user.pk)``, ``agent.name``
    = full name or username). Permissions are the user's (see
    :mod:`django_upscope.permissions`); ``permissions`` may narrow them, never
    widen them. ``metadata`` (flat) is merged with ``UPSCOPE["METADATA_HOOK"]``'s
    output and stamped with :data:`STAMPED_METADATA_KEYS`.
    ``on_end_url`` defaults to the "session ended" page, which links back to the
    visitor's admin page (Upscope opens it inside the iframe, where the admin's own
    pages refuse to be framed); ``retry_url`` defaults to the screen-share page of
    the default admin site for staff (the admin's page passes its own), and to none
    (no "Retry now" link) for others, who cannot open that page (both absolute,
    when the actor has a request).
    The watch URL is returned, never stored: the audit keeps its HMAC only.
    Once the mint is audited, the visitor's row is marked in session and refreshed
    (:func:`django_upscope.writeback.after_mint`); that never fails the mint.
    """
    action = Action.WATCH_URL
    user = actor.user
    # A watch URL is minted for an agent, so even a command needs a user here.
    _require(
        actor,
        perms.can_screenshare(user),
        action,
        [short_id],
        "start a screen share",
        server_may=False,
    )
    with record_failure(actor, action, short_id) as audit:
        short_id = validate_short_id(short_id)
        requested = validate_permissions(permissions)
        granted = perms.narrow(perms.session_permissions_for(user), requested)
        audit["permissions"] = granted
        sent_metadata = {
            **validate_metadata(metadata),
            **_hook_metadata(actor, short_id),
            **_stamps(actor),
        }
        audit["metadata"] = sent_metadata
        watch_url = get_client().create_watch_url(
            short_id,
            agent_id=str(user.pk),
            agent_name=agent_name_for(user),
            branding=_branding(actor, short_id, on_end_url=on_end_url, retry_url=retry_url),
            permissions=granted,
            metadata=sent_metadata,
        )
    event = record(
        actor,
        action,
        Outcome.SUCCESS,
        short_id=short_id,
        permissions=granted,
        metadata=sent_metadata,
        watch_url=watch_url,
        detail="Watch URL minted.",
    )
    logger.info("Watch URL minted for visitor %s by user %s", short_id, user.pk)
    visitor = writeback.after_mint(short_id)
    return ScreenShare(short_id, watch_url, granted, sent_metadata, event, visitor)


def stop_session(actor: Actor, short_id: str) -> AuditEvent:
    """End the visitor's active session (Upscope answers ok even when none is active).

    Needs the screen-share permission. Once the stop is audited, the visitor's session is
    marked ended and the visitor refreshed (:func:`django_upscope.writeback.after_stop`);
    that never fails the stop.
    """
    action = Action.STOP_SESSION
    _require(actor, perms.can_screenshare(actor.user), action, [short_id], "stop a session")
    with record_failure(actor, action, short_id):
        get_client().stop_session(short_id)
    event = record(
        actor,
        action,
        Outcome.SUCCESS,
        short_id=short_id,
        detail="Upscope confirmed the session is stopped.",
    )
    writeback.after_stop(short_id)
    return event


def check_session_event(actor: Actor, short_id: str, event: Any) -> tuple[str, str]:
    """The ``(short_id, event)`` of a relayed session event, checked (see
    :func:`relay_session_event`); raises as it does, without doing anything."""
    if actor.user is None or not perms.can_screenshare(actor.user):
        raise PermissionDenied(f"{actor.username or 'anonymous'} may not relay session events.")
    short_id = validate_short_id(short_id)
    if not isinstance(event, str) or event not in writeback.SESSION_EVENTS:
        raise UpscopeInvalidInput(
            f"event must be one of {sorted(writeback.SESSION_EVENTS)}, got {event!r:.40}",
            code="invalid_event",
        )
    return short_id, event


def relay_session_event(actor: Actor, short_id: str, event: Any) -> VisitorData | None:
    """The share page saw the watch frame's session go ``active`` or ``ended``: refresh
    the visitor (deduplicated, see :mod:`django_upscope.writeback`) and nothing else.

    Needs the screen-share permission (PermissionDenied, not audited: nothing is done on
    anyone's behalf). A bad ``short_id`` or ``event`` raises :class:`UpscopeInvalidInput`.
    Returns what Upscope said, or None when the refresh was skipped or failed (logged).
    """
    short_id, event = check_session_event(actor, short_id, event)
    return writeback.refresh(short_id, event)


def _delete_one(actor: Actor, short_id: str) -> DeleteResult:
    not_found: UpscopeVisitorNotFound | None = None
    note = "Nothing was deleted locally."
    with record_failure(actor, Action.DELETE_VISITOR, short_id, note=note):
        try:
            get_client().delete_visitor(short_id)
        except UpscopeVisitorNotFound as exc:
            # Upscope has no such visitor: it is gone upstream, so the mirror row is stale.
            not_found = exc
    # The local delete and its audit row commit together: a sync that fetched the
    # visitor earlier looks for this row to avoid writing the visitor back.
    with transaction.atomic():
        return _remove_and_audit(actor, short_id, not_found)


def _remove_and_audit(
    actor: Actor, short_id: str, not_found: UpscopeVisitorNotFound | None
) -> DeleteResult:
    """Remove the mirror row and audit the delete; ``not_found``: Upscope's 404, if any."""
    removed = sync.remove_visitors([short_id])
    if not_found is not None:
        detail = (
            f"Upscope had no visitor {short_id} (already deleted there); "
            f"removed {removed} local row(s)."
        )
    else:
        detail = f"Deleted in Upscope; removed {removed} local row(s)."
    event = record(
        actor,
        Action.DELETE_VISITOR,
        Outcome.SUCCESS,
        short_id=short_id,
        detail=detail,
        status_code=not_found.status_code if not_found is not None else None,
    )
    return DeleteResult(short_id, not_found is not None, removed, event)


def delete_visitor(actor: Actor, short_id: str) -> DeleteResult:
    """Delete a visitor in Upscope, then the local mirror row.

    The local row goes only once Upscope confirmed. When Upscope answers 404 the
    visitor is already gone upstream, so the local row is removed too and the
    result says ``already_gone=True``. Any other error leaves the row in place.
    """
    allowed = _has_perm(actor, perms.DELETE)
    _require(actor, allowed, Action.DELETE_VISITOR, [short_id], "delete visitors")
    return _delete_one(actor, short_id)


#: ``on_each(short_id, error)`` after each visitor of a bulk operation, once its upstream
#: side effect and audit row are committed (``error`` None: it succeeded).
EachCallback = Callable[[str, "UpscopeError | None"], None]


def _warn_if_in_transaction(what: str) -> None:
    # Inside the caller's transaction the per-visitor commits are only savepoints: a worker
    # killed part-way would lose the record of what Upscope already did.
    if transaction.get_connection().in_atomic_block:
        logger.warning(
            "%s runs inside a transaction: what Upscope did is recorded only if it commits "
            "(mark the view transaction.non_atomic_requests, or run it as a task).",
            what,
        )


def _for_each(
    ids: list[str],
    call: Callable[[str], Any],
    on_each: EachCallback | None,
    already_gone: Callable[[Any], bool] = lambda outcome: False,
) -> BulkResult:
    result = BulkResult()
    for short_id in ids:
        try:
            outcome = call(short_id)
        except UpscopeError as exc:
            result.failed.append((short_id, exc))
            error: UpscopeError | None = exc
        else:
            result.succeeded.append(short_id)
            if already_gone(outcome):
                result.already_gone.append(short_id)
            error = None
        if on_each is not None:
            on_each(short_id, error)
    return result


def delete_visitors(
    actor: Actor, short_ids: Iterable[str], *, on_each: EachCallback | None = None
) -> BulkResult:
    """:func:`delete_visitor` for each visitor; failures are collected, not raised.

    Each visitor's deletion in Upscope is recorded (mirror row removed, audit row written)
    and committed before the next visitor starts, unless the caller runs this inside its
    own transaction (a warning is logged then).
    """
    ids = list(dict.fromkeys(short_ids))
    _require(actor, _has_perm(actor, perms.DELETE), Action.DELETE_VISITOR, ids, "delete visitors")
    _warn_if_in_transaction("delete_visitors")
    return _for_each(
        ids,
        lambda short_id: _delete_one(actor, short_id),
        on_each,
        already_gone=lambda outcome: outcome.already_gone,
    )


PURGE_DETAIL = (
    "Upscope accepted the request to delete every visitor not online now. It does this "
    "asynchronously (it may take a few minutes). The local mirror marks those it deleted as "
    "gone from Upscope after a check: the queued reconcile_purge task, or upscope_sync --prune."
)


def purge_offline_visitors(actor: Actor) -> AuditEvent:
    """Ask Upscope to delete every offline visitor (asynchronous upstream).

    Nothing is changed locally here: Upscope only accepts the job. The check that marks
    what it deleted is :func:`django_upscope.tasks.follow_up_purge`.
    """
    action = Action.PURGE_OFFLINE_VISITORS
    _require(actor, _has_perm(actor, perms.PURGE), action, [], "purge offline visitors")
    with record_failure(actor, action):
        get_client().purge_offline_visitors()
    return record(actor, action, Outcome.SUCCESS, detail=PURGE_DETAIL)


def _fetch_visitor(short_id: str, with_history: bool, *, mirror: bool) -> VisitorData:
    """The visitor from Upscope; with ``mirror``, a 404 marks its mirror row removed upstream
    (Upscope confirmed it has no such visitor; the row is kept as the record)."""
    try:
        return get_client().get_visitor(short_id, with_history=with_history)
    except UpscopeVisitorNotFound:
        if mirror:
            _write_mirror(sync.mark_removed_upstream, [short_id])
        raise


def refresh_visitor(actor: Actor, short_id: str, with_history: bool = False) -> Visitor:
    """Fetch the visitor from Upscope and update its mirror row.

    When Upscope answers 404 the row is marked ``removed_upstream_at`` (kept, as
    ``upscope_sync --prune`` does) and :class:`UpscopeVisitorNotFound` is raised.
    """
    action = Action.REFRESH_VISITOR
    _require(actor, _has_perm(actor, perms.REFRESH), action, [short_id], "refresh visitors")
    with record_failure(actor, action, short_id):
        visitor = _fetch_visitor(short_id, with_history, mirror=True)
    row = sync.upsert_visitor(visitor, with_history=with_history)
    record(
        actor,
        action,
        Outcome.SUCCESS,
        short_id=short_id,
        detail="Refreshed from Upscope" + (" with history." if with_history else "."),
    )
    return row


def refresh_visitors(
    actor: Actor,
    short_ids: Iterable[str],
    with_history: bool = False,
    *,
    on_each: EachCallback | None = None,
) -> BulkResult:
    """:func:`refresh_visitor` for each visitor, each committed before the next one;
    failures (a 404 among them) are collected, not raised."""
    ids = list(dict.fromkeys(short_ids))
    action = Action.REFRESH_VISITOR
    _require(actor, _has_perm(actor, perms.REFRESH), action, ids, "refresh visitors")
    _warn_if_in_transaction("refresh_visitors")
    return _for_each(ids, lambda short_id: refresh_visitor(actor, short_id, with_history), on_each)


# -- reads (not audited) ------------------------------------------------------------


def _write_mirror(write: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """A read-through mirror write that never fails the read it serves.

    The mirror is a cache: if writing it fails (``database is locked`` on SQLite, a
    deadlock on PostgreSQL), the read still answers with what Upscope said, and the next
    read or sync writes the row. The savepoint keeps a request's transaction usable.
    """
    try:
        with transaction.atomic():
            write(*args, **kwargs)
    except DatabaseError as exc:
        logger.warning("The read-through mirror write failed (%s); answering anyway.", exc)


def search_visitors(query: str | None = None) -> list[VisitorData]:
    """Search Upscope (no query: the latest visitors), refreshing the mirror."""
    visitors = get_client().search_visitors(query)
    if upscope_settings.MIRROR_READ_THROUGH:
        _write_mirror(sync.upsert_visitors, visitors)
    return visitors


def get_visitor(short_id: str, with_history: bool = False) -> VisitorData:
    """One visitor from Upscope, refreshing its mirror row.

    When Upscope answers 404 the row is marked ``removed_upstream_at`` (with
    ``MIRROR_READ_THROUGH``) and :class:`UpscopeVisitorNotFound` is raised.
    """
    read_through = bool(upscope_settings.MIRROR_READ_THROUGH)
    visitor = _fetch_visitor(short_id, with_history, mirror=read_through)
    if read_through:
        _write_mirror(sync.upsert_visitor, visitor, with_history=with_history)
    return visitor


def get_usage(record: bool = True) -> Usage:
    """The account's usage from Upscope; ``record`` stores a UsageSnapshot."""
    usage = get_client().get_usage()
    if record:
        sync.record_usage(usage)
    return usage
