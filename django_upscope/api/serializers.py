"""Serializers: the JSON shapes of the API (and of its OpenAPI schema).

A visitor has the same shape whether it comes live from Upscope
(:class:`django_upscope.resources.VisitorData`) or from the mirror
(:class:`django_upscope.models.Visitor`): both carry the documented attribute names.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlsplit

from rest_framework import serializers
from rest_framework.settings import api_settings

from ..client import validate_metadata
from ..exceptions import UpscopeInvalidInput
from ..vocabulary import PERMISSION_KEYS, SHORT_ID_RE
from ._spectacular import metadata_field


class WireNamedSerializer(serializers.Serializer):
    """A serializer whose wire names may differ from its Python attribute names.

    ``fields`` and ``source`` are attributes of every DRF serializer, so a field
    with that name on the wire is declared under another name and listed in
    :attr:`wire_names` (Python name -> wire name). Field order is kept.
    """

    wire_names: ClassVar[dict[str, str]] = {}

    def get_fields(self) -> dict[str, serializers.Field]:
        declared = super().get_fields()
        return {self.wire_names.get(name, name): field for name, field in declared.items()}


class ErrorSerializer(WireNamedSerializer):
    """Every error: a stable machine code and a sentence for people."""

    wire_names = {"field_errors": "fields"}

    error = serializers.CharField(help_text="Stable machine-readable code, e.g. visitor_not_found.")
    detail = serializers.CharField(help_text="What went wrong, in words.")
    field_errors = serializers.DictField(
        required=False,
        child=serializers.JSONField(),
        help_text="Validation errors only: for each invalid field, its list of messages "
        "(an object of such lists for a nested field such as permissions).",
    )


# -- visitors -----------------------------------------------------------------


class OptionalText(serializers.CharField):
    """Text that may be missing: ``null`` for both Upscope's null and the mirror's ""."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_null=True, **kwargs)

    def to_representation(self, value: Any) -> str | None:  # type: ignore[override]
        return str(value) if value not in (None, "") else None


class VisitorSerializer(serializers.Serializer):
    """A visitor, as listed (no sessions, no history)."""

    short_id = serializers.CharField(help_text="Upscope's id of the visitor.")
    display_name = serializers.CharField(
        help_text="The first identity, else the unique id, else the short id."
    )
    identities = serializers.ListField(child=serializers.CharField())
    unique_id = OptionalText()
    lookup_code = OptionalText()
    tags = serializers.ListField(child=serializers.CharField())
    device_type = OptionalText()
    device_name = OptionalText()
    browser_name = OptionalText()
    location_city = OptionalText()
    location_country = OptionalText()
    location_country_name = OptionalText()
    ip_address = OptionalText()
    integration = OptionalText()
    is_online = serializers.BooleanField()
    is_in_session = serializers.BooleanField()
    js_configuration = serializers.BooleanField()
    first_seen_at = serializers.DateTimeField(allow_null=True)
    last_seen_at = serializers.DateTimeField(allow_null=True)
    last_url = OptionalText()


