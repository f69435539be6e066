"""OpenAPI 3 documentation through drf-spectacular, an optional extra.

Without drf-spectacular installed, :func:`document` leaves views as they are and
no ``schema/`` URL is added: the endpoints work the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from importlib.util import find_spec
from typing import Any, TypeVar

from .. import __version__
from ..vocabulary import SHORT_ID_RE

F = TypeVar("F", bound=Callable[..., Any])

HAS_SPECTACULAR = find_spec("drf_spectacular") is not None

#: What each documented error status means on these endpoints.
ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Invalid parameters or body (`invalid`, with `fields`), or a value Upscope would "
    "refuse (`invalid_short_id`, `invalid_metadata`...).",
    401: "Not authenticated (`not_authenticated`), with an authentication scheme that sends "
    "`WWW-Authenticate` (e.g. token auth); session auth answers 403.",
    402: "Over the Upscope subscription's limits (`subscription_limit`).",
    403: "Not authenticated with session auth (`not_authenticated`), CSRF token missing "
    "(`csrf_failed`), or the Django permission is missing (`permission_denied`).",
    404: "Upscope has no such visitor (`visitor_not_found`), or no such page (`not_found`).",
    405: "Method not allowed (`method_not_allowed`).",
    415: "The body is not JSON (`unsupported_media_type`).",
    429: "Too many requests (`throttled`); `Retry-After` says when to try again.",
    501: "Not available from an on-premise Upscope server (`not_supported_on_premise`).",
    502: "Upscope refused this server's credentials or configuration (its code: "
    "`invalid_api_key`, `subscription_expired`, `api_not_enabled`, `no_subscription`, "
    "`please_contact_team`, `not_configured`), or answered something unexpected "
    "(`invalid_response`, `api_error`...).",
    503: "Upscope is unreachable, rate limiting or failing (`connection_error`, "
    "`rate_limited`, `http_503`...); `Retry-After` when Upscope said.",
    504: "Upscope did not answer in time (`timeout`).",
}

#: ``document(request=...)`` not given: drf-spectacular infers it (``None``: no body).
NO_REQUEST = object()

#: Errors any endpoint of this API can answer.
COMMON_ERRORS = (401, 403)
#: Errors of an endpoint that calls Upscope.
UPSTREAM_ERRORS = (502, 503, 504)

if HAS_SPECTACULAR:
    from drf_spectacular.generators import EndpointEnumerator, SchemaGenerator
    from drf_spectacular.openapi import AutoSchema
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import (
        OpenApiParameter,
        OpenApiResponse,
        extend_schema,
        extend_schema_field,
    )

    SHORT_ID_PARAMETER = OpenApiParameter(
        "short_id",
        OpenApiTypes.STR,
        OpenApiParameter.PATH,
        pattern=rf"^{SHORT_ID_RE.pattern}$",
        description="Upscope's id of the visitor (`short_id`).",
    )

    PAGE_PARAMETERS = [
        OpenApiParameter("page", OpenApiTypes.INT, description="Page number, from 1."),
        OpenApiParameter(
            "page_size", OpenApiTypes.INT, description="Results per page (default 50, at most 200)."
        ),
    ]

    def error_responses(statuses: Iterable[int]) -> dict[int, Any]:
        from .serializers import ErrorSerializer

        return {
            code: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code])
            for code in sorted(set(statuses))
        }

    def document(
        *,
        summary: str,
        responses: dict[int, Any],
        errors: Sequence[int] = (),
        parameters: Sequence[Any] = (),
        short_id: bool = False,
        paginated: bool = False,
        request: Any = NO_REQUEST,
        operation_id: str | None = None,
        description: str | None = None,
    ) -> Callable[[F], F]:
        """``extend_schema`` with the error responses of ``errors`` (plus 401 and 403)."""
        all_responses: dict[int, Any] = {}
        for code, value in responses.items():
            if isinstance(value, tuple):
                value = OpenApiResponse(value[0], description=value[1])
            all_responses[code] = value
        all_responses.update(error_responses((*COMMON_ERRORS, *errors)))
        params = list(parameters)
        if short_id:
            params.append(SHORT_ID_PARAMETER)
        if paginated:
            params.extend(PAGE_PARAMETERS)
        kwargs: dict[str, Any] = {
            "summary": summary,
            "responses": all_responses,
            "parameters": params or None,
            "tags": ["upscope"],
        }
        if description:
            kwargs["description"] = description
        if operation_id:
            kwargs["operation_id"] = operation_id
        if request is not NO_REQUEST:
            kwargs["request"] = request

        def decorator(view_method: F) -> F:
            # extend_schema builds on the method's ``schema`` when set, else on DRF's
            # DEFAULT_SCHEMA_CLASS: projects need not switch theirs to drf-spectacular.
            view_method.schema = AutoSchema  # type: ignore[attr-defined]
            return extend_schema(**kwargs)(view_method)

        return decorator

    class UpscopeEndpointEnumerator(EndpointEnumerator):
        """Only django-upscope's own API views."""

        def should_include_endpoint(self, path: str, callback: Any) -> bool:
            from .views import UpscopeAPIView

            view_class = getattr(callback, "cls", None)
            if view_class is None or not issubclass(view_class, UpscopeAPIView):
                return False
            return super().should_include_endpoint(path, callback)

    class UpscopeSchemaGenerator(SchemaGenerator):
        """The schema of django-upscope's API alone, wherever the project mounts it."""

        endpoint_inspector_cls = UpscopeEndpointEnumerator

    #: Settings for the schema view, so the project's SPECTACULAR_SETTINGS are untouched.
    SCHEMA_SETTINGS: dict[str, Any] = {
        "TITLE": "django-upscope API",
        "DESCRIPTION": "Upscope co-browsing for agents' single-page apps: visitors, watch "
        'URLs, sessions and usage. Every error is `{"error": code, "detail": text}`.',
        "VERSION": __version__,
    }

    schema_class: Any = AutoSchema
    metadata_field = extend_schema_field(
        {
            "type": "object",
            "additionalProperties": {
                "oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]
            },
        }
    )
else:  # pragma: no cover - exercised only without the extra installed

    def document(**_kwargs: Any) -> Callable[[F], F]:  # type: ignore[misc]
        return lambda view: view

    def metadata_field(cls: Any) -> Any:  # type: ignore[misc]
        return cls

    schema_class = None
