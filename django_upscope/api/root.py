"""The API root (``api/``): the endpoints of this API, as links.

As Django REST framework's own ``DefaultRouter`` root does: a person with the
browsable API finds every endpoint from here, a program finds the URLs by name.
Routes with a visitor in them are given as templates with ``{short_id}``. The
schema and its pages are listed when they are mounted (drf-spectacular, and
drf-spectacular-sidecar for the pages). An endpoint the configured Upscope server cannot
serve (on-premise: watch URLs, stopping sessions, purging, usage) is left out, and
``server/`` says what the server offers and why (:mod:`django_upscope.capabilities`).
"""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from .. import capabilities
from .exceptions import api_exception_handler

#: ``{key in the answer: URL name in django_upscope:api}``, in the order listed.
ENDPOINTS: dict[str, str] = {
    "visitors": "visitor-list",
    "server": "server",
    "visitor": "visitor-detail",
    "watch_url": "visitor-watch-url",
    "session": "visitor-session",
    "purge": "visitor-purge",
    "sessions": "session-list",
    "usage": "usage",
    "usage_history": "usage-history",
    "schema": "schema",
    "swagger_ui": "schema-swagger-ui",
    "redoc": "schema-redoc",
}

#: Endpoints that exist only for an operation the server may lack.
_OPERATION_OF: dict[str, str] = {
    "visitor-watch-url": "create_watch_url",
    "visitor-session": "stop_session",
    "visitor-purge": "purge_offline_visitors",
    "usage": "get_usage",
}

#: A short_id that fits the route, swapped for ``{short_id}`` in the answer.
_PLACEHOLDER = "SHORT_ID_PLACEHOLDER"
_VISITOR_ROUTES = frozenset({"visitor-detail", "visitor-watch-url", "visitor-session"})


def endpoint_urls(request: Request) -> dict[str, str]:
    """The absolute URL of each endpoint mounted (``{short_id}`` where a visitor goes)."""
    urls = {}
    for key, name in ENDPOINTS.items():
        if name in _OPERATION_OF and not capabilities.supports(_OPERATION_OF[name]):
            continue  # it could only answer 501
        args = [_PLACEHOLDER] if name in _VISITOR_ROUTES else []
        try:
            url = reverse(f"django_upscope:api:{name}", args=args, request=request)
        except NoReverseMatch:  # drf-spectacular (or its sidecar) not installed
            continue
        urls[key] = url.replace(_PLACEHOLDER, "{short_id}")
    return urls


class APIRootView(APIView):
    """The endpoints of django-upscope's API, for any authenticated user."""

    permission_classes = [IsAuthenticated]

    def get_exception_handler(self) -> Any:
        return api_exception_handler

    def get(self, request: Request) -> Response:
        return Response(endpoint_urls(request))


class ServerView(APIView):
    """What the configured Upscope server offers: ``on_premise``, ``operations`` (each
    operation of the client: true or false) and ``notice`` (one line saying why some are
    not offered; empty on the cloud). A console uses it to offer only what can work."""

    permission_classes = [IsAuthenticated]

    def get_exception_handler(self) -> Any:
        return api_exception_handler

    def get(self, request: Request) -> Response:
        return Response(capabilities.summary())