class VisitorPageSerializer(serializers.Serializer):
    """A page of visitors. A live search is always one page (no ``next``)."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = VisitorSerializer(many=True)


class TeamSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    domain = serializers.CharField(allow_null=True)


class SessionAgentSerializer(serializers.Serializer):
    """An agent of a session (Upscope's ``_type`` is ``type``)."""

    id = serializers.IntegerField(allow_null=True, help_text="Upscope's agent id.")
    name = serializers.CharField(allow_null=True)
    agent_identifier = serializers.CharField(
        allow_null=True,
        help_text="For agents of watch URLs minted here: the Django user's pk.",
    )
    type = serializers.CharField(allow_null=True)


class LiveSessionSerializer(serializers.Serializer):
    """A session embedded in a visitor fetched live from Upscope."""

    id = serializers.IntegerField()
    visitor_id = serializers.CharField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    length_seconds = serializers.IntegerField()
    formatted_length = serializers.CharField(allow_null=True)
    call_length_seconds = serializers.IntegerField()
    formatted_call_length = serializers.CharField(allow_null=True)
    went_live = serializers.BooleanField()
    features_used = serializers.ListField(child=serializers.CharField())
    team = TeamSerializer(allow_null=True)
    agents = SessionAgentSerializer(many=True)
    metadata = serializers.DictField()


class VisitorDetailSerializer(VisitorSerializer):
    """A visitor fetched live, with its sessions (and history when asked for)."""

    sessions = LiveSessionSerializer(many=True)
    history = serializers.JSONField(
        allow_null=True,
        help_text="Pageviews and screenshots (?with_history=true); undocumented by Upscope.",
    )


class VisitorListQuerySerializer(WireNamedSerializer):
    """Query parameters of ``GET visitors/`` (``source`` is declared as ``source_param``)."""

    wire_names = {"source_param": "source"}

    SOURCES = ("live", "local")
    LOCAL_ONLY = ("online", "device_type", "country", "tag", "ordering", "page", "page_size")
    ORDERINGS = (
        "-last_seen_at",
        "last_seen_at",
        "-first_seen_at",
        "first_seen_at",
        "display_name",
        "-display_name",
    )

    source_param = serializers.ChoiceField(
        choices=SOURCES,
        default="live",
        help_text="live: search Upscope now (and refresh the mirror); local: the mirror.",
    )
    search = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=1000,
        trim_whitespace=False,
        help_text="Upscope's search syntax (free text and tokens such as online, -online, "
        "#tag, ip:1.2.3.4, id:..., a lookup code, an e-mail address, integration_id:name:id). "
        "Live: sent to Upscope; empty or absent: the latest visitors. source=local: the same "
        "tokens on the mirror (README, 'Searching visitors').",
    )
    online = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Local only."
    )
    device_type = serializers.CharField(required=False, max_length=32, help_text="Local only.")
    country = serializers.CharField(
        required=False, max_length=8, help_text="Local only. Country code, e.g. GB."
    )
    tag = serializers.CharField(required=False, max_length=255, help_text="Local only.")
    ordering = serializers.ChoiceField(
        choices=ORDERINGS, default="-last_seen_at", help_text="Local only."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = set(self.initial_data)
        if attrs["source"] == "live":
            misplaced = sorted(given & set(self.LOCAL_ONLY))
            if misplaced:
                raise serializers.ValidationError(
                    {
                        name: ["Only with source=local (a live search filters with tokens)."]
                        for name in misplaced
                    }
                )
        return attrs


class VisitorDetailQuerySerializer(serializers.Serializer):
    with_history = serializers.BooleanField(
        default=False,
        help_text="Also fetch the visitor's pageviews and screenshots (cloud only).",
    )


# -- watch URLs ---------------------------------------------------------------


class SessionPermissionsSerializer(serializers.Serializer):
    """Upscope's per-session permissions; each defaults to what the user is granted."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {key: serializers.BooleanField(required=False) for key in PERMISSION_KEYS}

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in PERMISSION_KEYS)
            if unknown:
                raise serializers.ValidationError(
                    f"Unknown permission keys: {', '.join(unknown)}; known keys: "
                    f"{', '.join(PERMISSION_KEYS)}."
                )
        return super().to_internal_value(data)


@metadata_field
class MetadataField(serializers.DictField):
    """A flat object: string keys, values string, number or boolean."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=serializers.JSONField(), **kwargs)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        try:
            return validate_metadata(value)
        except UpscopeInvalidInput as exc:
            raise serializers.ValidationError(exc.message) from exc


class WatchURLRequestSerializer(serializers.Serializer):
    """Optional body of ``POST visitors/<short_id>/watch-url/``."""

    metadata = MetadataField(
        required=False,
        help_text="Flat object stored on the session for your analytics; "
        "merged under the metadata the server stamps (who, from where).",
    )
    permissions = SessionPermissionsSerializer(
        required=False,
        help_text="Narrow the session's permissions. A permission you are not granted is "
        "sent as false (not an error); the answer shows what was sent.",
    )
    on_end_url = serializers.CharField(
        required=False,
        max_length=2000,
        help_text="Where the frame goes when the session ends: a path or a URL on this site.",
    )
    retry_url = serializers.CharField(
        required=False,
        max_length=2000,
        help_text="Where the frame's retry link goes: a path or a URL on this site.",
    )

    def to_internal_value(self, data: Any) -> Any:
        # A misspelt key (``permision``) must not be ignored: it would mint with every
        # permission the user has instead of the narrowed ones.
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {
                        api_settings.NON_FIELD_ERRORS_KEY: [
                            f"Unknown keys: {', '.join(unknown)}; known keys: "
                            f"{', '.join(self.fields)}."
                        ]
                    }
                )
        return super().to_internal_value(data)

    def _same_site_url(self, value: str) -> str:
        """A path or an absolute URL on the requesting host, made absolute."""
        request = self.context["request"]
        try:
            parts = urlsplit(value)
        except ValueError:  # e.g. "http://[::1" (an unclosed IPv6 bracket)
            parts = None
        if parts is None or not value.isprintable() or value.startswith("//") or "\\" in value:
            raise serializers.ValidationError("Enter a path or a URL on this site.")
        if parts.scheme or parts.netloc:
            if parts.scheme not in ("http", "https") or parts.netloc != request.get_host():
                raise serializers.ValidationError("Enter a path or a URL on this site.")
            return value
        if not value.startswith("/"):
            raise serializers.ValidationError("A path must start with '/'.")
        return request.build_absolute_uri(value)

    def validate_on_end_url(self, value: str) -> str:
        return self._same_site_url(value)

    def validate_retry_url(self, value: str) -> str:
        return self._same_site_url(value)


