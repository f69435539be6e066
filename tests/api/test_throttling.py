"""Minting watch URLs is throttled per user (scope upscope_watch_url)."""

from __future__ import annotations

import pytest

from django_upscope.api.throttling import WatchURLRateThrottle

from .conftest import AGENT, api

pytestmark = pytest.mark.django_db(transaction=True)


def rates(settings, value):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"upscope_watch_url": value},
    }


def test_default_rate_is_30_per_minute(settings):
    settings.REST_FRAMEWORK = {
        k: v for k, v in settings.REST_FRAMEWORK.items() if k != "DEFAULT_THROTTLE_RATES"
    }
    assert WatchURLRateThrottle().get_rate() == "30/min"
    assert WatchURLRateThrottle().num_requests == 30


def test_rate_comes_from_drf_settings(settings):
    rates(settings, "5/hour")
    throttle = WatchURLRateThrottle()
    assert (throttle.num_requests, throttle.duration) == (5, 3600)


def test_minting_over_the_rate_is_429_without_upstream(upscope_fake, client_for, settings):
    rates(settings, "2/min")
    short_id = upscope_fake.add_visitor()
    client = client_for(AGENT)
    url = api("visitor-watch-url", short_id)

    statuses = [client.post(url, {}, format="json").status_code for _ in range(3)]

    assert statuses == [201, 201, 429]
    refused = client.post(url, {}, format="json")
    assert refused.json()["error"] == "throttled"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert len(upscope_fake.requests("watch_url")) == 2


def test_the_rate_is_per_user(upscope_fake, client_for, settings):
    rates(settings, "1/min")
    url = api("visitor-watch-url", upscope_fake.add_visitor())
    first, second = client_for(AGENT), client_for(AGENT)
    assert first.post(url, {}, format="json").status_code == 201
    assert first.post(url, {}, format="json").status_code == 429
    assert second.post(url, {}, format="json").status_code == 201


def test_other_endpoints_are_not_limited_by_the_minting_rate(upscope_fake, client_for, settings):
    rates(settings, "1/min")
    client = client_for(AGENT)
    assert [client.get(api("visitor-list")).status_code for _ in range(3)] == [200] * 3


def test_none_disables_the_limit(upscope_fake, client_for, settings):
    rates(settings, None)
    url = api("visitor-watch-url", upscope_fake.add_visitor())
    client = client_for(AGENT)
    assert [client.post(url, {}, format="json").status_code for _ in range(3)] == [201] * 3
