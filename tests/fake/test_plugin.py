"""The shipped pytest plugin, used exactly as a project's own tests would use it.

(``tests/conftest.py`` enables it with
``pytest_plugins = ["django_upscope.testing.pytest_plugin"]``.)
"""

from __future__ import annotations

import pytest
import requests
from django.conf import settings as django_settings

from django_upscope.client import get_client
from django_upscope.exceptions import UpscopeUnavailable
from django_upscope.testing import pytest_plugin


def test_users_can_test_their_integration(upscope_fake):
    short_ids = upscope_fake.seed(5, seed=1)
    vip = upscope_fake.add_visitor(identities=["Ada Lovelace"], tags=["#vip"])

    # The project's own code calls get_client(): settings.UPSCOPE points at the fake.
    found = get_client().search_visitors("#vip Ada")
    assert [v.short_id for v in found] == [vip]
    assert {v.short_id for v in get_client().latest_visitors()} == {vip, *short_ids}

    (request,) = [r for r in upscope_fake.requests() if r.query]
    assert request.method == "GET"
    assert request.path == "/__upscope__/v1.1/list.json"
    assert request.query == {"search": "#vip Ada"}
    assert request.header("X-Api-Key") == "[redacted]"


def test_fixture_points_settings_at_the_live_fake(upscope_fake, live_server):
    assert upscope_fake.url == f"{live_server.url}/__upscope__"
    assert upscope_fake.api_url == f"{live_server.url}/__upscope__/v1.1"
    assert django_settings.UPSCOPE["API_URL"] == upscope_fake.api_url
    assert django_settings.UPSCOPE["API_KEY"] == upscope_fake.api_key
    assert upscope_fake.api_key.startswith("fake_")
    assert "BASE_ENDPOINT" not in django_settings.UPSCOPE
    response = requests.get(f"{upscope_fake.url}/", timeout=5)
    assert response.status_code == 200


def test_fail_injects_a_fault_for_the_project_code(upscope_fake):
    upscope_fake.fail("usage", status=503, times=10)
    with pytest.raises(UpscopeUnavailable):
        upscope_fake.client(max_retries=1, retry_backoff=0).get_usage()
    assert [r.status for r in upscope_fake.requests("usage")] == [503, 503]


def test_the_fixture_resets_the_fake_state(upscope_fake, live_server, settings):
    # What one test leaves behind: a visitor, a standing fault, requests in the log.
    upscope_fake.add_visitor(short_id="LEFTOVER")
    upscope_fake.fail("list", status=500, times=None)
    with pytest.raises(UpscopeUnavailable):
        upscope_fake.client(max_retries=0).search_visitors()
    assert upscope_fake.requests()

    # What the fixture does before the next test.
    fresh = pytest_plugin._start(live_server, settings, on_premise=False)
    try:
        assert fresh.requests() == []
        assert fresh.client().search_visitors() == []
        assert [r.status for r in fresh.requests()] == [200]
    finally:
        fresh.close()


def test_onprem_fixture(upscope_fake_onprem, live_server):
    fake = upscope_fake_onprem
    assert fake.base_endpoint == f"{live_server.url}/__upscope__/onprem"
    assert django_settings.UPSCOPE["BASE_ENDPOINT"] == fake.base_endpoint
    assert django_settings.UPSCOPE["REST_KEY"] == "fake_rest_key"
    assert "API_KEY" not in django_settings.UPSCOPE
    online = fake.add_visitor(identities=["Online Olive"], is_online=True)
    fake.add_visitor(identities=["Offline Otto"], is_online=False)
    assert [v.short_id for v in get_client().latest_visitors()] == [online]
    (request,) = fake.requests()
    assert request.path == "/__upscope__/onprem/api/visitors/list/latest"
    assert request.header("Authorization") == "[redacted]"
    assert request.credentials == "valid"


def test_sync_is_sequential_on_the_shared_in_memory_sqlite_connection(upscope_fake):
    from django.db import connection

    if connection.vendor == "sqlite":
        # The live server and the test share one in-memory connection: no concurrent fetches.
        assert django_settings.UPSCOPE["SYNC_CONCURRENCY"] == 1
    else:
        # Real databases give the live server its own connections: the default applies.
        assert "SYNC_CONCURRENCY" not in django_settings.UPSCOPE


@pytest.fixture
def concurrency_chosen(settings):
    settings.UPSCOPE = {**settings.UPSCOPE, "SYNC_CONCURRENCY": 4}


def test_a_chosen_sync_concurrency_is_kept(concurrency_chosen, upscope_fake):
    assert django_settings.UPSCOPE["SYNC_CONCURRENCY"] == 4
