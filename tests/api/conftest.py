"""Fixtures for the DRF endpoints: users with roles, API clients, URL helpers."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

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
    "purge_offline_visitors",
    "view_usagesnapshot",
    "view_session",
]


def make_user(username: str, codenames: list[str], **extra) -> User:
    user = User.objects.create_user(username, password="pw", **extra)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="django_upscope", codename__in=codenames)
    )
    return User.objects.get(pk=user.pk)  # no stale permission cache


def api(name: str, *args: str) -> str:
    return reverse(f"django_upscope:api:{name}", args=args)


@pytest.fixture(autouse=True)
def _fresh_throttle_cache():
    # Throttle counters live in the cache, which outlives a test.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client_for(db):
    """``client_for(codenames)``: an APIClient logged in as a user with those permissions."""
    count = 0

    def make(codenames: list[str], *, csrf: bool = False, **extra) -> APIClient:
        nonlocal count
        count += 1
        user = make_user(f"user{count}", codenames, **extra)
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
