"""The fake's state: its own tables, so it survives ``runserver`` threads and reloads.

These models belong to the fake only (app label ``upscope_fake``); they are
not the mirror in :mod:`django_upscope.models`. Change them through
:mod:`django_upscope.fake.state`, which keeps the derived columns right.

Text fields that Upscope sends as ``null`` are nullable ``CharField``s, so the fake
answers ``null`` rather than ``""`` (ruff's DJ001 is off for the fake in pyproject.toml).
"""

from __future__ import annotations

from typing import Any

from django.db import models


def _text_set(values: Any) -> str:
    """Lower-cased values joined with a space either side, for ``contains`` filters."""
    items = [str(v).strip().lower() for v in values or () if str(v).strip()]
    return f" {' '.join(items)} " if items else ""


class FakeVisitor(models.Model):
    """A visitor as the fake Upscope knows it (the documented ``visitor.*`` fields)."""

    short_id = models.CharField(max_length=128, primary_key=True)
    api_key = models.CharField(max_length=64, default="fake_public_key")
    identities = models.JSONField(null=True, blank=True)
    unique_id = models.CharField(max_length=255, null=True, blank=True, db_index=True)
    lookup_code = models.CharField(max_length=16, null=True, blank=True, db_index=True)
    tags = models.JSONField(default=list, blank=True)
    integration = models.CharField(max_length=64, null=True, blank=True)
    integration_ids = models.JSONField(
        default=dict, blank=True, help_text="Chat-system ids, e.g. {'intercom': '123'}."
    )
    device_type = models.CharField(max_length=32, default="desktop")
    device_name = models.CharField(max_length=128, null=True, blank=True)
    browser_name = models.CharField(max_length=128, null=True, blank=True)
    ip_address = models.CharField(max_length=64, null=True, blank=True, db_index=True)
    location_city = models.CharField(max_length=255, null=True, blank=True)
    location_country = models.CharField(max_length=8, null=True, blank=True)
    location_country_name = models.CharField(max_length=128, null=True, blank=True)
    utc_offset_minutes = models.IntegerField(
        default=0, help_text="Offset used for this visitor's session timestamps."
    )
    is_online = models.BooleanField(default=False, db_index=True)
    is_in_session = models.BooleanField(default=False, db_index=True)
    js_configuration = models.BooleanField(default=False)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(db_index=True)
    last_url = models.TextField(null=True, blank=True)
    history = models.JSONField(null=True, blank=True)
    # Derived columns (see refresh_derived) so search runs in SQL on every backend.
    search_text = models.TextField(blank=True, default="")
    tags_text = models.TextField(blank=True, default="")
    integration_ids_text = models.TextField(blank=True, default="")

    class Meta:
        ordering = ("-last_seen_at", "short_id")

    def __str__(self) -> str:
        return self.short_id

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.refresh_derived()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {
                *update_fields,
                "search_text",
                "tags_text",
                "integration_ids_text",
            }
        super().save(*args, **kwargs)

    def refresh_derived(self) -> None:
        """Recompute the search columns from the documented fields."""
        for name, value in derived_columns(
            short_id=self.short_id,
            identities=self.identities,
            unique_id=self.unique_id,
            last_url=self.last_url,
            tags=self.tags,
            integration_ids=self.integration_ids,
        ).items():
            setattr(self, name, value)


def derived_columns(
    *,
    short_id: str,
    identities: list[str] | None,
    unique_id: str | None,
    last_url: str | None,
    tags: list[str] | None,
    integration_ids: dict[str, str] | None,
) -> dict[str, str]:
    """The search columns of a visitor: free text, tags, integration ids (lower case)."""
    parts = [*(identities or []), unique_id, short_id, last_url]
    return {
        "search_text": "\n".join(str(part).lower() for part in parts if part),
        "tags_text": _text_set(tags),
        "integration_ids_text": _text_set(
            f"{name}:{value}" for name, value in (integration_ids or {}).items()
        ),
    }


