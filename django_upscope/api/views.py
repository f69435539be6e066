"""DRF views: thin callers of :mod:`django_upscope.services`.

Reads check the Django permission here (:class:`HasUpscopePermission`). Actions on
a person's behalf (watch URL, stop, delete, purge) leave the permission check to
the service, exactly as the admin does, so a refusal is audited the same way
(a ``denied`` :class:`~django_upscope.models.AuditEvent`, no call to Upscope).
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_variables
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from .. import services, tasks
from ..mirror import search
from ..models import Agent, Session, UsageSnapshot, Visitor
from ..permissions import PURGE, VIEW_SESSION, VIEW_USAGE, VIEW_VISITOR
from ..transactions import outside_request_transaction
from . import serializers
from ._spectacular import schema_class
from .docs import UPSTREAM_ERRORS, document
from .exceptions import api_exception_handler, error_body
from .pagination import UpscopePagination
from .parsers import UpscopeJSONParser
from .permissions import HasUpscopePermission
from .throttling import WatchURLRateThrottle

ACTION_ERRORS = (400, 402, 404, 501, *UPSTREAM_ERRORS)


# Outside ATOMIC_REQUESTS' transaction: what Upscope did (a delete, a purge, a minted watch
# URL) is recorded and committed by the service as it happens, even if the worker is killed.
@method_decorator(outside_request_transaction, name="dispatch")
class UpscopeAPIView(APIView):
    """Base of every django-upscope endpoint.

    Authentication and throttles come from the project's ``REST_FRAMEWORK``
    settings; permissions are :class:`HasUpscopePermission` (an authenticated user
    with the Django permission in ``required_permissions``); errors are
    ``{"error": code, "detail": text}`` whatever the project's ``EXCEPTION_HANDLER``.
    """

    permission_classes = [HasUpscopePermission]
    # Bounded in size and depth: DRF's JSONParser applies neither.
    parser_classes = [UpscopeJSONParser]
    required_permissions: dict[str, tuple[str, ...]] = {}
    if schema_class is not None:
        schema = schema_class()

    def get_exception_handler(self) -> Any:
        return api_exception_handler

    def actor(self) -> services.Actor:
        return services.actor_from_request(self.request, "api")


class PaginatedAPIView(UpscopeAPIView):
    """An endpoint listing the mirror, a page at a time."""

    pagination_class = UpscopePagination

    def paginated(self, request: Request, queryset: QuerySet, serializer_class: Any) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)


def _no_store(response: Response) -> Response:
    """A watch URL is a bearer secret: no cache keeps it, no Referer carries it."""
    add_never_cache_headers(response)
    response["Referrer-Policy"] = "no-referrer"
    return response


class VisitorListView(PaginatedAPIView):
    """Visitors: live from Upscope (refreshing the mirror) or from the mirror."""

    required_permissions = {"GET": (VIEW_VISITOR,)}

    @document(
        operation_id="visitors_list",
        summary="Search visitors (live) or list the mirror (source=local)",
        description="Live (default): Upscope's search, `search` as typed in Upscope's own "
        "search box (tokens such as `online`, `ip:…`, `#tag`); no search gives the latest "
        "visitors. The mirror is refreshed with what Upscope answered. The answer is one "
        "page. `source=local`: the mirror, searched with the same tokens (`search`) and "
        "filtered by `online`, `device_type`, `country` and `tag`, ordered by `ordering`, "
        "paginated; Upscope is not called.",
        parameters=[serializers.VisitorListQuerySerializer],
        paginated=True,
        responses={200: serializers.VisitorPageSerializer},
        errors=(400, 404, *UPSTREAM_ERRORS),
    )
    def get(self, request: Request) -> Response:
        query = serializers.VisitorListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        if params["source"] == "live":
            visitors = services.search_visitors(params.get("search") or None)
            results = serializers.VisitorSerializer(visitors, many=True).data
            return Response(
                {"count": len(results), "next": None, "previous": None, "results": results}
            )
        return self.paginated(request, self.local_queryset(params), serializers.VisitorSerializer)

    @staticmethod
    def local_queryset(params: dict[str, Any]) -> QuerySet[Visitor]:
        # Upscope's search syntax on the mirror (django_upscope.mirror.search).
        queryset = search.search(Visitor.objects.all(), params.get("search"))
        if params.get("online") is not None:
            queryset = queryset.filter(is_online=params["online"])
        if params.get("device_type"):
            queryset = queryset.filter(device_type__iexact=params["device_type"])
        if params.get("country"):
            queryset = queryset.filter(location_country__iexact=params["country"])
        if params.get("tag"):
            queryset = queryset.filter(tags_text__contains=f" {params['tag']} ")
        ordering = params["ordering"]
        field = F(ordering.lstrip("-"))
        order = (
            field.desc(nulls_last=True) if ordering.startswith("-") else field.asc(nulls_last=True)
        )
        return queryset.order_by(order, "short_id")


class VisitorDetailView(UpscopeAPIView):
    """One visitor: read live (refreshing the mirror) or delete."""

    required_permissions = {"GET": (VIEW_VISITOR,)}

    @document(
        operation_id="visitors_retrieve",
        summary="A visitor, live from Upscope (refreshes the mirror)",
        description="The visitor with its sessions; `with_history=true` adds its pageviews "
        "and screenshots (cloud only: 501 on-premise). The mirror row is refreshed; on 404 "
        "`visitor_not_found` it is kept and marked removed upstream.",
        short_id=True,
        parameters=[serializers.VisitorDetailQuerySerializer],
        responses={200: serializers.VisitorDetailSerializer},
        errors=(400, 404, 501, *UPSTREAM_ERRORS),
    )
    def get(self, request: Request, short_id: str) -> Response:
        query = serializers.VisitorDetailQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        visitor = services.get_visitor(short_id, with_history=query.validated_data["with_history"])
        return Response(serializers.VisitorDetailSerializer(visitor).data)

    @document(
        operation_id="visitors_destroy",
        summary="Delete a visitor in Upscope, then from the mirror",
        description="Needs `django_upscope.delete_visitor`. The mirror row goes only once "
        "Upscope confirmed. When Upscope has no such visitor the answer is 404 "
        "`visitor_not_found` (its stale mirror row is removed). Audited.",
        short_id=True,
        responses={204: (None, "Deleted in Upscope and locally.")},
        errors=ACTION_ERRORS,
    )
    def delete(self, request: Request, short_id: str) -> Response:
        result = services.delete_visitor(self.actor(), short_id)
        if result.already_gone:
            detail = (
                f"Upscope has no visitor {short_id} (deleted before); "
                f"removed {result.removed_locally} local row(s)."
            )
            return Response(
                error_body("visitor_not_found", detail), status=status.HTTP_404_NOT_FOUND
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


class WatchURLView(UpscopeAPIView):
    """Mint a watch URL for the requesting user."""

    @document(
        operation_id="visitors_watch_url_create",
        summary="Mint a watch URL for the requesting user",
        description="Needs `django_upscope.screenshare_visitor`. The agent is the "
        "requesting user; the session's permissions are the user's (see the README's "
        "matrix) and the optional `permissions` can only narrow them: a permission "
        "the user is not granted stays false (the answer shows what was sent). "
        "Throttled per user (scope `upscope_watch_url`, default 30/min). Audited; the "
        "answer is not cacheable.",
        short_id=True,
        request=serializers.WatchURLRequestSerializer,
        responses={201: serializers.WatchURLSerializer},
        errors=(*ACTION_ERRORS, 415, 429),
    )
    @method_decorator(sensitive_variables("share", "payload"))
    def post(self, request: Request, short_id: str) -> Response:
        body = serializers.WatchURLRequestSerializer(
            data=request.data, context={"request": request}
        )
        body.is_valid(raise_exception=True)
        data = body.validated_data
        share = services.start_screenshare(
            self.actor(),
            short_id,
            permissions=data.get("permissions"),
            metadata=data.get("metadata"),
            on_end_url=data.get("on_end_url"),
            retry_url=data.get("retry_url"),
        )
        payload = {
            "watch_url": str(share.watch_url),
            "permissions": share.permissions,
            "metadata": share.metadata,
        }
        return _no_store(Response(payload, status=status.HTTP_201_CREATED))

    def get_throttles(self) -> list[BaseThrottle]:
        return [*super().get_throttles(), WatchURLRateThrottle()]


class SessionStopView(UpscopeAPIView):
    """The visitor's active session."""

    @document(
        operation_id="visitors_session_destroy",
        summary="Stop the visitor's active session",
        description="Needs `django_upscope.screenshare_visitor`. Upscope confirms even "
        "when no session is active. Audited.",
        short_id=True,
        responses={204: (None, "Upscope confirmed the session is stopped.")},
        errors=ACTION_ERRORS,
    )
    def delete(self, request: Request, short_id: str) -> Response:
        services.stop_session(self.actor(), short_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PurgeView(UpscopeAPIView):
    """Every offline visitor."""

    @document(
        operation_id="visitors_purge_create",
        summary="Purge every offline visitor from Upscope",
        description=f"Needs `{PURGE}`. Upscope deletes them "
        "asynchronously (a few minutes). With a tasks backend that runs tasks later, a "
        "`reconcile_purge` check is queued for `PURGE_RECONCILE_DELAY` seconds on, and marks "
        "the visitors Upscope no longer has as gone from Upscope in the mirror; without one, "
        "`upscope_sync --prune` does. Audited.",
        request=None,
        responses={202: serializers.AcceptedSerializer},
        errors=(402, 501, *UPSTREAM_ERRORS),
    )
    def post(self, request: Request) -> Response:
        services.purge_offline_visitors(self.actor())
        tasks.follow_up_purge()
        return Response(
            {"status": "accepted", "detail": services.PURGE_DETAIL},
            status=status.HTTP_202_ACCEPTED,
        )


class UsageView(UpscopeAPIView):
    """Upscope's usage figures now (rolling windows); a GET stores nothing."""

    required_permissions = {"GET": (VIEW_USAGE,)}

    @document(
        operation_id="usage_retrieve",
        summary="Current usage from Upscope",
        description="Live from Upscope; nothing is stored. The snapshots of `usage/history/` "
        "come from `manage.py upscope_sync` and `upscope_usage_snapshot`.",
        responses={200: serializers.UsageSerializer},
        errors=(501, *UPSTREAM_ERRORS),
    )
    def get(self, request: Request) -> Response:
        return Response(serializers.UsageSerializer(services.get_usage(record=False)).data)


class UsageHistoryView(PaginatedAPIView):
    """The stored usage snapshots, newest first; ``since`` / ``until`` bound ``taken_at``."""

    required_permissions = {"GET": (VIEW_USAGE,)}

    @document(
        operation_id="usage_history_list",
        summary="Stored usage snapshots, newest first",
        parameters=[serializers.DateRangeQuerySerializer],
        paginated=True,
        responses={200: serializers.UsageSnapshotSerializer(many=True)},
        errors=(400, 404),
    )
    def get(self, request: Request) -> Response:
        query = serializers.DateRangeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        queryset = UsageSnapshot.objects.order_by("-taken_at", "-id")
        if params.get("since"):
            queryset = queryset.filter(taken_at__gte=params["since"])
        if params.get("until"):
            queryset = queryset.filter(taken_at__lt=params["until"])
        return self.paginated(request, queryset, serializers.UsageSnapshotSerializer)


class SessionListView(PaginatedAPIView):
    """The mirrored sessions, newest first."""

    required_permissions = {"GET": (VIEW_SESSION,)}

    @document(
        operation_id="sessions_list",
        summary="Mirrored sessions, newest first",
        description="Filter by visitor (`short_id`), agent (agent identifier: the Django "
        "user's pk for watch URLs minted here; or Upscope's agent id) and start date.",
        parameters=[serializers.SessionListQuerySerializer],
        paginated=True,
        responses={200: serializers.SessionSerializer(many=True)},
        errors=(400, 404),
    )
    def get(self, request: Request) -> Response:
        query = serializers.SessionListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        queryset = Session.objects.prefetch_related("agents").order_by(
            F("started_at").desc(nulls_last=True), "-id"
        )
        if params.get("visitor"):
            queryset = queryset.filter(visitor_id=params["visitor"])
        if params.get("agent"):
            agent = params["agent"]
            match = Q(agent_identifier=agent) | Q(key=agent)
            if agent.isdigit() and len(agent) <= 18:  # fits a BigIntegerField
                match |= Q(upscope_id=int(agent))
            queryset = queryset.filter(agents__in=Agent.objects.filter(match)).distinct()
        if params.get("since"):
            queryset = queryset.filter(started_at__gte=params["since"])
        if params.get("until"):
            queryset = queryset.filter(started_at__lt=params["until"])
        return self.paginated(request, queryset, serializers.SessionSerializer)
