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

import hashlib
import hmac
import ipaddress
import logging
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from . import permissions as perms
from . import sync
from .client import get_client, validate_metadata, validate_permissions, validate_short_id
from .conf import import_callable, upscope_settings
from .exceptions import UpscopeConfigurationError, UpscopeError, UpscopeVisitorNotFound
from .models import AuditEvent, Visitor
from .resources import Usage, VisitorData, WatchURL

logger = logging.getLogger("django_upscope.services")

SOURCES = ("admin", "api", "command")
REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"
_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,64}")
#: Metadata keys this app stamps on every watch URL; callers and hooks cannot override them.
STAMPED_METADATA_KEYS = ("django_user_id", "request_id", "source")


@dataclass
class Actor:
    """Who is acting, from where: the person (or ``None`` for the server itself)."""

    user: Any
    client_ip: str | None = None
    request_id: str = ""
    source: str = "command"
    request: HttpRequest | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"Actor.source must be one of {SOURCES}, got {self.source!r}")
        if not self.request_id:
            self.request_id = uuid.uuid4().hex

    @property
    def username(self) -> str:
        if self.user is None:
            return ""
        return str(self.user.get_username())[:255]


def actor_from_request(request: HttpRequest, source: str) -> Actor:
    """The :class:`Actor` for a request: its user, ``REMOTE_ADDR`` and a request id.

    The request id is taken from an ``X-Request-ID`` header when it is a safe
    token (so it matches the proxy's logs), else generated. The client IP is
    ``REMOTE_ADDR``: behind a proxy, set it from the trusted forwarding header
    in a middleware of your own, as Django does not guess.
    """
    header = request.META.get(REQUEST_ID_HEADER, "")
    request_id = header if _REQUEST_ID_RE.fullmatch(header or "") else uuid.uuid4().hex
    user = getattr(request, "user", None)
    if user is not None and not user.is_authenticated:
        user = None
    return Actor(
        user=user,
        client_ip=_valid_ip(request.META.get("REMOTE_ADDR")),
        request_id=request_id,
        source=source,
        request=request,
    )


@dataclass(frozen=True)
class ScreenShare:
    """A minted watch URL and what it allows. ``watch_url`` is a bearer secret."""

    visitor_short_id: str
    watch_url: WatchURL = field(repr=False)
    permissions: dict[str, bool]
    metadata: dict[str, Any]
    audit_event: AuditEvent


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


def _valid_ip(value: Any) -> str | None:
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        return None


def watch_url_hmac(watch_url: str) -> str:
    """HMAC-SHA256 of a watch URL keyed with ``SECRET_KEY`` (hex): what the audit keeps."""
    return hmac.new(
        settings.SECRET_KEY.encode(), str(watch_url).encode(), hashlib.sha256
    ).hexdigest()


def _secrets() -> list[str]:
    s = upscope_settings
    return [str(v) for v in (s.API_KEY, s.REST_KEY) if v]


def _scrub(text: str, *extra: str) -> str:
    """Remove the API keys and any given secret from text bound for the audit trail."""
    for secret in [*_secrets(), *extra]:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text[:2000]


# ``action`` and ``outcome`` are AuditEvent.Action / AuditEvent.Outcome members, passed
# through str() because mypy with django-stubs types labelled choices as tuples.
def _audit(
    actor: Actor,
    action: str,
    outcome: str,
    *,
    short_id: str = "",
    error: UpscopeError | None = None,
    detail: str = "",
    permissions: Mapping[str, bool] | None = None,
    metadata: Mapping[str, Any] | None = None,
    watch_url: str | None = None,
    status_code: int | None = None,
) -> AuditEvent:
    if error is not None:
        detail = detail or error.message
        status_code = error.status_code if status_code is None else status_code
    user = actor.user
    return AuditEvent.objects.create(
        action=action,
        outcome=outcome,
        user=user if user is not None and getattr(user, "pk", None) is not None else None,
        username=actor.username,
        visitor_short_id=str(short_id)[:128],
        source=actor.source,
        permissions=dict(permissions or {}),
        metadata=dict(metadata or {}),
        client_ip=actor.client_ip,
        request_id=actor.request_id[:64],
        error_code=(error.code if error is not None else "")[:64],
        status_code=status_code,
        detail=_scrub(detail, *([watch_url] if watch_url else [])),
        watch_url_hash=watch_url_hmac(watch_url) if watch_url else "",
    )


def _short_id_for_audit(short_id: Any) -> str:
    return short_id if isinstance(short_id, str) else repr(short_id)


@contextmanager
def _audit_failure(
    actor: Actor, action: str, short_id: Any = "", *, note: str = ""
) -> Iterator[dict[str, Any]]:
    """Record a ``failure`` AuditEvent for an UpscopeError raised inside, then re-raise it.

    Yields a dict for audit fields known only inside the block (``permissions``,
    ``metadata``); ``note`` is added to the error's message in the row's detail.
    """
    fields: dict[str, Any] = {}
    try:
        yield fields
    except UpscopeError as exc:
        audited_id = _short_id_for_audit(short_id)
        _audit(
            actor,
            action,
            str(AuditEvent.Outcome.FAILURE),
            short_id=audited_id,
            error=exc,
            detail=f"{exc.message} {note}".strip(),
            **fields,
        )
        logger.warning("Upscope %s for visitor %r failed: %s", action, audited_id[:128], exc.code)
        raise


