"""The fake's HTTP side: both REST APIs and the watch page.

The APIs are Upscope's cloud v1.1 and on-premise REST APIs (``docs/upscope-api.md``,
"Cloud endpoints (v1.1)" and "On-premise endpoints"); what they accept comes from
:mod:`django_upscope.fake.spec`, the fake's own statement of Upscope's documents.

Every view answers 404 unless ``upscope_settings.fake_enabled``. API views log
the request, apply injected faults, check credentials, then serve from the
fake's tables (see :mod:`django_upscope.fake.state`).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt

from ..conf import upscope_settings
from . import sdk, state, wire
from .models import FakeVisitor
from .payloads import fake_visitor_payload
from .search import search
from .spec import BRANDING_KEYS, INVALID_API_KEY, PERMISSION_KEYS

Handler = Callable[..., HttpResponse]
Routes = dict[str, tuple[str, Handler]]

PERMISSION_LABELS = {
    "allow_click": "Remote click",
    "allow_type": "Remote typing",
    "allow_scroll": "Remote scroll",
    "allow_draw": "Drawing",
    "allow_audio": "Audio",
    "allow_agent_redirect": "Redirect and reload",
    "allow_console": "Remote console",
}
FRAME_ANCESTORS = "'self' http://127.0.0.1:* http://localhost:*"


def _require_enabled() -> None:
    if not upscope_settings.fake_enabled:
        raise Http404("The embedded fake Upscope is not enabled.")


def _serve(request: HttpRequest, api: str, routes: Routes, **kwargs: Any) -> HttpResponse:
    """Apply faults, check credentials, run the handler for the method, then log once."""
    _require_enabled()
    state.run_due_purges()
    sdk.expire_silent_visitors()  # visitors of the stand-in loader whose page closed
    credentials = wire.judge_credentials(request, api)
    route = routes.get(request.method or "")
    if route is None:
        response: HttpResponse = wire.error(405, "method_not_allowed", Allow=", ".join(routes))
        wire.record(request, "", credentials, response.status_code)
        return response
    endpoint, handler = route
    fault = state.take_fault(endpoint)
    if fault is not None and fault.delay:
        wire.linger()
    if fault is not None and fault.drop:
        wire.record(request, endpoint, credentials, 0)
        wire.pause(fault.delay)
        return wire.drop_connection(request, fault.drop)
    faulty = wire.fault_response(fault) if fault is not None else None
    if faulty is not None:
        response = faulty
    elif credentials != "valid":
        code = credentials if credentials in state.CLOUD_AUTH_ERROR_KEYS.values() else None
        response = wire.error(401, code or INVALID_API_KEY)
    else:
        response = handler(request, **kwargs)
    response["Cache-Control"] = "no-store"
    # One write per request: the log row carries the status it was answered with.
    wire.record(request, endpoint, credentials, response.status_code)
    # The answer is complete before the delay, so nothing touches the database
    # after a client that timed out has moved on.
    wire.pause(fault.delay if fault is not None else None)
    return response


def _visitor_or_none(short_id: str) -> FakeVisitor | None:
    return FakeVisitor.objects.filter(pk=short_id).first()


def _not_found() -> JsonResponse:
    return wire.error(404, "not_found")


def _visitors(query: str | None, *, online_only: bool = False) -> JsonResponse:
    moment = state.now()
    visitors = [
        fake_visitor_payload(v, moment, sessions=v.sessions.all())
        for v in search(query, online_only=online_only)
    ]
    return JsonResponse({"status": "ok", "visitors": visitors})


# -- cloud v1.1 handlers ------------------------------------------------------


def _usage(request: HttpRequest) -> HttpResponse:
    # Upscope's usage example has no "status" key ("Cloud endpoints (v1.1)").
    return JsonResponse({"usage": state.usage()})


def _list(request: HttpRequest) -> HttpResponse:
    return _visitors(request.GET.get("search"))


def _visitor_get(request: HttpRequest, short_id: str) -> HttpResponse:
    visitor = _visitor_or_none(short_id)
    if visitor is None:
        return _not_found()
    with_history = request.GET.get("with_history", "").lower() in ("true", "1")
    payload = fake_visitor_payload(visitor, state.now(), with_history=with_history)
    return JsonResponse({"status": "ok", "visitor": payload})


def _visitor_delete(request: HttpRequest, short_id: str) -> HttpResponse:
    if not state.delete_visitor(short_id):
        return _not_found()
    return JsonResponse({"status": "ok"})


def _purge(request: HttpRequest) -> HttpResponse:
    if request.GET.get("all") != "true":
        return wire.error(400, "all_parameter_required")
    state.schedule_purge()
    return JsonResponse({"status": "ok"})


def _http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and value.isprintable()


def _watch_request(body: Any) -> tuple[dict[str, Any], str | None]:
    """Check a watch_url body; return it cleaned, or an error code."""
    if not isinstance(body, dict):
        return {}, "invalid_json"
    agent = body.get("agent")
    if not isinstance(agent, dict):
        return {}, "agent_required"
    agent_id, agent_name = agent.get("id"), agent.get("name")
    if isinstance(agent_id, bool) or not isinstance(agent_id, (str, int)) or agent_id == "":
        return {}, "agent_id_required"
    if not isinstance(agent_name, str) or not agent_name.strip():
        return {}, "agent_name_required"
    branding = body.get("branding") or {}
    permissions = body.get("permissions") or {}
    metadata = body.get("metadata") or {}
    if not isinstance(branding, dict) or any(k not in BRANDING_KEYS for k in branding):
        return {}, "invalid_branding"
    for key in ("retry_url", "on_end_url"):
        if branding.get(key) is not None and not _http_url(branding[key]):
            return {}, "invalid_branding"
    if not isinstance(permissions, dict) or any(
        k not in PERMISSION_KEYS or not isinstance(v, bool) for k, v in permissions.items()
    ):
        return {}, "invalid_permissions"
    if not isinstance(metadata, dict) or any(
        not isinstance(v, (str, int, float, bool)) for v in metadata.values()
    ):
        return {}, "invalid_metadata"
    cleaned = {
        "agent_id": str(agent_id),
        "agent_name": agent_name,
        "branding": branding,
        "permissions": permissions,
        "metadata": metadata,
    }
    return cleaned, None


def _watch_url(request: HttpRequest, short_id: str) -> HttpResponse:
    visitor = _visitor_or_none(short_id)
    if visitor is None:
        return _not_found()
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        return wire.error(400, "invalid_json")
    cleaned, problem = _watch_request(body)
    if problem:
        return wire.error(400, problem)
    try:
        _session, token = state.start_session(visitor, **cleaned)
    except state.SessionLimitReached:
        return wire.error(402, "subscription_limit")
    url = request.build_absolute_uri(reverse("upscope_fake:watch", args=[token]))
    # The documented success body is {"watch_url": ...} alone ("Cloud endpoints (v1.1)").
    return JsonResponse({"watch_url": url})


def _stop_session(request: HttpRequest, short_id: str) -> HttpResponse:
    visitor = _visitor_or_none(short_id)
    if visitor is None:
        return _not_found()
    state.stop_session(visitor)
    # Plain "ok", even when no session was active ("Cloud endpoints (v1.1)").
    return HttpResponse("ok", content_type="text/plain")


# -- on-premise handlers --------------------------------------------------------


def _onprem_latest(request: HttpRequest) -> HttpResponse:
    # "The latest online visitors" ("On-premise endpoints").
    return _visitors(None, online_only=True)


def _onprem_search(request: HttpRequest) -> HttpResponse:
    return _visitors(request.GET.get("q"))


def _onprem_visitor(request: HttpRequest, short_id: str) -> HttpResponse:
    visitor = _visitor_or_none(short_id)
    if visitor is None:
        return _not_found()
    return JsonResponse({"status": "ok", "visitor": fake_visitor_payload(visitor, state.now())})


# -- the URL views ----------------------------------------------------------------


@csrf_exempt
def usage(request: HttpRequest) -> HttpResponse:
    """``GET v1.1/usage.json``."""
    return _serve(request, "cloud", {"GET": ("usage", _usage)})


@csrf_exempt
def visitor_list(request: HttpRequest) -> HttpResponse:
    """``GET v1.1/list.json?search=QUERY``."""
    return _serve(request, "cloud", {"GET": ("list", _list)})


@csrf_exempt
def visitors(request: HttpRequest) -> HttpResponse:
    """``DELETE v1.1/visitors.json?all=true``: purge offline visitors (after a delay)."""
    return _serve(request, "cloud", {"DELETE": ("purge", _purge)})


@csrf_exempt
def visitor(request: HttpRequest, short_id: str) -> HttpResponse:
    """``GET`` / ``DELETE v1.1/visitors/:short_id.json``."""
    routes: Routes = {
        "GET": ("visitor_get", _visitor_get),
        "DELETE": ("visitor_delete", _visitor_delete),
    }
    return _serve(request, "cloud", routes, short_id=short_id)


@csrf_exempt
def watch_url(request: HttpRequest, short_id: str) -> HttpResponse:
    """``POST v1.1/visitors/:short_id/watch_url.json``: start a session, mint a watch URL."""
    return _serve(request, "cloud", {"POST": ("watch_url", _watch_url)}, short_id=short_id)


@csrf_exempt
def visitor_session(request: HttpRequest, short_id: str) -> HttpResponse:
    """``DELETE v1.1/visitors/:short_id/session``: stop the active session."""
    return _serve(request, "cloud", {"DELETE": ("stop_session", _stop_session)}, short_id=short_id)


@csrf_exempt
def onprem_latest(request: HttpRequest) -> HttpResponse:
    """``GET onprem/api/visitors/list/latest``."""
    return _serve(request, "onprem", {"GET": ("onprem_latest", _onprem_latest)})


@csrf_exempt
def onprem_search(request: HttpRequest) -> HttpResponse:
    """``GET onprem/api/visitors/list/search?q=QUERY``."""
    return _serve(request, "onprem", {"GET": ("onprem_search", _onprem_search)})


@csrf_exempt
def onprem_visitor(request: HttpRequest, short_id: str) -> HttpResponse:
    """``GET onprem/api/visitors/{visitor_id}``."""
    return _serve(
        request, "onprem", {"GET": ("onprem_visitor", _onprem_visitor)}, short_id=short_id
    )


@csrf_exempt
def api_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other path under the fake's APIs: a JSON 404, as an API would answer."""
    _require_enabled()
    return wire.error(404, "not_found")


