"""The agent's two lookups in the DRF API: a user's visitors, and the visitor with a code.

``GET lookup/users/<user_id>/`` finds the visitors the page's snippet identified as that
Django user (``id:<uniqueId>``); ``GET lookup/code/<code>/`` the visitor reading out a
four-digit lookup code (docs/upscope-api.md, "Search syntax"). Both answer the
:class:`~django_upscope.lookup.VisitorLookup`: ``outcome`` (``one``, ``several``,
``none``: how many are online), the visitors (online first), and when the customer was
last seen. A single-page app then mints a watch URL for the ``short_id`` it picks.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from .. import lookup
from ..permissions import VIEW_VISITOR
from ._spectacular import HAS_SPECTACULAR
from .docs import UPSTREAM_ERRORS, document
from .serializers import VisitorSerializer
from .views import UpscopeAPIView

USER_ID_PARAMETERS: list[Any] = []
CODE_PARAMETERS: list[Any] = []
if HAS_SPECTACULAR:
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiParameter

    USER_ID_PARAMETERS = [
        OpenApiParameter(
            "user_id",
            OpenApiTypes.STR,
            OpenApiParameter.PATH,
            description="The primary key of the Django user.",
        )
    ]
    CODE_PARAMETERS = [
        OpenApiParameter(
            "code",
            OpenApiTypes.STR,
            OpenApiParameter.PATH,
            pattern=r"^[0-9]{4}$",
            description="The four-digit lookup code the visitor reads out.",
        )
    ]


class VisitorLookupSerializer(serializers.Serializer):
    """What a lookup found."""

    outcome = serializers.ChoiceField(
        choices=["one", "several", "none"],
        help_text="How many of the visitors found are online now: `one` (watch it), "
        "`several` (let the agent choose) or `none` (not on the site right now).",
    )
    last_seen_at = serializers.DateTimeField(
        allow_null=True, help_text="When the customer was last seen (null: never)."
    )
    visitors = VisitorSerializer(many=True, help_text="Online first, then latest seen first.")


def _answer(found: lookup.VisitorLookup) -> Response:
    data = {
        "outcome": found.outcome,
        "last_seen_at": found.last_seen_at,
        "visitors": found.visitors,
    }
    return Response(VisitorLookupSerializer(data).data)


def _user_view_permission() -> str:
    opts = get_user_model()._meta
    return f"{opts.app_label}.view_{opts.model_name}"


class UserVisitorsView(UpscopeAPIView):
    """The visitors identified as a Django user."""

    def get_permissions(self) -> Any:
        self.required_permissions = {"GET": (VIEW_VISITOR, _user_view_permission())}
        return super().get_permissions()

    @document(
        operation_id="lookup_user_visitors",
        summary="The visitors identified as a user (Upscope's id: search)",
        description="Needs `django_upscope.view_visitor` and the permission to view users. "
        "Searches Upscope for `id:<uniqueId>`, the uniqueId `{% upscope_snippet %}` sends "
        "for this user (an HMAC of its primary key by default); the mirror is refreshed. "
        "404 `not_found` when there is no such user.",
        parameters=USER_ID_PARAMETERS,
        responses={200: VisitorLookupSerializer},
        errors=(404, *UPSTREAM_ERRORS),
    )
    def get(self, request: Request, user_id: str) -> Response:
        try:
            user = get_user_model()._default_manager.filter(pk=user_id).first()
        except (ValueError, TypeError, ValidationError):
            user = None
        if user is None:
            raise Http404("No such user.")
        return _answer(lookup.find_by_identity(user))


class LookupCodeView(UpscopeAPIView):
    """The visitors showing a lookup code."""

    required_permissions = {"GET": (VIEW_VISITOR,)}

    @document(
        operation_id="lookup_code_visitors",
        summary="The visitor reading out a four-digit lookup code",
        description="Needs `django_upscope.view_visitor`. Searches Upscope for the code "
        "(a documented search token); the mirror is refreshed. A path that is not four "
        "digits is a 404 `not_found`.",
        parameters=CODE_PARAMETERS,
        responses={200: VisitorLookupSerializer},
        errors=(404, *UPSTREAM_ERRORS),
    )
    def get(self, request: Request, code: str) -> Response:
        return _answer(lookup.find_by_code(code))
