"""Users, clients and secret checks for the admin and screen-share page tests."""

from __future__ import annotations

import json
import logging

import pytest

from django_upscope.models import AuditEvent

from ..helpers import make_user


@pytest.fixture
def login(client):
    """``login(user)`` logs the test client in as ``user`` and returns the client."""

    def do(user):
        client.force_login(user)
        return client

    return do


@pytest.fixture
def agent(db):
    """A staff agent who may start view-only screen shares and see visitors."""
    return make_user(
        "agent", ["screenshare_visitor", "view_visitor"], first_name="Ada", last_name="Lovelace"
    )


@pytest.fixture
def secrets_log(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def assert_secret_free(text, *secrets):
    for secret in secrets:
        assert secret and secret not in text, "a secret leaked"


def audit_text():
    return json.dumps(list(AuditEvent.objects.values()), default=str)