def index(request: HttpRequest) -> HttpResponse:
    """A page saying what this is, with the fake's endpoints and counts."""
    _require_enabled()
    base = request.build_absolute_uri(reverse("upscope_fake:index")).rstrip("/")
    context = {
        "cloud_url": f"{base}/v1.1",
        "onprem_endpoint": f"{base}/onprem",
        "visitor_count": FakeVisitor.objects.count(),
        "online_count": FakeVisitor.objects.filter(is_online=True).count(),
        "session_count": state.active_session_count(),
    }
    return render(request, "upscope_fake/index.html", context)


# -- the watch page ---------------------------------------------------------------


def _watch_headers(response: HttpResponse, nonce: str | None = None) -> HttpResponse:
    # The path holds the watch token: keep 404/410 answers out of the
    # django.request log (Django's own flag for "already logged").
    response._has_been_logged = True  # type: ignore[attr-defined]
    script = f"'nonce-{nonce}'" if nonce else "'none'"
    response["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'unsafe-inline'; script-src {script}; "
        f"connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
        f"frame-ancestors {FRAME_ANCESTORS}"
    )
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@xframe_options_exempt
def watch(request: HttpRequest, token: str) -> HttpResponse:
    """The page a watch URL opens: a simulated visitor screen, embeddable in an iframe."""
    _require_enabled()
    if request.method not in ("GET", "HEAD"):
        return _watch_headers(wire.error(405, "method_not_allowed", Allow="GET"))
    minted = state.watch_token(token)
    if minted is None:
        page = render(request, "upscope_fake/watch_gone.html", {"reason": "unknown"}, status=404)
        return _watch_headers(page)
    session = minted.session
    status = state.session_status(session)
    branding = minted.branding or {}
    if status == "ended":
        context = {"reason": "ended", "on_end_url": branding.get("on_end_url")}
        return _watch_headers(render(request, "upscope_fake/watch_gone.html", context, status=410))
    visitor = session.visitor
    nonce = secrets.token_urlsafe(16)
    permissions = [
        {"key": key, "label": label, "granted": bool(minted.permissions.get(key))}
        for key, label in PERMISSION_LABELS.items()
    ]
    naked = branding.get("naked")
    config = {
        "statusUrl": reverse("upscope_fake:watch_status", args=[token]),
        "status": status,
        "onEndUrl": branding.get("on_end_url"),
        "visitor": {"shortId": visitor.short_id, "online": visitor.is_online},
        "agent": {"name": minted.agent.name, "id": minted.agent.agent_identifier},
        "permissions": {p["key"]: p["granted"] for p in permissions},
        "pollInterval": 1000,
    }
    context = {
        "nonce": nonce,
        "config": config,
        "status": status,
        "visitor": visitor,
        "visitor_name": (visitor.identities or [None])[0] or visitor.unique_id or visitor.short_id,
        "agent": minted.agent,
        "permissions": permissions,
        "show_logo": not naked,
        "page_only": naked == "page_only",
        "show_bottom_bar": not branding.get("no_bottom_bar") and naked != "page_only",
        "retry_url": branding.get("retry_url"),
    }
    return _watch_headers(render(request, "upscope_fake/watch.html", context), nonce)


def watch_status(request: HttpRequest, token: str) -> HttpResponse:
    """``GET watch/<token>/status.json``: the session's state, polled by the watch page."""
    _require_enabled()
    minted = state.watch_token(token)
    if minted is None:
        return _watch_headers(wire.error(404, "not_found"))
    session = minted.session
    payload = {
        "status": state.session_status(session),
        "visitor_online": session.visitor.is_online,
        "went_live": session.went_live,
    }
    return _watch_headers(JsonResponse(payload))
