"""``UPSCOPE["WATCH_URL_HOSTS"]``: a minted watch URL on any other host is refused
before anything shows or frames it, with a message that does not contain the URL."""

from __future__ import annotations

import pytest

from django_upscope.client import UpscopeClient, get_client
from django_upscope.exceptions import UpscopeConfigurationError, UpscopeInvalidResponse
from django_upscope.vocabulary import DEFAULT_API_URL

from ..payloads import API_KEY, CLOUD_URL, cloud_client

WATCH_ENDPOINT = f"{CLOUD_URL}/visitors/ABCD1234/watch_url.json"


def mint(client: UpscopeClient) -> str:
    return client.create_watch_url("ABCD1234", agent_id="1", agent_name="A")


@pytest.mark.parametrize(
    "url",
    [
        "https://o.upscope.io?xyz",  # the v1.1 example
        "https://o.upscope.io/watch?token=T",
        "https://eu.upscope.io/w/T",
        "https://O.UPSCOPE.IO/w/T",
        "https://api.upscope.test/watch/T",  # the API's own host (API_URL)
    ],
)
def test_by_default_upscopes_hosts_and_the_apis_host_are_accepted(rsps, url):
    rsps.post(WATCH_ENDPOINT, json={"watch_url": url})
    assert mint(cloud_client()) == url


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/watch?token=SECRET_TOKEN",
        "https://upscope.io.evil.example/w/SECRET_TOKEN",
        "https://o.upscope.io@evil.example/w/SECRET_TOKEN",
        "https://evilupscope.io/w/SECRET_TOKEN",
        "https://upscope.test/w/SECRET_TOKEN",
        "http://[::1/SECRET_TOKEN",
    ],
)
def test_other_hosts_are_refused_without_naming_the_url(rsps, url):
    rsps.post(WATCH_ENDPOINT, json={"watch_url": url})
    with pytest.raises(UpscopeInvalidResponse) as info:
        mint(cloud_client())
    assert "SECRET_TOKEN" not in str(info.value)
    assert "evil" not in str(info.value)


def test_the_setting_replaces_the_default(rsps, settings):
    settings.UPSCOPE = {
        **settings.UPSCOPE,
        "API_KEY": API_KEY,
        "API_URL": CLOUD_URL,
        "WATCH_URL_HOSTS": ["watch.example.com", "*.cdn.example.com"],
    }
    rsps.post(WATCH_ENDPOINT, json={"watch_url": "https://a.cdn.example.com/w/T"})
    rsps.post(WATCH_ENDPOINT, json={"watch_url": "https://o.upscope.io/w/T"})
    client = get_client()
    assert mint(client) == "https://a.cdn.example.com/w/T"
    with pytest.raises(UpscopeInvalidResponse) as info:
        mint(client)
    assert "WATCH_URL_HOSTS" in info.value.message


def test_the_cloud_default_accepts_only_upscopes_hosts():
    client = UpscopeClient(api_key=API_KEY)
    assert client.base_url == DEFAULT_API_URL
    assert client.watch_url_hosts == ("o.upscope.io", "*.upscope.io", "api.upscope.io")


def test_a_malformed_setting_is_a_configuration_error():
    with pytest.raises(UpscopeConfigurationError) as info:
        UpscopeClient(api_key=API_KEY, watch_url_hosts=["https://o.upscope.io"])
    assert "WATCH_URL_HOSTS" in info.value.message


def test_the_fake_watch_url_is_accepted_by_default(upscope_fake):
    # The embedded fake mints URLs on its own host, which is API_URL's.
    short_id = upscope_fake.add_visitor()
    url = upscope_fake.client().create_watch_url(short_id, agent_id="1", agent_name="A")
    assert url.startswith("http")
