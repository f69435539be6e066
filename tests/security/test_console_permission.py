"""A user without the console permission can never obtain ``allow_console: true``.

Checked on what actually reaches Upscope (the watch-URL request body), through
the admin page, the DRF body (asking for it explicitly), and the service layer
over every subset of Django permissions (hypothesis), for superusers too unless
``UPSCOPE["SUPERUSER_CONSOLE"]`` says so.
"""

from __future__ import annotations

import itertools
import json
import re

import pytest
import responses
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_upscope import services
from django_upscope.models import AuditEvent
from django_upscope.vocabulary import PERMISSION_KEYS

from ..helpers import make_user

SESSION_CODENAMES = [
    "screenshare_visitor",
    "remote_control_visitor",
    "remote_console_visitor",
    "agent_redirect_visitor",
    "audio_visitor",
]


def sent_permissions(upscope_fake) -> list[dict]:
    return [r.json.get("permissions", {}) for r in upscope_fake.requests("watch_url")]


# -- the admin page -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "superuser_console", "console"),
    [
        ("agent with everything but the console", False, False),
        ("agent with everything but the console", True, False),
        ("superuser", False, False),
        ("superuser", True, True),
        ("agent with the console", False, True),
    ],
)
def test_admin_page_console_only_when_granted(
    client, settings, upscope_fake, visitor, who, superuser_console, console
):
    settings.UPSCOPE = {**settings.UPSCOPE, "SUPERUSER_CONSOLE": superuser_console}
    if who == "superuser":
        user = User.objects.create_superuser("root", password="pw")
    elif who == "agent with the console":
        user = make_user("agent", SESSION_CODENAMES)
    else:
        user = make_user("agent", [c for c in SESSION_CODENAMES if "console" not in c])
    client.force_login(user)

    response = client.get(reverse("admin:django_upscope_visitor_screenshare", args=[visitor]))

    assert response.status_code == 200
    [sent] = sent_permissions(upscope_fake)
    # All seven keys are always sent: an omitted key would default to on upstream.
    assert set(sent) == set(PERMISSION_KEYS)
    assert sent["allow_console"] is console
    event = AuditEvent.objects.get(outcome="success")
    assert event.permissions["allow_console"] is console


# -- the DRF body ------------------------------------------------------------------------


@pytest.mark.drf
@pytest.mark.parametrize("superuser", [False, True])
@pytest.mark.parametrize(
    "body",
    [
        {"permissions": {"allow_console": True}},
        {"permissions": dict.fromkeys(PERMISSION_KEYS, True)},
        {"permissions": {"allow_console": "true"}},
        {"permissions": {"allow_console": 1}},
        {"metadata": {"allow_console": True}, "permissions": {"allow_console": True}},
    ],
)
def test_drf_body_cannot_ask_for_the_console(
    client, settings, upscope_fake, visitor, superuser, body
):
    settings.UPSCOPE = {**settings.UPSCOPE, "SUPERUSER_CONSOLE": False}
    if superuser:
        user = User.objects.create_superuser("root", password="pw")
    else:
        user = make_user("agent", [c for c in SESSION_CODENAMES if "console" not in c])
    client.force_login(user)
    url = reverse("django_upscope:api:visitor-watch-url", args=[visitor])

    response = client.post(url, json.dumps(body), content_type="application/json")

    assert response.status_code in (201, 403), response.content
    if response.status_code == 201:
        assert response.json()["permissions"]["allow_console"] is False
    for sent in sent_permissions(upscope_fake):
        assert sent.get("allow_console") is False
    assert not AuditEvent.objects.filter(permissions__allow_console=True).exists()


@pytest.mark.drf
def test_control_drf_console_when_granted(client, upscope_fake, visitor):
    client.force_login(make_user("agent", SESSION_CODENAMES))
    url = reverse("django_upscope:api:visitor-watch-url", args=[visitor])
    body = {"permissions": {"allow_console": True}}
    response = client.post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 201
    assert sent_permissions(upscope_fake)[0]["allow_console"] is True


# -- the service layer over every subset of permissions -------------------------------------

WATCH_RE = re.compile(r"http://upscope\.test/v1\.1/visitors/[^/]+/watch_url\.json")
_counter = itertools.count()


@pytest.fixture
def upstream(settings):
    settings.UPSCOPE = {
        **settings.UPSCOPE,
        "API_URL": "http://upscope.test/v1.1",
        "API_KEY": "fake_props",
        "PERMISSIONS_MAPPER": None,
    }
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.POST, WATCH_RE, json={"watch_url": "https://o.upscope.io/w/TOKEN"})
        yield mock


@pytest.mark.django_db
@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    codenames=st.sets(st.sampled_from([*SESSION_CODENAMES, "view_visitor", "delete_visitor"])),
    superuser=st.booleans(),
    superuser_console=st.booleans(),
    active=st.booleans(),
    requested=st.one_of(
        st.none(), st.dictionaries(st.sampled_from(PERMISSION_KEYS), st.booleans())
    ),
)
def test_console_never_without_its_permission(
    upstream, settings, codenames, superuser, superuser_console, active, requested
):
    settings.UPSCOPE = {**settings.UPSCOPE, "SUPERUSER_CONSOLE": superuser_console}
    user = User.objects.create_user(
        f"u{next(_counter)}", is_staff=True, is_superuser=superuser, is_active=active
    )
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="django_upscope", codename__in=codenames)
    )
    user = User.objects.get(pk=user.pk)
    calls_before = len(upstream.calls)
    actor = services.Actor(user=user, source="api")

    may_share = active and (superuser or "screenshare_visitor" in codenames)
    try:
        share = services.start_screenshare(actor, "ABCD1234", permissions=requested)
    except services.PermissionDenied:
        assert not may_share
        assert len(upstream.calls) == calls_before
        return
    assert may_share
    console_granted = active and (
        superuser_console if superuser else "remote_console_visitor" in codenames
    )
    # The mint (the write-back's refresh GET may follow it).
    minted = [c for c in upstream.calls if c.request.method == "POST"][-1]
    sent = json.loads(minted.request.body)["permissions"]
    assert set(sent) == set(PERMISSION_KEYS)
    if not console_granted:
        assert sent["allow_console"] is False
        assert share.permissions["allow_console"] is False
    else:
        assert sent["allow_console"] is (requested or {}).get("allow_console", True)
    # Narrowing only: nothing sent True that the caller asked to be False.
    for key, value in (requested or {}).items():
        if value is False:
            assert sent[key] is False
