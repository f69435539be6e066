"""The settings object: documented defaults, read on access, unknown keys reported."""

from __future__ import annotations

import pytest

from django_upscope.conf import DEFAULT_API_URL, DEFAULTS, upscope_settings

DOCUMENTED_DEFAULTS = {
    "API_KEY": None,
    "API_URL": "https://api.upscope.io/v1.1",
    "BASE_ENDPOINT": None,
    "REST_KEY": None,
    "TIMEOUT": 10.0,
    "MAX_RETRIES": 2,
    "RETRY_MAX_TIME": 20.0,
    "RETRY_BACKOFF": 0.5,
    "PERMISSIONS_MAPPER": None,
    "SUPERUSER_CONSOLE": False,
    "METADATA_HOOK": None,
    "MIRROR_READ_THROUGH": True,
    "FAKE_ENABLED": None,
    "FAKE_REST_KEY": "fake_rest_key",
    "FAKE_SESSION_LIMIT": 5,
    "FAKE_PURGE_DELAY": 2.0,
}


def test_defaults_are_the_documented_ones():
    # README.md lists these; a change here must change the docs too.
    assert DEFAULTS == DOCUMENTED_DEFAULTS
    assert DEFAULT_API_URL == "https://api.upscope.io/v1.1"


@pytest.mark.parametrize("key", sorted(DOCUMENTED_DEFAULTS))
def test_every_default_applies_when_unset(settings, key):
    settings.UPSCOPE = {}
    assert getattr(upscope_settings, key) == DOCUMENTED_DEFAULTS[key]


def test_missing_upscope_setting_means_defaults(settings):
    del settings.UPSCOPE
    assert upscope_settings.API_URL == DEFAULT_API_URL
    assert upscope_settings.user_settings() == {}


def test_user_values_override_defaults(settings):
    settings.UPSCOPE = {"API_KEY": "k", "TIMEOUT": 3}
    assert upscope_settings.API_KEY == "k"
    assert upscope_settings.TIMEOUT == 3
    assert upscope_settings.MAX_RETRIES == 2


def test_settings_are_read_on_access(settings):
    settings.UPSCOPE = {"TIMEOUT": 1.0}
    assert upscope_settings.TIMEOUT == 1.0
    settings.UPSCOPE = {"TIMEOUT": 2.0}
    assert upscope_settings.TIMEOUT == 2.0


def test_unknown_keys_are_listed(settings):
    settings.UPSCOPE = {"API_KEY": "k", "APIKEY": "k", "timeout": 3}
    assert upscope_settings.unknown_keys() == ["APIKEY", "timeout"]


def test_an_unknown_attribute_is_an_attribute_error(settings):
    with pytest.raises(AttributeError, match="UPSCOPE has no setting named 'APIKEY'"):
        upscope_settings.APIKEY  # noqa: B018


def test_a_non_dict_upscope_reads_as_defaults(settings):
    settings.UPSCOPE = "sk_key"
    assert upscope_settings.API_KEY is None


def test_on_premise_mode_follows_base_endpoint(settings):
    settings.UPSCOPE = {"API_KEY": "k"}
    assert upscope_settings.is_on_premise is False
    settings.UPSCOPE = {"BASE_ENDPOINT": "https://support.example.test", "REST_KEY": "r"}
    assert upscope_settings.is_on_premise is True


@pytest.mark.parametrize(
    ("debug", "explicit", "enabled"),
    [
        (True, None, True),
        (False, None, False),
        (False, True, True),
        (True, False, False),
    ],
)
def test_fake_enabled(settings, debug, explicit, enabled):
    settings.DEBUG = debug
    settings.UPSCOPE = {} if explicit is None else {"FAKE_ENABLED": explicit}
    assert upscope_settings.fake_enabled is enabled
