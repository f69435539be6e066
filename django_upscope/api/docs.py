"""The OpenAPI documentation of each endpoint: :func:`document` and the error table.

Views decorate their methods with :func:`document`; without drf-spectacular it
leaves them as they are and the endpoints work the same. The schema generator
itself is in :mod:`.openapi`, which imports the views.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from ..vocabulary import SHORT_ID_RE
from ._spectacular import HAS_SPECTACULAR
from .serializers import ErrorSerializer

F = TypeVar("F", bound=Callable[..., Any])

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
    from drf_spectacular.openapi import AutoSchema
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

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
        """The documented error responses of these statuses, in status order."""
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

else:  # pragma: no cover - exercised only without the extra installed

    def document(**_kwargs: Any) -> Callable[[F], F]:  # type: ignore[misc]
        """Without drf-spectacular: leave the view method as it is."""
        return lambda view: view
