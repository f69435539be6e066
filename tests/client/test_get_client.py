"""get_client(): one client per thread and configuration, rebuilt when settings change."""

from __future__ import annotations

import threading

import pytest
import responses

from django_upscope.client import UpscopeClient, get_client
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


def test_get_client_builds_a_cloud_client_from_settings(cloud_settings):
    client = get_client()
    assert isinstance(client, UpscopeClient)
    assert client.on_premise is False
    assert client.base_url == CLOUD_URL
    assert client.timeout == 3.0
    with responses.RequestsMock() as rsps:
        rsps.get(f"{CLOUD_URL}/usage.json", json=USAGE)
        client.get_usage()
        request = rsps.calls[0].request
        assert request.headers["X-Api-Key"] == API_KEY
        assert request.req_kwargs["timeout"] == 3.0


def test_get_client_builds_an_onprem_client_from_settings(settings):
    settings.UPSCOPE = {"BASE_ENDPOINT": BASE_ENDPOINT, "REST_KEY": REST_KEY}
    client = get_client()
    assert client.on_premise is True
    assert client.base_url == ONPREM_API
    with responses.RequestsMock() as rsps:
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


def test_no_credentials_builds_a_client_whose_calls_name_the_setting(settings):
    settings.UPSCOPE = {}
    client = get_client()
    with responses.RequestsMock() as rsps:
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