def _require(
    actor: Actor,
    allowed: bool,
    action: str,
    short_ids: Iterable[Any],
    what: str,
    *,
    server_may: bool = True,
) -> None:
    """Raise PermissionDenied (after a ``denied`` audit row per visitor) unless allowed.

    With ``server_may``, an actor without a user is allowed when it is a command.
    """
    if actor.user is None:
        allowed = server_may and actor.source == "command"
    if allowed:
        return
    ids = list(short_ids) or [""]
    detail = f"{actor.username or 'anonymous'} may not {what}."
    for short_id in ids:
        _audit(
            actor,
            action,
            str(AuditEvent.Outcome.DENIED),
            short_id=_short_id_for_audit(short_id),
            detail=detail,
        )
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
    output and stamped with ``django_user_id``, ``request_id`` and ``source``.
    ``on_end_url`` defaults to the "session ended" page, which links back to the
    visitor's admin page (Upscope opens it inside the iframe, where the admin's own
    pages refuse to be framed); ``retry_url`` defaults to the screen-share page for
    staff, and to none (no "Retry now" link) for others, who cannot open that page
    (both absolute, when the actor has a request).
    The watch URL is returned, never stored: the audit keeps its HMAC only.
    """
    action = str(AuditEvent.Action.WATCH_URL)
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
    with _audit_failure(actor, action, short_id) as audit:
        short_id = validate_short_id(short_id)
        requested = validate_permissions(permissions)
        granted = perms.narrow(perms.session_permissions_for(user), requested)
        audit["permissions"] = granted
        sent_metadata = {**validate_metadata(metadata), **_hook_metadata(actor, short_id)}
        sent_metadata.update(
            django_user_id=str(user.pk), request_id=actor.request_id, source=actor.source
        )
        audit["metadata"] = sent_metadata
        branding = {
            "naked": True,
            "on_end_url": on_end_url
            or _reverse_absolute(actor, "django_upscope:screenshare_ended", short_id),
            # The screen-share page is the admin's, so only staff get it as a default.
            "retry_url": retry_url
            or (
                _reverse_absolute(actor, "django_upscope:screenshare", short_id)
                if user.is_staff
                else None
            ),
        }
        branding = {k: v for k, v in branding.items() if v is not None}
        watch_url = get_client().create_watch_url(
            short_id,
            agent_id=str(user.pk),
            agent_name=agent_name_for(user),
            branding=branding,
            permissions=granted,
            metadata=sent_metadata,
        )
    event = _audit(
        actor,
        action,
        str(AuditEvent.Outcome.SUCCESS),
        short_id=short_id,
        permissions=granted,
        metadata=sent_metadata,
        watch_url=watch_url,
        detail="Watch URL minted.",
    )
    logger.info("Watch URL minted for visitor %s by user %s", short_id, user.pk)
    return ScreenShare(short_id, watch_url, granted, sent_metadata, event)


def stop_session(actor: Actor, short_id: str) -> AuditEvent:
    """End the visitor's active session (Upscope answers ok even when none is active).

    Needs the screen-share permission. The mirror shows the change at the next refresh.
    """
    action = str(AuditEvent.Action.STOP_SESSION)
    _require(actor, perms.can_screenshare(actor.user), action, [short_id], "stop a session")
    with _audit_failure(actor, action, short_id):
        get_client().stop_session(short_id)
    return _audit(
        actor,
        action,
        str(AuditEvent.Outcome.SUCCESS),
        short_id=short_id,
        detail="Upscope confirmed the session is stopped.",
    )


def _delete_one(actor: Actor, short_id: str) -> DeleteResult:
    action = str(AuditEvent.Action.DELETE_VISITOR)
    already_gone = False
    not_found: UpscopeError | None = None
    with _audit_failure(actor, action, short_id, note="Nothing was deleted locally."):
        try:
            get_client().delete_visitor(short_id)
        except UpscopeVisitorNotFound as exc:
            # Upscope has no such visitor: it is gone upstream, so the mirror row is stale.
            already_gone = True
            not_found = exc
    # The local delete and its audit row commit together: a sync that fetched the
    # visitor earlier looks for this row to avoid writing the visitor back.
    with transaction.atomic():
        return _remove_and_audit(actor, short_id, already_gone, not_found)


def _remove_and_audit(
    actor: Actor, short_id: str, already_gone: bool, not_found: UpscopeError | None
) -> DeleteResult:
    action = str(AuditEvent.Action.DELETE_VISITOR)
    removed = sync.remove_visitors([short_id])
    if already_gone and not_found is not None:
        detail = (
            f"Upscope had no visitor {short_id} (already deleted there); "
            f"removed {removed} local row(s)."
        )
        event = _audit(
            actor,
            action,
            str(AuditEvent.Outcome.SUCCESS),
            short_id=short_id,
            detail=detail,
            status_code=not_found.status_code,
        )
    else:
        event = _audit(
            actor,
            action,
            str(AuditEvent.Outcome.SUCCESS),
            short_id=short_id,
            detail=f"Deleted in Upscope; removed {removed} local row(s).",
        )
    return DeleteResult(short_id, already_gone, removed, event)


def delete_visitor(actor: Actor, short_id: str) -> DeleteResult:
    """Delete a visitor in Upscope, then the local mirror row.

    The local row goes only once Upscope confirmed. When Upscope answers 404 the
    visitor is already gone upstream, so the local row is removed too and the
    result says ``already_gone=True``. Any other error leaves the row in place.
    """
    action = str(AuditEvent.Action.DELETE_VISITOR)
    _require(actor, _has_perm(actor, perms.DELETE), action, [short_id], "delete visitors")
    return _delete_one(actor, short_id)


def delete_visitors(actor: Actor, short_ids: Iterable[str]) -> BulkResult:
    """:func:`delete_visitor` for each visitor; failures are collected, not raised."""
    ids = list(dict.fromkeys(short_ids))
    action = str(AuditEvent.Action.DELETE_VISITOR)
    _require(actor, _has_perm(actor, perms.DELETE), action, ids, "delete visitors")
    result = BulkResult()
    for short_id in ids:
        try:
            outcome = _delete_one(actor, short_id)
        except UpscopeError as exc:
            result.failed.append((short_id, exc))
            continue
        result.succeeded.append(short_id)
        if outcome.already_gone:
            result.already_gone.append(short_id)
    return result


PURGE_DETAIL = (
    "Upscope accepted the request to delete every visitor not online now. It does this "
    "asynchronously (it may take a few minutes); the local mirror shows it at the next sync."
)


def purge_offline_visitors(actor: Actor) -> AuditEvent:
    """Ask Upscope to delete every offline visitor (asynchronous upstream).

    Nothing is removed locally here: Upscope only accepts the job, and the mirror
    reflects the result at the next sync.
    """
    action = str(AuditEvent.Action.PURGE_OFFLINE)
    _require(actor, _has_perm(actor, perms.PURGE), action, [], "purge offline visitors")
    with _audit_failure(actor, action):
        get_client().purge_offline_visitors()
    return _audit(actor, action, str(AuditEvent.Outcome.SUCCESS), detail=PURGE_DETAIL)


def _fetch_visitor(short_id: str, with_history: bool, *, mirror: bool) -> VisitorData:
    """The visitor from Upscope; with ``mirror``, a 404 marks its mirror row removed upstream
    (Upscope confirmed it has no such visitor; the row is kept as the record)."""
    try:
        return get_client().get_visitor(short_id, with_history=with_history)
    except UpscopeVisitorNotFound:
        if mirror:
            sync.mark_removed_upstream([short_id])
        raise


def refresh_visitor(actor: Actor, short_id: str, with_history: bool = False) -> Visitor:
    """Fetch the visitor from Upscope and update its mirror row.

    When Upscope answers 404 the row is marked ``removed_upstream_at`` (kept, as
    ``upscope_sync --prune`` does) and :class:`UpscopeVisitorNotFound` is raised.
    """
    action = str(AuditEvent.Action.REFRESH_VISITOR)
    _require(actor, _has_perm(actor, perms.REFRESH), action, [short_id], "refresh visitors")
    with _audit_failure(actor, action, short_id):
        visitor = _fetch_visitor(short_id, with_history, mirror=True)
    row = sync.upsert_visitor(visitor, with_history=with_history)
    _audit(
        actor,
        action,
        str(AuditEvent.Outcome.SUCCESS),
        short_id=short_id,
        detail="Refreshed from Upscope" + (" with history." if with_history else "."),
    )
    return row


# -- reads (not audited) ------------------------------------------------------------


def search_visitors(query: str | None = None) -> list[VisitorData]:
    """Search Upscope (no query: the latest visitors), refreshing the mirror."""
    visitors = get_client().search_visitors(query)
    if upscope_settings.MIRROR_READ_THROUGH:
        sync.upsert_visitors(visitors)
    return visitors


def get_visitor(short_id: str, with_history: bool = False) -> VisitorData:
    """One visitor from Upscope, refreshing its mirror row.

    When Upscope answers 404 the row is marked ``removed_upstream_at`` (with
    ``MIRROR_READ_THROUGH``) and :class:`UpscopeVisitorNotFound` is raised.
    """
    read_through = bool(upscope_settings.MIRROR_READ_THROUGH)
    visitor = _fetch_visitor(short_id, with_history, mirror=read_through)
    if read_through:
        sync.upsert_visitor(visitor, with_history=with_history)
    return visitor


def get_usage(record: bool = True) -> Usage:
    """The account's usage from Upscope; ``record`` stores a UsageSnapshot."""
    usage = get_client().get_usage()
    if record:
        sync.record_usage(usage)
    return usage
