"""Fixtures for the whole suite; shared plain helpers live in ``tests/helpers.py``."""

import pytest
import responses

# The pytest plugin we ship for our users; our own suite uses it exactly as theirs would.
pytest_plugins = ["django_upscope.testing.pytest_plugin"]


@pytest.fixture
def rsps():
    """``responses`` for unit tests that stub Upscope's HTTP answers."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def upstream(settings):
    """``get_client()`` pointed at ``tests.payloads.CLOUD_URL`` (stub it with ``rsps``),
    with no retries: each stubbed answer is met once."""
    from .payloads import API_KEY, CLOUD_URL

    settings.UPSCOPE = {
        **settings.UPSCOPE,
        "API_KEY": API_KEY,
        "API_URL": CLOUD_URL,
        "MAX_RETRIES": 0,
    }


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: the write-back's deduplication, the relay's
    rate limit and DRF's throttles keep their state there."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
