"""get_client(): one client per thread and configuration, rebuilt when settings change."""

from __future__ import annotations

import threading

import pytest

from django_upscope.client import UpscopeClient, close_clients, get_client
from django_upscope.exceptions import UpscopeConfigurationError

from ..payloads import (
    API_KEY,
    BASE_ENDPOINT,
    CLOUD_URL,
    ONPREM_API,
    REST_KEY,
    USAGE,
    visitor_list,
)


@pytest.fixture
def cloud_settings(settings):
    settings.UPSCOPE = {"API_KEY": API_KEY, "API_URL": CLOUD_URL, "TIMEOUT": 3.0}
    return settings


def test_get_client_builds_a_cloud_client_from_settings(rsps, cloud_settings):
    client = get_client()
    assert isinstance(client, UpscopeClient)
    assert client.on_premise is False
    assert client.base_url == CLOUD_URL
    assert client.timeout == 3.0
    rsps.get(f"{CLOUD_URL}/usage.json", json=USAGE)
    client.get_usage()
    request = rsps.calls[0].request
    assert request.headers["X-Api-Key"] == API_KEY
    assert request.req_kwargs["timeout"] == 3.0


def test_get_client_builds_an_onprem_client_from_settings(rsps, settings):
    settings.UPSCOPE = {"BASE_ENDPOINT": BASE_ENDPOINT, "REST_KEY": REST_KEY}
    client = get_client()
    assert client.on_premise is True
    assert client.base_url == ONPREM_API
    rsps.get(f"{ONPREM_API}/visitors/list/latest", json=visitor_list("1234"))
    client.latest_visitors()
    assert rsps.calls[0].request.headers["Authorization"] == REST_KEY


def test_get_client_uses_the_default_api_url(settings):
    settings.UPSCOPE = {"API_KEY": API_KEY}
    assert get_client().base_url == "https://api.upscope.io/v1.1"


def test_retry_settings_reach_the_client(settings):
    settings.UPSCOPE = {
        "API_KEY": API_KEY,
        "MAX_RETRIES": 4,
        "RETRY_MAX_TIME": 9.0,
        "RETRY_BACKOFF": 0.1,
    }
    client = get_client()
    assert (client.max_retries, client.retry_max_time, client.retry_backoff) == (4, 9.0, 0.1)


def test_get_client_is_cached_per_configuration(cloud_settings):
    first = get_client()
    assert get_client() is first


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("API_KEY", "sk_other_key"),
        ("API_URL", "https://api.upscope.test/v1.2"),
        ("TIMEOUT", 4.0),
        ("MAX_RETRIES", 5),
        ("RETRY_MAX_TIME", 1.0),
        ("RETRY_BACKOFF", 0.1),
        ("RETRY_SLEEP", "django_upscope.testing.retry.reset"),
    ],
)
def test_a_settings_change_builds_a_new_client(cloud_settings, key, value):
    first = get_client()
    cloud_settings.UPSCOPE = {**cloud_settings.UPSCOPE, key: value}
    second = get_client()
    assert second is not first
    assert get_client() is second


def test_switching_to_onprem_builds_an_onprem_client(cloud_settings):
    assert get_client().on_premise is False
    cloud_settings.UPSCOPE = {"BASE_ENDPOINT": BASE_ENDPOINT, "REST_KEY": REST_KEY}
    assert get_client().on_premise is True


def test_each_thread_gets_its_own_client(cloud_settings):
    mine = get_client()
    seen = []
    thread = threading.Thread(target=lambda: seen.append(get_client()))
    thread.start()
    thread.join()
    assert len(seen) == 1
    assert seen[0] is not mine
    assert seen[0].base_url == mine.base_url
    assert get_client() is mine


def test_no_credentials_builds_a_client_whose_calls_name_the_setting(rsps, settings):
    settings.UPSCOPE = {}
    client = get_client()
    with pytest.raises(UpscopeConfigurationError, match=r"UPSCOPE\['API_KEY'\]"):
        client.get_usage()
    assert len(rsps.calls) == 0


