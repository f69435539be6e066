"""DRF endpoints (needs djangorestframework: ``pip install django-upscope[drf]``).

Mounted by :mod:`django_upscope.urls` under ``api/``; URL names live in the
``django_upscope:api`` namespace. A ``short_id`` that is not 1-128 letters, digits,
``-`` or ``_`` matches no route, and everything under ``api/`` that no route
matches answers a JSON 404, without any call to Upscope.
"""

from django.urls import path, re_path

from ..vocabulary import SHORT_ID_RE
from . import lookup, root, views
from ._spectacular import HAS_SPECTACULAR
from .exceptions import not_found_view

app_name = "api"

SHORT_ID = rf"(?P<short_id>{SHORT_ID_RE.pattern})"

urlpatterns = [
    path("visitors/", views.VisitorListView.as_view(), name="visitor-list"),
    # Before the short_id routes: "purge" would match the short_id pattern.
    path("visitors/purge/", views.PurgeView.as_view(), name="visitor-purge"),
    re_path(rf"^visitors/{SHORT_ID}/$", views.VisitorDetailView.as_view(), name="visitor-detail"),
    re_path(
        rf"^visitors/{SHORT_ID}/watch-url/$", views.WatchURLView.as_view(), name="visitor-watch-url"
    ),
    re_path(
        rf"^visitors/{SHORT_ID}/session/$", views.SessionStopView.as_view(), name="visitor-session"
    ),
    path("usage/", views.UsageView.as_view(), name="usage"),
    path("usage/history/", views.UsageHistoryView.as_view(), name="usage-history"),
    path("sessions/", views.SessionListView.as_view(), name="session-list"),
    # The agent's lookups of a customer's visitors (api/lookup.py).
    path("lookup/users/<str:user_id>/", lookup.UserVisitorsView.as_view(), name="lookup-user"),
    re_path(
        r"^lookup/code/(?P<code>[0-9]{4})/$", lookup.LookupCodeView.as_view(), name="lookup-code"
    ),
]

urlpatterns.insert(0, path("", root.APIRootView.as_view(), name="api-root"))
urlpatterns.insert(1, path("server/", root.ServerView.as_view(), name="server"))

if HAS_SPECTACULAR:
    from . import openapi

    urlpatterns.append(path("schema/", openapi.UpscopeSchemaView.as_view(), name="schema"))
    if openapi.HAS_SIDECAR:
        urlpatterns += [
            path(
                "schema/swagger-ui/",
                openapi.UpscopeSwaggerView.as_view(),
                name="schema-swagger-ui",
            ),
            path("schema/redoc/", openapi.UpscopeRedocView.as_view(), name="schema-redoc"),
        ]

# Last: a JSON 404 for the rest of api/ (paths without a trailing slash still get
# APPEND_SLASH's redirect first).
urlpatterns.append(re_path(r"^(?:.*/)?$", not_found_view, name="not-found"))
