"""System checks for the UPSCOPE setting: ids E001-E006 (errors), W001-W002 (warnings)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.checks import ERROR, WARNING, run_checks
from django.core.management import call_command

from django_upscope.checks import check_settings

CLOUD = {"API_KEY": "sk_live", "API_URL": "https://api.upscope.io/v1.1"}
ONPREM = {"BASE_ENDPOINT": "https://support.acmetech.test/cobrowsing", "REST_KEY": "rest"}


def ids(upscope, settings, debug=False):
    settings.DEBUG = debug
    settings.UPSCOPE = upscope
    return sorted(m.id for m in check_settings())


@pytest.mark.parametrize(
    "upscope",
    [
        CLOUD,
        {"API_KEY": "sk_live"},
        ONPREM,
        {**CLOUD, "TIMEOUT": 2, "MAX_RETRIES": 0, "RETRY_MAX_TIME": 1.5, "RETRY_BACKOFF": 0},
    ],
)
def test_valid_settings_pass(settings, upscope):
    assert ids(upscope, settings) == []


@pytest.mark.parametrize(
    "upscope",
    [
        {**CLOUD, **ONPREM},
        {"API_KEY": "sk_live", "BASE_ENDPOINT": ONPREM["BASE_ENDPOINT"]},
        {"API_URL": "https://api.upscope.test/v1.1", **ONPREM},
    ],
)
def test_e001_cloud_and_onprem_both_configured(settings, upscope):
    assert "django_upscope.E001" in ids(upscope, settings)


def test_e001_not_raised_for_the_default_api_url_beside_onprem(settings):
    assert ids({"API_URL": "https://api.upscope.io/v1.1", **ONPREM}, settings) == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("API_URL", "api.upscope.io/v1.1"),
        ("API_URL", "ftp://api.upscope.io/v1.1"),
        ("API_URL", "https://"),
        ("API_URL", "http://[::1"),
        ("API_URL", "https://api.upscope.io:99999/v1.1"),
        ("API_URL", "https://api.upscope.io/v1.1?x=1"),
        ("API_URL", "https://api.upscope.io/v1.1#top"),
        ("API_URL", 42),
        ("API_URL", None),
        ("BASE_ENDPOINT", "support.acmetech.test"),
        ("BASE_ENDPOINT", "https://support.acmetech.test/?a=b"),
    ],
)
def test_e002_url_that_does_not_parse(settings, key, value):
    upscope = dict(ONPREM if key == "BASE_ENDPOINT" else CLOUD)
    upscope[key] = value
    settings.UPSCOPE = upscope
    messages = [m for m in check_settings() if m.id == "django_upscope.E002"]
    assert len(messages) == 1
    assert messages[0].level == ERROR
    assert f"UPSCOPE['{key}']" in messages[0].msg


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("TIMEOUT", 0),
        ("TIMEOUT", -1),
        ("TIMEOUT", "10"),
        ("TIMEOUT", True),
        ("TIMEOUT", None),
        ("TIMEOUT", float("nan")),
        ("TIMEOUT", float("inf")),
        ("RETRY_MAX_TIME", 0),
        ("RETRY_MAX_TIME", "20"),
        ("MAX_RETRIES", -1),
        ("MAX_RETRIES", 1.5),
        ("MAX_RETRIES", True),
        ("RETRY_BACKOFF", -0.5),
        ("RETRY_BACKOFF", "0.5"),
    ],
)
def test_e003_numbers(settings, key, value):
    settings.UPSCOPE = {**CLOUD, key: value}
    messages = [m for m in check_settings() if m.id == "django_upscope.E003"]
    assert len(messages) == 1
    assert f"UPSCOPE['{key}']" in messages[0].msg


def test_e004_unknown_key_is_named_with_the_known_ones(settings):
    settings.UPSCOPE = {**CLOUD, "APIKEY": "x"}
    (message,) = [m for m in check_settings() if m.id == "django_upscope.E004"]
    assert "'APIKEY'" in message.msg
    assert "API_KEY" in message.hint and "BASE_ENDPOINT" in message.hint


@pytest.mark.parametrize("value", ["sk_live", ["API_KEY"], 1])
def test_e005_upscope_must_be_a_dict(settings, value):
    assert ids(value, settings) == ["django_upscope.E005"]


def test_e006_rest_key_without_base_endpoint(settings):
    assert ids({"REST_KEY": "rest"}, settings) == ["django_upscope.E006", "django_upscope.W001"]


@pytest.mark.parametrize(
    "upscope",
    [
        {},
        {"API_KEY": ""},
        {"API_URL": "https://api.upscope.io/v1.1"},
        {"BASE_ENDPOINT": "https://support.acmetech.test"},
    ],
)
def test_w001_no_credentials_is_a_warning(settings, upscope):
    settings.UPSCOPE = upscope
    messages = check_settings()
    assert [m.id for m in messages] == ["django_upscope.W001"]
    assert messages[0].level == WARNING
    assert "UPSCOPE['API_KEY']" in messages[0].hint


def test_w001_when_upscope_is_not_set(settings):
    del settings.UPSCOPE
    assert [m.id for m in check_settings()] == ["django_upscope.W001"]


@pytest.mark.parametrize(
    "upscope",
    [
        {"API_KEY": "sk", "API_URL": "http://api.upscope.test/v1.1"},
        {"BASE_ENDPOINT": "http://support.acmetech.test", "REST_KEY": "rest"},
    ],
)
def test_w002_plain_http_while_debug_is_off(settings, upscope):
    assert ids(upscope, settings, debug=False) == ["django_upscope.W002"]
    assert ids(upscope, settings, debug=True) == []


def test_checks_are_registered_with_django(settings):
    settings.UPSCOPE = {"REST_KEY": "rest", "APIKEY": 1}
    found = {m.id for m in run_checks() if m.id and m.id.startswith("django_upscope.E")}
    assert {"django_upscope.E004", "django_upscope.E006"} <= found


def test_a_project_without_credentials_passes_manage_py_check(settings):
    settings.UPSCOPE = {}
    out, err = StringIO(), StringIO()
    call_command("check", stdout=out, stderr=err)
    assert "django_upscope.W001" in out.getvalue() + err.getvalue()


@pytest.mark.parametrize("key", ["PERMISSIONS_MAPPER", "METADATA_HOOK", "RETRY_SLEEP"])
@pytest.mark.parametrize(
    "value", ["no_such_module.hook", "django_upscope.conf.no_such_name", "django_upscope.conf"]
)
def test_e007_a_callable_setting_that_cannot_be_imported(settings, key, value):
    settings.UPSCOPE = {**CLOUD, key: value}
    (message,) = check_settings()
    assert (message.id, message.level) == ("django_upscope.E007", ERROR)
    assert f"UPSCOPE['{key}']" in message.msg


@pytest.mark.parametrize("key", ["PERMISSIONS_MAPPER", "METADATA_HOOK", "RETRY_SLEEP"])
def test_e007_not_raised_for_an_importable_callable(settings, key):
    # The positive control: a dotted path to a real callable, and a callable itself.
    assert ids({**CLOUD, key: "django_upscope.testing.retry.record_sleep"}, settings) == []
    assert ids({**CLOUD, key: print}, settings) == []


@pytest.mark.parametrize(
    "value",
    [
        "o.upscope.io",
        [],
        ["https://o.upscope.io"],
        ["o.upscope.io/x"],
        ["*"],
        ["*.*.io"],
        [3],
        ["bad host"],
        ["o.upscope.io:443"],
    ],
)
def test_e008_malformed_watch_url_hosts(settings, value):
    assert ids({**CLOUD, "WATCH_URL_HOSTS": value}, settings) == ["django_upscope.E008"]


@pytest.mark.parametrize(
    "value", [None, ["o.upscope.io"], ("*.upscope.io", "watch.example.com", "127.0.0.1", "[::1]")]
)
def test_e008_not_raised_for_host_lists(settings, value):
    assert ids({**CLOUD, "WATCH_URL_HOSTS": value}, settings) == []