class GrantedPermissionsSerializer(serializers.Serializer):
    """Every session permission, as sent to Upscope."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {key: serializers.BooleanField() for key in PERMISSION_KEYS}


class WatchURLSerializer(serializers.Serializer):
    """A minted watch URL: a bearer secret, shown only to the agent it was minted for."""

    watch_url = serializers.URLField(
        help_text="Open it (e.g. in an iframe) to watch the visitor's screen; never store it."
    )
    permissions = GrantedPermissionsSerializer()
    metadata = serializers.DictField()


class AcceptedSerializer(serializers.Serializer):
    status = serializers.CharField()
    detail = serializers.CharField()


# -- usage --------------------------------------------------------------------


class VisitorUsageSerializer(serializers.Serializer):
    online_now = serializers.IntegerField()
    last_24_hrs = serializers.IntegerField()
    last_30_days = serializers.IntegerField()


class AgentUsageSerializer(serializers.Serializer):
    today = serializers.IntegerField()
    last_30_days = serializers.IntegerField()


class SessionCountsSerializer(serializers.Serializer):
    now = serializers.IntegerField()
    today = serializers.IntegerField()
    last_30_days = serializers.IntegerField()


class SessionSecondsSerializer(serializers.Serializer):
    today = serializers.IntegerField()
    last_30_days = serializers.IntegerField()


class UsageSerializer(serializers.Serializer):
    """Upscope's usage figures (``usage.json``)."""

    visitors = VisitorUsageSerializer()
    agents = AgentUsageSerializer()
    session_counts = SessionCountsSerializer()
    session_seconds = SessionSecondsSerializer()


class SnapshotVisitorsSerializer(serializers.Serializer):
    online_now = serializers.IntegerField(source="visitors_online_now")
    last_24_hrs = serializers.IntegerField(source="visitors_last_24_hrs")
    last_30_days = serializers.IntegerField(source="visitors_last_30_days")


class SnapshotAgentsSerializer(serializers.Serializer):
    today = serializers.IntegerField(source="agents_today")
    last_30_days = serializers.IntegerField(source="agents_last_30_days")


class SnapshotSessionCountsSerializer(serializers.Serializer):
    now = serializers.IntegerField(source="sessions_now")
    today = serializers.IntegerField(source="sessions_today")
    last_30_days = serializers.IntegerField(source="sessions_last_30_days")


class SnapshotSessionSecondsSerializer(serializers.Serializer):
    today = serializers.IntegerField(source="session_seconds_today")
    last_30_days = serializers.IntegerField(source="session_seconds_last_30_days")


class UsageSnapshotSerializer(serializers.Serializer):
    """A stored snapshot, in the shape of :class:`UsageSerializer` plus ``taken_at``."""

    taken_at = serializers.DateTimeField()
    visitors = SnapshotVisitorsSerializer(source="*")
    agents = SnapshotAgentsSerializer(source="*")
    session_counts = SnapshotSessionCountsSerializer(source="*")
    session_seconds = SnapshotSessionSecondsSerializer(source="*")


class DateRangeQuerySerializer(serializers.Serializer):
    since = serializers.DateTimeField(
        required=False, help_text="From this moment on (ISO 8601; a date means its midnight)."
    )
    until = serializers.DateTimeField(required=False, help_text="Before this moment (ISO 8601).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and since > until:
            raise serializers.ValidationError({"until": ["until must not be before since."]})
        return attrs


# -- sessions (mirror) --------------------------------------------------------


class MirroredAgentSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="upscope_id", allow_null=True)
    name = serializers.CharField()
    agent_identifier = serializers.CharField()
    type = serializers.CharField()


class SessionSerializer(serializers.Serializer):
    """A session from the mirror."""

    id = serializers.IntegerField()
    visitor = serializers.CharField(source="visitor_id", help_text="The visitor's short_id.")
    started_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    length_seconds = serializers.IntegerField()
    formatted_length = serializers.CharField()
    call_length_seconds = serializers.IntegerField()
    formatted_call_length = serializers.CharField()
    went_live = serializers.BooleanField()
    features_used = serializers.ListField(child=serializers.CharField())
    team_id = serializers.IntegerField(allow_null=True)
    team_domain = serializers.CharField()
    agents = MirroredAgentSerializer(many=True, source="agents.all")
    metadata = serializers.DictField()


class SessionListQuerySerializer(DateRangeQuerySerializer):
    visitor = serializers.RegexField(
        rf"^{SHORT_ID_RE.pattern}$", required=False, help_text="A visitor's short_id."
    )
    agent = serializers.CharField(
        required=False,
        max_length=300,
        help_text="An agent identifier (the Django user's pk for agents minted here) "
        "or Upscope's agent id.",
    )
