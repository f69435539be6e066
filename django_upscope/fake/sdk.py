"""The visitor side of the fake: a stand-in for the loader of Upscope's installation code.

``sdk/loader.js`` is what ``UPSCOPE["SNIPPET_URL"]`` points at in the demo. On
``Upscope('init', {...})`` it registers the page's visitor with the fake
(``sdk/register``: the public key, and ``uniqueId``, ``identities``, ``tags``,
``integrationIds`` as sent), keeps it online with heartbeats while the page is open
(``sdk/heartbeat``, a bounded number of them), marks it offline when the page goes
(``sdk/leave``), and answers ``Upscope('getLookupCode', callback)`` with the visitor's
four-digit lookup code. A visitor whose heartbeats stop goes offline after
:data:`SILENCE_SECONDS` of the fake's clock (:func:`expire_silent_visitors`).

These endpoints are the fake's own, not Upscope's API (docs/upscope-api.md, "The visitor
side: the JavaScript SDK" documents only the page's calls). Like Upscope's, they take the
*public* key and no cookie.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from typing import Any

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from ..conf import upscope_settings
from . import state, wire
from .models import FakeSdkConnection, FakeVisitor

#: Seconds between two heartbeats of an open page.
HEARTBEAT_SECONDS = 5
#: Heartbeats a page sends at most (an hour), so a forgotten tab does not run forever.
MAX_HEARTBEATS = 720
#: Seconds without a heartbeat after which the visitor is offline.
SILENCE_SECONDS = 15

# The fake's own statement of the SDK's rules (docs/upscope-api.md, "The visitor side:
# the JavaScript SDK"), independent of django_upscope.vocabulary.
TAG = re.compile(r"^#[A-Za-z-]+$")
INTEGRATION_ID = re.compile(r"^([a-z]{3,}):(.+)$")
PUBLIC_KEY = re.compile(r"^fake_[A-Za-z0-9_]{1,59}$")
IDENTITY_FIELDS = ("uniqueId", "identities", "tags", "integrationIds")


def expire_silent_visitors() -> int:
    """Take offline the SDK visitors whose page stopped sending heartbeats."""
    cutoff = state.now() - dt.timedelta(seconds=SILENCE_SECONDS)
    return FakeVisitor.objects.filter(
        is_online=True, sdk_connection__heartbeat_at__lt=cutoff
    ).update(is_online=False)


def _strings(value: Any, rule: re.Pattern[str] | None = None) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        return None
    if rule is not None and not all(rule.fullmatch(item) for item in value):
        return None
    return value


def identity_fields(body: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The visitor columns the body sets (``null`` clears, absent leaves), or an error code."""
    fields: dict[str, Any] = {}
    if "uniqueId" in body:
        value = body["uniqueId"]
        if value is not None and (not isinstance(value, str) or not value):
            return {}, "invalid_unique_id"
        fields["unique_id"] = value
    if "identities" in body:
        value = body["identities"]
        if value is not None and _strings(value) is None:
            return {}, "invalid_identities"
        fields["identities"] = value
    if "tags" in body:
        value = body["tags"]
        if value is not None and _strings(value, TAG) is None:
            return {}, "invalid_tags"
        fields["tags"] = list(value or [])
    if "integrationIds" in body:
        value = body["integrationIds"]
        if value is not None and _strings(value, INTEGRATION_ID) is None:
            return {}, "invalid_integration_ids"
        pairs = (INTEGRATION_ID.fullmatch(item) for item in value or [])
        fields["integration_ids"] = {m.group(1): m.group(2) for m in pairs if m}
    return fields, None


def new_lookup_code() -> str:
    """A four-digit code no online visitor has."""
    taken = set(
        FakeVisitor.objects.filter(is_online=True, lookup_code__isnull=False).values_list(
            "lookup_code", flat=True
        )
    )
    for _attempt in range(50):
        code = f"{secrets.randbelow(10_000):04d}"
        if code not in taken:
            return code
    return f"{secrets.randbelow(10_000):04d}"


