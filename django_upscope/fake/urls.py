"""Mount with ``path("__upscope__/", include("django_upscope.fake.urls"))``.

Cloud v1.1 is served under ``v1.1/`` (``API_URL = <mount>/v1.1``) and the
on-premise API under ``onprem/api/`` (``BASE_ENDPOINT = <mount>/onprem``).
"""

from django.urls import path, re_path

from . import sdk, views

app_name = "upscope_fake"

SHORT_ID = r"(?P<short_id>[^/]+)"

urlpatterns = [
    path("", views.index, name="index"),
    # Cloud REST API v1.1 (docs/upscope-api.md, "Cloud endpoints (v1.1)").
    re_path(r"^v1\.1/usage\.json$", views.usage, name="usage"),
    re_path(r"^v1\.1/list\.json$", views.visitor_list, name="list"),
    re_path(r"^v1\.1/visitors\.json$", views.visitors, name="visitors"),
    re_path(rf"^v1\.1/visitors/{SHORT_ID}/watch_url\.json$", views.watch_url, name="watch_url"),
    re_path(rf"^v1\.1/visitors/{SHORT_ID}/session$", views.visitor_session, name="session"),
    re_path(rf"^v1\.1/visitors/{SHORT_ID}\.json$", views.visitor, name="visitor"),
    re_path(r"^v1\.1/(?P<rest>.*)$", views.api_not_found),
    # On-premise REST API under BASE_ENDPOINT/api (docs/upscope-api.md, "On-premise endpoints").
    path("onprem/api/visitors/list/latest", views.onprem_latest, name="onprem_latest"),
    path("onprem/api/visitors/list/search", views.onprem_search, name="onprem_search"),
    re_path(rf"^onprem/api/visitors/{SHORT_ID}$", views.onprem_visitor, name="onprem_visitor"),
    re_path(r"^onprem/(?P<rest>.*)$", views.api_not_found),
    # The page a minted watch URL opens, and the status it polls.
    path("watch/<str:token>", views.watch, name="watch"),
    path("watch/<str:token>/status.json", views.watch_status, name="watch_status"),
    # The stand-in loader of the visitor side, and its endpoints (fake/sdk.py).
    path("sdk/loader.js", sdk.loader, name="sdk_loader"),
    path("sdk/register", sdk.register_view, name="sdk_register"),
    path("sdk/heartbeat", sdk.heartbeat_view, name="sdk_heartbeat"),
    path("sdk/leave", sdk.leave_view, name="sdk_leave"),
]
