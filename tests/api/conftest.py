"""Fixtures for the DRF endpoints: users with roles, API clients, URL helpers."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from tests.helpers import make_user

#: The purge permission's codename and its audited action. The admin branch renames both
#: to ``purge_offline_visitors`` (with a migration): then these two lines change, nothing else.
PURGE_CODENAME = "purge_offline_visitors"
PURGE_ACTION = "purge_offline_visitors"

#: Roles, by the codenames they are given.
READER = ["view_visitor"]
AGENT = [
    "view_visitor",
    "screenshare_visitor",
    "remote_control_visitor",
    "remote_console_visitor",
    "audio_visitor",
]
VIEW_ONLY_AGENT = ["view_visitor", "screenshare_visitor"]
ADMIN_ROLE = [
    *AGENT,
    "delete_visitor",
    PURGE_CODENAME,
    "view_usagesnapshot",
    "view_session",
]


def api(name: str, *args: str) -> str:
    """The URL of an endpoint of the API, by its name in ``django_upscope:api``."""
    return reverse(f"django_upscope:api:{name}", args=args)


#: Where Upscope is said to be when a test's requests must never reach it.
UNREACHABLE_CLOUD = {
    "API_KEY": "sk_test_unreachable",
    "API_URL": "https://api.upscope.invalid/v1.1",
}
UNREACHABLE_ONPREM = {
    "BASE_ENDPOINT": "https://upscope.onprem.invalid",
    "REST_KEY": "rest_key_unreachable",
}


def _configure(settings, upstream: dict[str, str]) -> None:
    current = dict(settings.UPSCOPE)
    for key in ("API_KEY", "API_URL", "BASE_ENDPOINT", "REST_KEY"):
        current.pop(key, None)
    settings.UPSCOPE = {**current, **upstream}


@pytest.fixture
def no_upstream(rsps, settings):
    """Upscope (cloud) configured but stubbed out, for requests that must stop before it.

    Returns the ``responses`` mock: any request to Upscope would be in its ``calls``
    (and fail as a connection error), so a test asserts ``len(no_upstream.calls) == 0``.
    No live server is needed.
    """
    _configure(settings, UNREACHABLE_CLOUD)
    return rsps


@pytest.fixture
def no_upstream_onprem(rsps, settings):
    """As :func:`no_upstream`, with an on-premise Upscope configured."""
    _configure(settings, UNREACHABLE_ONPREM)
    return rsps


@pytest.fixture(autouse=True)
def _fresh_throttle_cache():
    # Throttle counters live in the cache, which outlives a test.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client_for(db):
    """``client_for(codenames)``: an APIClient logged in as a user with those permissions.

    The API is for agents who need not be staff: users are not staff unless ``staff=True``.
    """
    count = 0

    def make(
        codenames: list[str], *, csrf: bool = False, staff: bool = False, **extra
    ) -> APIClient:
        nonlocal count
        count += 1
        user = make_user(f"user{count}", codenames, staff=staff, **extra)
        client = APIClient(enforce_csrf_checks=csrf)
        client.force_login(user)
        client.user = user
        return client

    return make


@pytest.fixture
def agent_client(client_for):
    return client_for(AGENT)


@pytest.fixture
def manager_client(client_for):
    return client_for(ADMIN_ROLE)
