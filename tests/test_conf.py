"""The settings object: documented defaults, read on access, unknown keys reported."""

from __future__ import annotations

import pytest

from django_upscope.checks import check_settings
from django_upscope.client import UpscopeClient
from django_upscope.conf import DEFAULT_API_URL, DEFAULTS, import_callable, upscope_settings
from django_upscope.exceptions import UpscopeConfigurationError

DOCUMENTED_DEFAULTS = {
    "API_KEY": None,
    "API_URL": "https://api.upscope.io/v1.1",
    "BASE_ENDPOINT": None,
    "REST_KEY": None,
    "TIMEOUT": 10.0,
    "MAX_RETRIES": 2,
    "RETRY_MAX_TIME": 20.0,
    "RETRY_BACKOFF": 0.5,
    "RETRY_SLEEP": "time.sleep",
    "SYNC_CONCURRENCY": 8,
    "PERMISSIONS_MAPPER": None,
    "SUPERUSER_CONSOLE": False,
    "METADATA_HOOK": None,
    "WATCH_URL_HOSTS": None,
    "MIRROR_READ_THROUGH": True,
    "SCHEMA_PERMISSION": "rest_framework.permissions.IsAdminUser",
    "FAKE_ENABLED": None,
    "FAKE_REST_KEY": "fake_rest_key",
    "FAKE_SESSION_LIMIT": 5,
    "FAKE_PURGE_DELAY": 2.0,
    # background work (django_upscope.tasks)
    "BULK_TASK_THRESHOLD": 20,
    "SYNC_INTERVAL": None,
    "SYNC_LOCK_TTL": 900.0,
    "PURGE_RECONCILE_DELAY": 60.0,
    "PURGE_RECONCILE_ATTEMPTS": 3,
    "PURGE_REMOVES_GONE": False,
    "PUBLIC_API_KEY": None,
    "SNIPPET_URL": None,
    "VISITOR_IDENTITY": None,
    "VISITOR_UNIQUE_ID": "hmac",
    "VISITOR_EMAIL": False,
    "SNIPPET_FOR_ANONYMOUS": True,
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


def a_mapper(user):
    return {}


class TestImportCallable:
    """One loader for the settings that take "a callable or its dotted path"."""

    @pytest.mark.parametrize("name", ["PERMISSIONS_MAPPER", "METADATA_HOOK"])
    def test_unset_is_none(self, settings, name):
        settings.UPSCOPE = {}
        assert import_callable(name) is None

    @pytest.mark.parametrize("value", [a_mapper, "tests.test_conf.a_mapper"])
    def test_a_callable_or_its_dotted_path(self, settings, value):
        settings.UPSCOPE = {"PERMISSIONS_MAPPER": value}
        assert import_callable("PERMISSIONS_MAPPER") is a_mapper

    @pytest.mark.parametrize(
        ("value", "words"),
        [("tests.test_conf.no_such_thing", "cannot be imported"), (42, "must be a callable")],
    )
    def test_errors_name_the_setting(self, settings, value, words):
        settings.UPSCOPE = {"METADATA_HOOK": value}
        with pytest.raises(UpscopeConfigurationError, match=words) as info:
            import_callable("METADATA_HOOK")
        assert "UPSCOPE['METADATA_HOOK']" in info.value.message
        assert info.value.code == "invalid_metadata_hook"


CLOUD = {"API_KEY": "sk_live", "API_URL": "https://api.upscope.io/v1.1"}

#: (setting, value): the system check and the client must judge each alike.
SETTING_VALUES = [
    ("API_URL", "https://api.upscope.io/v1.1"),
    ("API_URL", "https://api.upscope.io/v1.1?x=1"),
    ("API_URL", "https://api.upscope.io/v1.1#top"),
    ("API_URL", "http://[::1"),
    ("API_URL", "https://api.upscope.io:99999/v1.1"),
    ("API_URL", "https://:443/v1.1"),
    ("API_URL", "ftp://api.upscope.io/v1.1"),
    ("API_URL", 42),
    ("TIMEOUT", 5),
    ("TIMEOUT", 0),
    ("TIMEOUT", float("inf")),
    ("TIMEOUT", "10"),
    ("RETRY_MAX_TIME", 1.5),
    ("RETRY_MAX_TIME", 0),
    ("MAX_RETRIES", 0),
    ("MAX_RETRIES", 2.0),
    ("MAX_RETRIES", True),
    ("MAX_RETRIES", -1),
    ("RETRY_BACKOFF", 0),
    ("RETRY_BACKOFF", -0.5),
    ("RETRY_BACKOFF", float("nan")),
]


@pytest.mark.parametrize(("name", "value"), SETTING_VALUES, ids=repr)
def test_the_check_and_the_client_agree(settings, name, value):
    settings.UPSCOPE = {**CLOUD, name: value}
    checked = [
        m.msg for m in check_settings() if m.id in ("django_upscope.E002", "django_upscope.E003")
    ]
    try:
        UpscopeClient(api_key="sk_live", api_url=upscope_settings.API_URL)
    except UpscopeConfigurationError as exc:
        refused: list[str] = [exc.message]
    else:
        refused = []
    assert refused == checked  # the same verdict, in the same words
