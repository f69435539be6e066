"""Property-based tests of the DRF watch-URL body: any JSON body is either a clear
4xx (``{"error", "detail"}``) with nothing sent upstream, or a well-formed watch-URL
request. Never a 500 (the test client re-raises unhandled exceptions)."""

from __future__ import annotations

import itertools
import json
import re
from urllib.parse import urlsplit

import pytest
import responses
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_upscope.vocabulary import PERMISSION_KEYS

pytestmark = [pytest.mark.drf, pytest.mark.django_db]

WATCH_RE = re.compile(r"http://upscope\.test/v1\.1/visitors/[^/]+/watch_url\.json")
_users = itertools.count()

text = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)
urls = st.one_of(
    text,
    st.sampled_from(
        [
            "/admin/",
            "http://testserver/done",
            "https://testserver/x",
            "http://[::1",
            "http://testserver:99999/",
            "//evil.test/",
            "https://evil.test/",
            "javascript:alert(1)",
            "/a\\b",
            "/\u0085",
        ]
    ),
    st.integers(),
    st.none(),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), text),
    lambda inner: st.one_of(st.lists(inner, max_size=2), st.dictionaries(text, inner, max_size=2)),
    max_leaves=4,
)
bodies = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "metadata": st.one_of(st.dictionaries(text, json_values, max_size=3), json_values),
            "permissions": st.one_of(
                st.dictionaries(st.sampled_from(PERMISSION_KEYS), json_values, max_size=3),
                st.dictionaries(text, st.booleans(), max_size=2),
                json_values,
            ),
            "on_end_url": urls,
            "retry_url": urls,
        },
    ),
    json_values,
)


@pytest.fixture
def agent_client(settings):
    settings.UPSCOPE = {
        **settings.UPSCOPE,
        "API_URL": "http://upscope.test/v1.1",
        "API_KEY": "fake_props",
    }
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"upscope_watch_url": None},
    }
    user = User.objects.create_user(f"agent{next(_users)}", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="django_upscope",
            codename__in=["screenshare_visitor", "remote_control_visitor"],
        )
    )
    client = Client()
    client.force_login(user)
    return client


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies)
def test_watch_url_body_is_a_clear_answer(agent_client, body):
    url = reverse("django_upscope:api:visitor-watch-url", args=["ABCD1234"])
    with responses.RequestsMock(assert_all_requests_are_fired=False) as upstream:
        upstream.add(responses.POST, WATCH_RE, json={"watch_url": "https://o.upscope.io/w/T"})
        response = agent_client.post(url, json.dumps(body), content_type="application/json")
        # The mint only (the write-back's refresh that follows is tests/test_writeback.py's).
        calls = [c for c in upstream.calls if c.request.method == "POST"]
    assert response.status_code in (201, 400, 403), response.content
    payload = response.json()
    if response.status_code != 201:
        assert set(payload) >= {"error", "detail"} and payload["detail"]
        assert calls == []
        return
    [call] = calls
    sent = json.loads(call.request.body)
    assert set(sent["permissions"]) == set(PERMISSION_KEYS)
    assert sent["permissions"]["allow_console"] is False
    assert sent["permissions"] == payload["permissions"]
    assert sent["metadata"] == payload["metadata"]
    for key in ("on_end_url", "retry_url"):
        # Only this site: a path made absolute, or a URL on the requesting host.
        parts = urlsplit(sent["branding"][key])
        assert parts.scheme in ("http", "https") and parts.netloc == "testserver"


@pytest.mark.parametrize("key", ["on_end_url", "retry_url"])
@pytest.mark.parametrize("value", ["http://[::1", "https://[oops/x", "http://testserver:99999/"])
def test_unparseable_urls_are_a_400_not_a_500(agent_client, key, value):
    url = reverse("django_upscope:api:visitor-watch-url", args=["ABCD1234"])
    with responses.RequestsMock(assert_all_requests_are_fired=False) as upstream:
        response = agent_client.post(url, {key: value}, content_type="application/json")
        assert len(upstream.calls) == 0
    assert response.status_code == 400
    assert response.json()["error"] in ("invalid", "invalid_branding")
