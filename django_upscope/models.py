"""The local mirror of Upscope visitors and sessions, usage snapshots, and the audit trail.

Mirror rows (``Visitor``, ``Session``, ``Agent``, ``UsageSnapshot``) are written
only by :mod:`django_upscope.sync`. Audit rows are written only by
:mod:`django_upscope.audit` (on behalf of :mod:`django_upscope.services`); nobody
edits them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Visitor(models.Model):
    """A visitor as Upscope last described it (docs/upscope-api.md, "The visitor object")."""

    short_id = models.CharField(_("short id"), max_length=128, primary_key=True)
    api_key = models.CharField(_("public API key"), max_length=128, blank=True)
    identities = models.JSONField(_("identities"), default=list, blank=True)
    display_name = models.CharField(
        _("name"),
        max_length=255,
        blank=True,
        db_index=True,
        help_text=_("The first identity, else the unique id, else the short id."),
    )
    identities_text = models.TextField(
        _("identities (text)"), blank=True, help_text=_("All identities, for searching.")
    )
    unique_id = models.CharField(_("unique id"), max_length=255, blank=True, db_index=True)
    lookup_code = models.CharField(_("lookup code"), max_length=32, blank=True, db_index=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    tags_text = models.CharField(
        _("tags (text)"),
        max_length=1024,
        blank=True,
        help_text=_("Tags joined by spaces with a space either side, for filtering."),
    )
    device_type = models.CharField(_("device type"), max_length=32, blank=True, db_index=True)
    device_name = models.CharField(_("device"), max_length=128, blank=True)
    browser_name = models.CharField(_("browser"), max_length=128, blank=True)
    location_city = models.CharField(_("city"), max_length=255, blank=True)
    location_country = models.CharField(_("country"), max_length=8, blank=True, db_index=True)
    location_country_name = models.CharField(_("country name"), max_length=128, blank=True)
    ip_address = models.CharField(_("IP address"), max_length=64, blank=True, db_index=True)
    integration = models.CharField(_("integration"), max_length=64, blank=True, db_index=True)
    is_online = models.BooleanField(_("online"), default=False, db_index=True)
    is_in_session = models.BooleanField(_("in session"), default=False, db_index=True)
    js_configuration = models.BooleanField(_("JS configuration"), default=False)
    first_seen_at = models.DateTimeField(_("first seen"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True, db_index=True)
    last_url = models.TextField(_("last URL"), blank=True)
    history = models.JSONField(
        _("history"),
        null=True,
        blank=True,
        help_text=_("Pageviews and screenshots, when fetched with history."),
    )
    history_synced_at = models.DateTimeField(_("history synced"), null=True, blank=True)
    history_hash = models.CharField(max_length=64, blank=True, editable=False)
    raw = models.JSONField(_("raw payload"), default=dict, blank=True)
    content_hash = models.CharField(max_length=64, blank=True, editable=False)
    # The hash of the visitor's entry in Upscope's listing when a sync last saw it: an
    # unchanged entry spares the sync a detail request (mirror.run.needs_details).
    listing_hash = models.CharField(max_length=64, blank=True, editable=False)
    synced_at = models.DateTimeField(_("synced"), db_index=True)
    removed_upstream_at = models.DateTimeField(
        _("gone from Upscope"),
        null=True,
        blank=True,
        db_index=True,
        help_text=_("Set by 'upscope_sync --prune' when Upscope no longer has the visitor."),
    )

    class Meta:
        verbose_name = _("visitor")
        verbose_name_plural = _("visitors")
        # Most recently seen first, never-seen last on every database. On PostgreSQL
        # migration 0003 adds the index that serves exactly this order (SQLite cannot
        # declare NULLS LAST in an index, and its plain last_seen_at index serves it).
        ordering = (models.F("last_seen_at").desc(nulls_last=True), "short_id")
        permissions = [
            ("screenshare_visitor", "Can start a screen share (view only)"),
            ("remote_control_visitor", "Can control a screen share (click, type, scroll, draw)"),
            ("remote_console_visitor", "Can use the remote console in a screen share"),
            ("agent_redirect_visitor", "Can redirect and reload the visitor's page"),
            ("audio_visitor", "Can use audio in a screen share"),
            ("purge_offline_visitors", "Can purge offline visitors from Upscope"),
            ("refresh_visitor", "Can refresh visitors from Upscope"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.short_id


class Agent(models.Model):
    """An agent seen in a session's ``agents`` list.

    ``key`` identifies the agent across payloads: Upscope's agent id when it has
    one, else the external ``agent_identifier``. Agents minted by this app carry
    ``agent_identifier`` = the Django user's pk.
    """

    key = models.CharField(max_length=300, unique=True)
    upscope_id = models.BigIntegerField(_("Upscope agent id"), null=True, blank=True)
    agent_identifier = models.CharField(
        _("agent identifier"), max_length=255, blank=True, db_index=True
    )
    name = models.CharField(_("name"), max_length=255, blank=True)
    type = models.CharField(_("type"), max_length=64, blank=True)
    raw = models.JSONField(_("raw payload"), default=dict, blank=True)
    synced_at = models.DateTimeField(_("synced"))

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        ordering = ("name", "key")

    def __str__(self) -> str:
        return self.name or self.agent_identifier or self.key


class Session(models.Model):
    """A screen-sharing session (docs/upscope-api.md, "The visitor object", ``sessions[]``)."""

    id = models.BigIntegerField(_("Upscope session id"), primary_key=True)
    visitor = models.ForeignKey(
        Visitor, on_delete=models.CASCADE, related_name="sessions", verbose_name=_("visitor")
    )
    agents = models.ManyToManyField(
        Agent, related_name="sessions", blank=True, verbose_name=_("agents")
    )
    length_seconds = models.IntegerField(_("length (s)"), default=0)
    formatted_length = models.CharField(_("length"), max_length=64, blank=True)
    call_length_seconds = models.IntegerField(_("call length (s)"), default=0)
    formatted_call_length = models.CharField(_("call length"), max_length=64, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True, db_index=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True, db_index=True)
    went_live = models.BooleanField(_("went live"), default=False, db_index=True)
    features_used = models.JSONField(_("features used"), default=list, blank=True)
    features_text = models.CharField(
        _("features (text)"),
        max_length=512,
        blank=True,
        help_text=_("Features joined by spaces with a space either side, for filtering."),
    )
    team_id = models.BigIntegerField(_("team id"), null=True, blank=True)
    team_domain = models.CharField(_("team domain"), max_length=255, blank=True)
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    raw = models.JSONField(_("raw payload"), default=dict, blank=True)
    content_hash = models.CharField(max_length=64, blank=True, editable=False)
    synced_at = models.DateTimeField(_("synced"), db_index=True)

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ("-started_at", "-id")
        indexes = [models.Index(fields=["visitor", "-started_at"], name="upscope_session_visitor")]

    def __str__(self) -> str:
        return f"Session {self.id}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class UsageSnapshot(models.Model):
    """Upscope's usage figures at one moment (``GET usage.json``)."""

    taken_at = models.DateTimeField(_("taken at"), db_index=True)
    visitors_online_now = models.IntegerField(_("visitors online"), default=0)
    visitors_last_24_hrs = models.IntegerField(_("visitors, 24 h"), default=0)
    visitors_last_30_days = models.IntegerField(_("visitors, 30 days"), default=0)
    agents_today = models.IntegerField(_("agents today"), default=0)
    agents_last_30_days = models.IntegerField(_("agents, 30 days"), default=0)
    sessions_now = models.IntegerField(_("sessions now"), default=0)
    sessions_today = models.IntegerField(_("sessions today"), default=0)
    sessions_last_30_days = models.IntegerField(_("sessions, 30 days"), default=0)
    session_seconds_today = models.IntegerField(_("session seconds today"), default=0)
    session_seconds_last_30_days = models.IntegerField(_("session seconds, 30 days"), default=0)
    raw = models.JSONField(_("raw payload"), default=dict, blank=True)

    class Meta:
        verbose_name = _("usage snapshot")
        verbose_name_plural = _("usage snapshots")
        ordering = ("-taken_at",)
        get_latest_by = "taken_at"

    def __str__(self) -> str:
        return f"Usage at {self.taken_at:%Y-%m-%d %H:%M}"