@pytest.mark.parametrize(
    "upscope",
    [
        {"API_KEY": API_KEY, "BASE_ENDPOINT": BASE_ENDPOINT, "REST_KEY": REST_KEY},
        {"API_URL": CLOUD_URL, "BASE_ENDPOINT": BASE_ENDPOINT, "REST_KEY": REST_KEY},
        {"REST_KEY": REST_KEY},
        {"API_KEY": API_KEY, "TIMEOUT": "soon"},
        {"API_KEY": API_KEY, "API_URL": "not a url"},
    ],
)
def test_contradictory_settings_raise_instead_of_guessing(settings, upscope):
    settings.UPSCOPE = upscope
    with pytest.raises(UpscopeConfigurationError):
        get_client()


# -- RETRY_SLEEP: the retry seam of get_client()'s clients --------------------------------


def _three_attempts(rsps):
    rsps.get(f"{CLOUD_URL}/usage.json", status=503)
    rsps.get(f"{CLOUD_URL}/usage.json", status=503)
    rsps.get(f"{CLOUD_URL}/usage.json", json=USAGE)


def test_the_test_settings_record_retry_waits(rsps, cloud_settings, upscope_retry_sleeps):
    # tests/settings.py sets RETRY_SLEEP to the recorder; cloud_settings keeps only
    # three keys, so set it again here as a project's test settings would.
    cloud_settings.UPSCOPE = {
        **cloud_settings.UPSCOPE,
        "RETRY_BACKOFF": 7.0,
        "RETRY_MAX_TIME": 60.0,
        "RETRY_SLEEP": "django_upscope.testing.retry.record_sleep",
    }
    _three_attempts(rsps)
    get_client().get_usage()
    assert upscope_retry_sleeps == [7.0, 14.0]
    assert len(rsps.calls) == 3


def test_retry_sleep_may_be_a_callable(rsps, cloud_settings):
    waits = []
    cloud_settings.UPSCOPE = {
        **cloud_settings.UPSCOPE,
        "RETRY_BACKOFF": 1.0,
        "RETRY_SLEEP": waits.append,
    }
    _three_attempts(rsps)
    get_client().get_usage()
    assert waits == [1.0, 2.0]


@pytest.mark.parametrize("value", ["django_upscope.testing.retry.no_such_name", 42])
def test_a_wrong_retry_sleep_is_a_configuration_error(cloud_settings, value):
    cloud_settings.UPSCOPE = {**cloud_settings.UPSCOPE, "RETRY_SLEEP": value}
    with pytest.raises(UpscopeConfigurationError) as info:
        get_client()
    assert info.value.code == "invalid_retry_sleep"
    assert "UPSCOPE['RETRY_SLEEP']" in str(info.value)


# -- close_clients() and setting_changed ---------------------------------------------------


def _record_close(monkeypatch, client):
    closed = []
    monkeypatch.setattr(client.session, "close", lambda: closed.append(client))
    return closed


def test_close_clients_closes_the_cached_clients_of_every_thread(cloud_settings, monkeypatch):
    mine = get_client()
    built = []
    thread = threading.Thread(target=lambda: built.append(get_client()))
    thread.start()
    thread.join()
    (theirs,) = built
    mine_closed = _record_close(monkeypatch, mine)
    theirs_closed = _record_close(monkeypatch, theirs)
    close_clients()
    assert mine_closed == [mine]
    assert theirs_closed == [theirs]
    fresh = get_client()
    assert fresh is not mine
    assert get_client() is fresh


def test_a_change_of_the_upscope_setting_closes_the_cached_clients(cloud_settings, monkeypatch):
    first = get_client()
    closed = _record_close(monkeypatch, first)
    # The same values, set again: the setting_changed signal still closes the client.
    cloud_settings.UPSCOPE = dict(cloud_settings.UPSCOPE)
    assert closed == [first]
    assert get_client() is not first


def test_a_change_of_another_setting_keeps_the_cached_client(cloud_settings, monkeypatch):
    first = get_client()
    closed = _record_close(monkeypatch, first)
    cloud_settings.TIME_ZONE = "Europe/Paris"
    assert closed == []
    assert get_client() is first