class FakeAgent(models.Model):
    """An agent: ``external_agent`` when created through the REST API."""

    name = models.CharField(max_length=255)
    agent_identifier = models.CharField(max_length=255, null=True, blank=True)
    type = models.CharField(max_length=32, default="external_agent")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("type", "agent_identifier"), name="upscope_fake_agent_identifier"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def as_payload(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "agent_identifier": self.agent_identifier,
            "_type": self.type,
        }


class FakeSession(models.Model):
    """A screen-sharing session; ``ended_at`` is null while it is active."""

    visitor = models.ForeignKey(FakeVisitor, on_delete=models.CASCADE, related_name="sessions")
    agents = models.ManyToManyField(FakeAgent, through="FakeSessionAgent", related_name="+")
    started_at = models.DateTimeField(db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    length_seconds = models.IntegerField(default=0, help_text="Set when the session ends.")
    call_length_seconds = models.IntegerField(default=0)
    went_live = models.BooleanField(default=False)
    features_used = models.JSONField(default=list, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    utc_offset_minutes = models.IntegerField(default=0)

    class Meta:
        ordering = ("-started_at", "-id")

    def __str__(self) -> str:
        return f"session {self.pk} of {self.visitor_id}"


class FakeSessionAgent(models.Model):
    session = models.ForeignKey(FakeSession, on_delete=models.CASCADE)
    agent = models.ForeignKey(FakeAgent, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("session", "agent"), name="upscope_fake_session_agent")
        ]

    def __str__(self) -> str:
        return f"agent {self.agent_id} in session {self.session_id}"


class FakeWatchToken(models.Model):
    """A minted watch URL. Only the SHA-256 of its token is stored."""

    token_hash = models.CharField(max_length=64, unique=True)
    session = models.ForeignKey(FakeSession, on_delete=models.CASCADE, related_name="tokens")
    agent = models.ForeignKey(FakeAgent, on_delete=models.CASCADE, related_name="+")
    branding = models.JSONField(default=dict, blank=True)
    permissions = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"watch token for session {self.session_id}"


class FakeFault(models.Model):
    """A fault to inject in the next ``remaining`` calls of an endpoint (null: every call)."""

    endpoint = models.CharField(max_length=32, db_index=True)
    remaining = models.IntegerField(null=True, blank=True)
    status = models.IntegerField(null=True, blank=True)
    code = models.CharField(max_length=64, blank=True, default="")
    retry_after = models.CharField(max_length=64, blank=True, default="")
    delay = models.FloatField(null=True, blank=True)
    drop = models.CharField(max_length=16, blank=True, default="")
    body = models.TextField(null=True, blank=True)
    content_type = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return f"fault on {self.endpoint}"


class FakeRequest(models.Model):
    """One request the fake's API received. Credentials are never stored, only judged."""

    received_at = models.DateTimeField()
    endpoint = models.CharField(max_length=32, blank=True)
    method = models.CharField(max_length=10)
    path = models.TextField()
    query = models.JSONField(default=dict)
    headers = models.JSONField(default=dict)
    json_body = models.JSONField(null=True, blank=True)
    body_text = models.TextField(blank=True, default="")
    credentials = models.CharField(max_length=32)
    status = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


class FakePurge(models.Model):
    """A purge of offline visitors requested, applied lazily once ``run_at`` has passed."""

    run_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"purge at {self.run_at:%Y-%m-%d %H:%M:%S}"


class FakeSdkConnection(models.Model):
    """A visitor connected through the fake's stand-in loader (``fake/sdk.py``).

    Its page sends heartbeats while it is open; a visitor whose heartbeats stop goes
    offline (checked lazily, against the fake's clock).
    """

    visitor = models.OneToOneField(
        FakeVisitor, on_delete=models.CASCADE, primary_key=True, related_name="sdk_connection"
    )
    heartbeat_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"SDK connection of {self.visitor_id}"