class AuditEvent(models.Model):
    """One attempt at something that touches Upscope on a person's behalf.

    Watch URLs are bearer secrets: only an HMAC of the URL is kept.
    """

    class Action(models.TextChoices):
        WATCH_URL = "watch_url", _("Watch URL minted")
        STOP_SESSION = "stop_session", _("Session stopped")
        DELETE_VISITOR = "delete_visitor", _("Visitor deleted")
        PURGE_OFFLINE_VISITORS = "purge_offline_visitors", _("Offline visitors purged")
        REFRESH_VISITOR = "refresh_visitor", _("Visitor refreshed")

    class Outcome(models.TextChoices):
        SUCCESS = "success", _("Success")
        FAILURE = "failure", _("Failure")
        DENIED = "denied", _("Denied")

    class Source(models.TextChoices):
        """Where the person acted from."""

        ADMIN = "admin", _("Admin")
        API = "api", _("REST API")
        COMMAND = "command", _("Management command")

    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    action = models.CharField(_("action"), max_length=32, choices=Action.choices, db_index=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("user"),
    )
    username = models.CharField(_("username"), max_length=255, blank=True, db_index=True)
    visitor_short_id = models.CharField(_("visitor"), max_length=128, blank=True, db_index=True)
    source = models.CharField(
        _("source"), max_length=32, choices=Source.choices, blank=True, db_index=True
    )
    permissions = models.JSONField(_("permissions granted"), default=dict, blank=True)
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    client_ip = models.GenericIPAddressField(_("client IP"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    error_code = models.CharField(_("error code"), max_length=64, blank=True, db_index=True)
    status_code = models.IntegerField(_("HTTP status"), null=True, blank=True)
    detail = models.TextField(_("detail"), blank=True)
    watch_url_hash = models.CharField(
        _("watch URL HMAC"),
        max_length=64,
        blank=True,
        help_text=_("HMAC-SHA256 of the watch URL; the URL itself is never stored."),
    )

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ("-created_at", "-id")
        default_permissions = ("view",)

    def __str__(self) -> str:
        who = self.username or "-"
        return f"{self.get_action_display()} by {who} ({self.get_outcome_display()})"


# -- background work (django_upscope.locks, django_upscope.jobs) -------------------------


class SyncState(models.Model):
    """A named lease (one holder at a time, across processes and machines) and the outcome
    of the last run it guarded. ``name="sync_mirror"`` is the mirror's sync.

    The lease is a row, not a held transaction: a sync commits batch by batch, and a
    worker that dies leaves a lease that expires (``lease_expires_at``) instead of a lock
    held forever. Written only by :mod:`django_upscope.locks`.
    """

    name = models.CharField(_("name"), max_length=64, primary_key=True)
    holder = models.CharField(_("holder"), max_length=64, blank=True)
    lease_expires_at = models.DateTimeField(_("lease expires"), null=True, blank=True)
    started_at = models.DateTimeField(_("last started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("last finished"), null=True, blank=True)
    ok = models.BooleanField(_("last run succeeded"), null=True, blank=True)
    summary = models.TextField(_("last result"), blank=True)
    next_run_at = models.DateTimeField(_("next run"), null=True, blank=True)

    class Meta:
        verbose_name = _("sync state")
        verbose_name_plural = _("sync states")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return self.name


class BulkJob(models.Model):
    """A bulk action on visitors run by a task worker, and its progress per visitor."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True)
    action = models.CharField(_("action"), max_length=32, choices=AuditEvent.Action.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("user"),
    )
    username = models.CharField(_("username"), max_length=255, blank=True)
    short_ids = models.JSONField(_("visitors"), default=list)
    total = models.IntegerField(_("total"), default=0)
    done = models.IntegerField(_("done"), default=0)
    failed = models.IntegerField(_("failed"), default=0)
    #: One ``{"short_id", "ok", "text"}`` per visitor handled, in order.
    messages = models.JSONField(_("messages"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    task_result_id = models.CharField(_("task result id"), max_length=64, blank=True)
    detail = models.TextField(_("detail"), blank=True)
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("bulk job")
        verbose_name_plural = _("bulk jobs")
        ordering = ("-created_at",)
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.get_action_display()} x{self.total}"

    @property
    def remaining(self) -> int:
        return max(self.total - self.done - self.failed, 0)
