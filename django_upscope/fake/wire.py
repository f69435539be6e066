"""What the fake does around each API request: credentials, the request log, faults."""

from __future__ import annotations

import json
import socket
import threading
from typing import Any

from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse

from ..conf import upscope_settings
from . import state
from .models import FakeFault, FakeRequest

SECRET_HEADERS = frozenset({"x-api-key", "authorization", "proxy-authorization", "cookie"})
FAKE_KEY_PREFIX = "fake_"
DEFAULT_ERROR_CODES = {
    401: "invalid_api_key",
    402: "subscription_limit",
    404: "not_found",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}
MAX_LOGGED_BODY = 10_000


def error(status: int, code: str, **headers: str) -> JsonResponse:
    """Upscope's error body: ``{"status": "error", "error": code}``."""
    response = JsonResponse({"status": "error", "error": code}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def judge_credentials(request: HttpRequest, api: str) -> str:
    """``valid``, ``missing``, ``invalid`` or a 401 code; never keeps the secret.

    Cloud: ``X-Api-Key`` must start with ``fake_``; a few ``fake_...`` keys select
    401 codes (see :data:`state.CLOUD_AUTH_ERROR_KEYS`). On-premise:
    ``Authorization`` must equal ``UPSCOPE["FAKE_REST_KEY"]``, which itself must
    start with ``fake_``. A real-looking key is never accepted.
    """
    if api == "onprem":
        given = request.headers.get("Authorization")
        if not given:
            return "missing"
        expected = str(upscope_settings.FAKE_REST_KEY or "")
        ok = expected.startswith(FAKE_KEY_PREFIX) and given == expected
        return "valid" if ok else "invalid"
    key = request.headers.get("X-Api-Key")
    if not key:
        return "missing"
    if key in state.CLOUD_AUTH_ERROR_KEYS:
        return state.CLOUD_AUTH_ERROR_KEYS[key]
    return "valid" if key.startswith(FAKE_KEY_PREFIX) else "invalid"


def record(request: HttpRequest, endpoint: str, credentials: str, status: int) -> FakeRequest:
    """Log the request: method, path, query, headers (secrets redacted), JSON body, status."""
    headers = {
        name: ("[redacted]" if name.lower() in SECRET_HEADERS else value)
        for name, value in request.headers.items()
        # WSGI servers fill CONTENT_TYPE/CONTENT_LENGTH in even when no body was sent.
        if request.body or name.lower() not in ("content-type", "content-length")
    }
    query = {
        name: values[0] if len(values) == 1 else values for name, values in request.GET.lists()
    }
    body_json: Any = None
    body_text = ""
    if request.body:
        text = request.body.decode("utf-8", errors="replace")
        try:
            body_json = json.loads(text)
        except ValueError:
            body_text = text[:MAX_LOGGED_BODY]
    return FakeRequest.objects.create(
        received_at=state.now(),
        endpoint=endpoint,
        method=request.method or "",
        path=request.path,
        query=query,
        headers=headers,
        json_body=body_json,
        body_text=body_text,
        credentials=credentials,
        status=status,
    )


def fault_response(fault: FakeFault) -> HttpResponse | None:
    """The response a fault answers with, or None when it only delays or drops."""
    if fault.status is None and fault.body is None:
        return None
    status = fault.status or 200
    if fault.body is not None:
        content_type = fault.content_type or (
            "text/html; charset=utf-8"
            if fault.body.lstrip().startswith("<")
            else "application/json"
        )
        response = HttpResponse(fault.body, status=status, content_type=content_type)
    else:
        code = fault.code or DEFAULT_ERROR_CODES.get(status, f"http_{status}")
        response = error(status, code)
        if fault.content_type:
            response["Content-Type"] = fault.content_type
    if fault.retry_after:
        response["Retry-After"] = fault.retry_after
    return response


# Requests held back by a delay, or whose connection was dropped, can outlive
# the client that gave up on them. Tests call settle() so that no server thread
# is still finishing one (and touching the database) after the test has ended.
_wake = threading.Event()
_settling = threading.Condition()
_unfinished: set[int] = set()


def linger() -> None:
    """Mark this server thread's request as one that may outlive its client."""
    with _settling:
        _unfinished.add(threading.get_ident())


def pause(seconds: float | None) -> None:
    """Hold the answer back (a fault's delay). Runs in the server's thread, not a test's."""
    if seconds:
        _wake.wait(seconds)


@receiver(request_finished, dispatch_uid="upscope_fake_request_finished")
def _request_finished(**kwargs: Any) -> None:
    # Connected after Django's close_old_connections, so it runs after it.
    with _settling:
        if threading.get_ident() in _unfinished:
            _unfinished.discard(threading.get_ident())
            _settling.notify_all()


def settle(timeout: float = 5.0) -> bool:
    """Cut injected delays short and wait until the requests they held have finished.

    Returns False if some were still running after ``timeout`` seconds.
    """
    _wake.set()
    try:
        with _settling:
            return _settling.wait_for(lambda: not _unfinished, timeout)
    finally:
        _wake.clear()


def client_socket(request: HttpRequest) -> socket.socket | None:
    """The client's socket under Django's dev server, ``live_server`` or gunicorn.

    WSGI gives no portable way to drop a connection, so the fake finds the
    socket behind ``wsgi.input`` (Django's ``LimitedStream`` keeps the bound
    ``read`` of the socket file) or gunicorn's ``gunicorn.socket``.
    """
    environ = request.META
    candidate = environ.get("gunicorn.socket")
    if isinstance(candidate, socket.socket):
        return candidate
    stream: Any = environ.get("wsgi.input")
    for _ in range(8):
        if stream is None:
            return None
        if isinstance(stream, socket.socket):
            return stream
        inner = getattr(stream, "_sock", None)
        if isinstance(inner, socket.socket):
            return inner
        nxt = getattr(stream, "raw", None) or getattr(stream, "stream", None)
        if nxt is None:
            nxt = getattr(getattr(stream, "_read", None), "__self__", None)
        stream = nxt
    return None


PARTIAL_ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n"
    b'{"status": "ok", "visi'
)


def drop_connection(request: HttpRequest, mode: str) -> HttpResponse:
    """Close the client's connection: before any byte, or part way through an answer.

    The server's own attempt to answer afterwards meets a closed socket, which
    WSGI servers treat as a client that went away.
    """
    sock = client_socket(request)
    if sock is None:
        return error(500, "drop_not_supported_by_this_server")
    linger()
    try:
        if mode == "partial":
            sock.sendall(PARTIAL_ANSWER)
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    return HttpResponse(b"", status=200)
