"""Users, surfaces and log capture for the security checks.

A *surface* is one way a person reaches Upscope through this app: the admin's
screen-share page, stop view, actions, purge and usage pages, and every DRF
endpoint. The tests drive each one as different people and read the fake's
request log to see whether anything reached "Upscope".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.util import find_spec
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.urls import reverse

from django_upscope.testing.factories import VisitorFactory

HAS_DRF = find_spec("rest_framework") is not None
SHORT_ID = "SEC0VISITOR"


def all_codenames() -> list[str]:
    """Every permission of the django_upscope app (for ``make_user``)."""
    return list(
        Permission.objects.filter(content_type__app_label="django_upscope").values_list(
            "codename", flat=True
        )
    )


@dataclass(frozen=True)
class Surface:
    name: str
    kind: str  # "admin" (form posts, pages) or "api" (JSON)
    method: str
    path: Callable[[str], str]
    data: dict[str, Any] = field(default_factory=dict)
    upstream: bool = True  # a privileged user's call reaches Upscope
    state_changing: bool = False

    def __repr__(self) -> str:
        return self.name


def _changelist(_sid: str) -> str:
    return reverse("admin:django_upscope_visitor_changelist")


def _api(name: str, with_id: bool = False) -> Callable[[str], str]:
    def build(sid: str) -> str:
        args = [sid] if with_id else []
        return reverse(f"django_upscope:api:{name}", args=args)

    return build


ADMIN_SURFACES = [
    Surface(
        "admin screen-share page",
        "admin",
        "GET",
        lambda sid: reverse("admin:django_upscope_visitor_screenshare", args=[sid]),
    ),
    Surface(
        "admin screen-share confirmation",
        "admin",
        "POST",
        lambda sid: reverse("admin:django_upscope_visitor_screenshare", args=[sid]),
        state_changing=True,
    ),
    Surface(
        "admin stop view",
        "admin",
        "POST",
        lambda sid: reverse("admin:django_upscope_visitor_stop_session", args=[sid]),
        state_changing=True,
    ),
    Surface(
        "admin action delete",
        "admin",
        "POST",
        _changelist,
        {"action": "delete_visitors", "_selected_action": SHORT_ID, "post": "yes"},
        state_changing=True,
    ),
    Surface(
        "admin action refresh",
        "admin",
        "POST",
        _changelist,
        {"action": "refresh_visitors", "_selected_action": SHORT_ID},
        state_changing=True,
    ),
    Surface(
        "admin action stop",
        "admin",
        "POST",
        _changelist,
        {"action": "stop_sessions", "_selected_action": SHORT_ID, "post": "yes"},
        state_changing=True,
    ),
    Surface(
        "admin purge page",
        "admin",
        "POST",
        lambda _sid: reverse("admin:django_upscope_visitor_purge"),
        {"post": "yes"},
        state_changing=True,
    ),
    Surface(
        "admin usage page",
        "admin",
        "GET",
        lambda _sid: reverse("admin:django_upscope_usage"),
    ),
]

API_SURFACES = [
    Surface("api visitors live", "api", "GET", _api("visitor-list")),
    Surface("api visitor detail", "api", "GET", _api("visitor-detail", True)),
    Surface(
        "api visitor delete", "api", "DELETE", _api("visitor-detail", True), state_changing=True
    ),
    Surface("api watch url", "api", "POST", _api("visitor-watch-url", True), state_changing=True),
    Surface(
        "api session stop", "api", "DELETE", _api("visitor-session", True), state_changing=True
    ),
    Surface("api purge", "api", "POST", _api("visitor-purge"), state_changing=True),
    Surface("api usage", "api", "GET", _api("usage")),
    Surface("api usage history", "api", "GET", _api("usage-history"), upstream=False),
    Surface("api sessions", "api", "GET", _api("session-list"), upstream=False),
]


def params(surfaces: list[Surface]) -> list[Any]:
    """pytest params: API surfaces carry the ``drf`` mark (left out without DRF)."""
    return [
        pytest.param(s, id=s.name, marks=[pytest.mark.drf] if s.kind == "api" else [])
        for s in surfaces
        if s.kind == "admin" or HAS_DRF
    ]


SURFACES = params([*ADMIN_SURFACES, *API_SURFACES])


def send(client: Any, surface: Surface, short_id: str = SHORT_ID, **extra: Any) -> Any:
    """Drive one surface with a Django test client (or DRF's APIClient)."""
    path = surface.path(short_id)
    method = surface.method.lower()
    if surface.kind == "api":
        body = surface.data if surface.method != "GET" else None
        if surface.method == "GET":
            return client.get(path, **extra)
        return getattr(client, method)(path, body or {}, content_type="application/json", **extra)
    if surface.method == "GET":
        return client.get(path, **extra)
    return client.post(path, dict(surface.data), **extra)


@pytest.fixture(autouse=True)
def _fresh_throttle_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def visitor(upscope_fake: Any) -> str:
    """A visitor both in the fake and in the local mirror (the admin actions select it)."""
    upscope_fake.add_visitor(short_id=SHORT_ID, identities=["Vera Visitor"])
    VisitorFactory(short_id=SHORT_ID)
    return SHORT_ID


def upstream_calls(upscope_fake: Any) -> list[Any]:
    return upscope_fake.requests()


class LogCapture(logging.Handler):
    """Every record of every logger, formatted with its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        return "\n".join(self.format(r) for r in self.records)


@pytest.fixture
def all_logs() -> Iterator[LogCapture]:
    """Capture ALL loggers at DEBUG: a handler on the root logger, and on each logger that
    does not propagate (``django.server`` in Django's default configuration)."""
    handler = LogCapture()
    manager = logging.root.manager
    loggers = [logging.getLogger(name) for name in list(manager.loggerDict)]
    loggers += [logging.getLogger(n) for n in ("django.server", "django.request", "django")]
    saved = [(lg, lg.level, lg.disabled) for lg in {id(lg): lg for lg in loggers}.values()]
    root_level = logging.root.level
    logging.root.addHandler(handler)
    logging.root.setLevel(logging.DEBUG)
    attached = []
    for lg, _level, _disabled in saved:
        lg.setLevel(logging.DEBUG)
        lg.disabled = False
        if not lg.propagate:
            lg.addHandler(handler)
            attached.append(lg)
    try:
        yield handler
    finally:
        logging.root.removeHandler(handler)
        logging.root.setLevel(root_level)
        for lg in attached:
            lg.removeHandler(handler)
        for lg, level, disabled in saved:
            lg.setLevel(level)
            lg.disabled = disabled