def register(body: dict[str, Any], fields: dict[str, Any], user_agent: str) -> FakeVisitor:
    """Create or reconnect the page's visitor, online now, with a lookup code."""
    moment = state.now()
    with transaction.atomic():
        visitor_id = body.get("visitorId")
        visitor = None
        if isinstance(visitor_id, str) and visitor_id:
            visitor = FakeVisitor.objects.select_for_update().filter(pk=visitor_id).first()
        if visitor is None:
            visitor = state.create_visitor(
                api_key=body["apiKey"],
                js_configuration=True,
                browser_name=_browser(user_agent),
                lookup_code=new_lookup_code(),
                **fields,
            )
        else:
            for name, value in fields.items():
                setattr(visitor, name, value)
            visitor.lookup_code = visitor.lookup_code or new_lookup_code()
        visitor.is_online = True
        visitor.last_seen_at = moment
        url = body.get("url")
        if isinstance(url, str) and url.startswith(("http://", "https://")):
            visitor.last_url = url[:2000]
        visitor.save()
        FakeSdkConnection.objects.update_or_create(
            visitor=visitor, defaults={"heartbeat_at": moment}
        )
    return visitor


def _browser(user_agent: str) -> str:
    match = re.search(r"(Chrome|Firefox|Safari)/(\d+)", user_agent or "")
    return f"{match.group(1)} {match.group(2)}" if match else "Browser"


def _body(request: HttpRequest) -> dict[str, Any] | None:
    # sendBeacon posts text/plain: the body is read as JSON whatever its content type.
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        return None
    if not isinstance(body, dict) or not PUBLIC_KEY.fullmatch(str(body.get("apiKey") or "")):
        return None
    return body


def _require_enabled() -> None:
    if not upscope_settings.fake_enabled:
        raise Http404("The embedded fake Upscope is not enabled.")


# -- views ---------------------------------------------------------------------


@require_GET
def loader(request: HttpRequest) -> HttpResponse:
    """``sdk/loader.js``: the stand-in loader (plain JavaScript, no inline code needed)."""
    _require_enabled()
    config = {
        "registerUrl": request.build_absolute_uri(reverse("upscope_fake:sdk_register")),
        "heartbeatUrl": request.build_absolute_uri(reverse("upscope_fake:sdk_heartbeat")),
        "leaveUrl": request.build_absolute_uri(reverse("upscope_fake:sdk_leave")),
    }
    script = render_to_string("upscope_fake/sdk_loader.js", {"config": json.dumps(config)})
    response = HttpResponse(script, content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
@require_POST
def register_view(request: HttpRequest) -> HttpResponse:
    """``sdk/register``: ``init`` / ``updateConnection`` of a page."""
    _require_enabled()
    body = _body(request)
    if body is None:
        return wire.error(401, "invalid_api_key")
    fields, problem = identity_fields(body)
    if problem:
        return wire.error(400, problem)
    visitor = register(body, fields, request.headers.get("User-Agent", ""))
    return JsonResponse(
        {
            "status": "ok",
            "visitorId": visitor.short_id,
            "lookupCode": visitor.lookup_code,
            "heartbeatSeconds": HEARTBEAT_SECONDS,
            "maxHeartbeats": MAX_HEARTBEATS,
        }
    )


def _touch(request: HttpRequest, online: bool) -> HttpResponse:
    _require_enabled()
    body = _body(request)
    if body is None:
        return wire.error(401, "invalid_api_key")
    visitor = FakeVisitor.objects.filter(pk=str(body.get("visitorId") or "")).first()
    if visitor is None:
        return wire.error(404, "not_found")
    moment = state.now()
    visitor.is_online = online
    visitor.last_seen_at = moment
    visitor.save(update_fields=["is_online", "last_seen_at"])
    FakeSdkConnection.objects.update_or_create(visitor=visitor, defaults={"heartbeat_at": moment})
    return JsonResponse({"status": "ok"})


@csrf_exempt
@require_POST
def heartbeat_view(request: HttpRequest) -> HttpResponse:
    """``sdk/heartbeat``: the page is still open."""
    return _touch(request, online=True)


@csrf_exempt
@require_POST
def leave_view(request: HttpRequest) -> HttpResponse:
    """``sdk/leave``: the page is gone (``pagehide``)."""
    return _touch(request, online=False)
