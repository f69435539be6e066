"""Unit tests of UpscopeClient with ``responses``: what goes over the wire, in both modes.

Every test registers the exact method and URL docs/upscope-api.md documents; ``responses``
refuses anything else, so an unexpected request fails the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from django_upscope import __version__, capabilities
from django_upscope.client import UpscopeClient
from django_upscope.exceptions import (
    UpscopeConfigurationError,
    UpscopeNotSupported,
)
from django_upscope.resources import Usage, VisitorData, WatchURL

from ..payloads import (
    API_KEY,
    BASE_ENDPOINT,
    CLOUD_URL,
    ONPREM_API,
    REST_KEY,
    TIMEOUT,
    USAGE,
    WATCH_URL,
    cloud_client,
    onprem_client,
    visitor_detail,
    visitor_list,
)


@pytest.fixture(autouse=True)
def _every_stub_is_used(rsps):
    """Here a stubbed answer that no request asked for is a failure."""
    rsps.assert_all_requests_are_fired = True


@pytest.fixture
def cloud():
    client = cloud_client()
    return client


@pytest.fixture
def onprem():
    client = onprem_client()
    return client


def only_call(rsps):
    assert len(rsps.calls) == 1, [c.request.url for c in rsps.calls]
    return rsps.calls[0].request


def query_of(request) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request.url).query, keep_blank_values=True)


def path_of(request) -> str:
    return urlsplit(request.url).path


def assert_cloud_headers(request) -> None:
    assert request.headers["X-Api-Key"] == API_KEY
    assert "Authorization" not in request.headers
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith(f"django-upscope/{__version__} ")
    assert request.req_kwargs["timeout"] == TIMEOUT


def assert_onprem_headers(request) -> None:
    # The raw REST key: no "Bearer", no X-Api-Key.
    assert request.headers["Authorization"] == REST_KEY
    assert "X-Api-Key" not in request.headers
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith(f"django-upscope/{__version__} ")
    assert request.req_kwargs["timeout"] == TIMEOUT


# -- cloud: every operation (docs/upscope-api.md, "Cloud API") -----------------------------


def test_cloud_get_usage(rsps, cloud):
    rsps.get(f"{CLOUD_URL}/usage.json", json=USAGE)
    usage = cloud.get_usage()
    request = only_call(rsps)
    assert request.method == "GET"
    assert request.url == f"{CLOUD_URL}/usage.json"
    assert request.body is None
    assert_cloud_headers(request)
    assert isinstance(usage, Usage)
    assert usage.visitors.online_now == 100
    assert usage.visitors.last_24_hrs == 1000
    assert usage.visitors.last_30_days == 40000
    assert usage.agents.today == 5
    assert usage.agents.last_30_days == 20
    assert usage.session_counts.now == 3
    assert usage.session_counts.today == 30
    assert usage.session_counts.last_30_days == 100
    assert usage.session_seconds.today == 400
    assert usage.session_seconds.last_30_days == 10000


def test_cloud_search_visitors_sends_search_param(rsps, cloud):
    rsps.get(f"{CLOUD_URL}/list.json", json=visitor_list("AAAA1", "BBBB2"))
    visitors = cloud.search_visitors("joe smith #customer")
    request = only_call(rsps)
    assert request.method == "GET"
    assert path_of(request) == "/v1.1/list.json"
    assert query_of(request) == {"search": ["joe smith #customer"]}
    assert_cloud_headers(request)
    assert [v.short_id for v in visitors] == ["AAAA1", "BBBB2"]
    assert all(isinstance(v, VisitorData) for v in visitors)


@pytest.mark.parametrize("query", [None, "", "   "])
def test_cloud_search_without_query_sends_no_search_param(rsps, cloud, query):
    rsps.get(f"{CLOUD_URL}/list.json", json=visitor_list("AAAA1"))
    cloud.search_visitors(query)
    request = only_call(rsps)
    assert request.url == f"{CLOUD_URL}/list.json"


def test_cloud_latest_visitors_is_the_unfiltered_list(rsps, cloud):
    rsps.get(f"{CLOUD_URL}/list.json", json=visitor_list("AAAA1"))
    visitors = cloud.latest_visitors()
    request = only_call(rsps)
    assert request.url == f"{CLOUD_URL}/list.json"
    assert_cloud_headers(request)
    assert [v.short_id for v in visitors] == ["AAAA1"]


def test_cloud_get_visitor(rsps, cloud):
    rsps.get(f"{CLOUD_URL}/visitors/ABCD1234.json", json=visitor_detail())
    found = cloud.get_visitor("ABCD1234")
    request = only_call(rsps)
    assert request.method == "GET"
    assert request.url == f"{CLOUD_URL}/visitors/ABCD1234.json"
    assert_cloud_headers(request)
    assert found.short_id == "ABCD1234"
    assert found.history is None


def test_cloud_get_visitor_with_history(rsps, cloud):
    history = {"pageviews": [{"url": "https://your-website.com/abc"}], "screenshots": []}
    rsps.get(f"{CLOUD_URL}/visitors/ABCD1234.json", json=visitor_detail(history=history))
    found = cloud.get_visitor("ABCD1234", with_history=True)
    request = only_call(rsps)
    assert path_of(request) == "/v1.1/visitors/ABCD1234.json"
    assert urlsplit(request.url).query == "with_history=true"
    assert_cloud_headers(request)
    assert found.history == history


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (json.dumps({"status": "ok"}), "application/json"),
        ("ok", "text/plain"),
        ("", "text/plain"),
    ],
)
def test_cloud_delete_visitor(rsps, cloud, body, content_type):
    rsps.delete(f"{CLOUD_URL}/visitors/ABCD1234.json", body=body, content_type=content_type)
    assert cloud.delete_visitor("ABCD1234") is None
    request = only_call(rsps)
    assert request.method == "DELETE"
    assert request.url == f"{CLOUD_URL}/visitors/ABCD1234.json"
    assert_cloud_headers(request)


def test_cloud_purge_offline_visitors(rsps, cloud):
    rsps.delete(f"{CLOUD_URL}/visitors.json", json={"status": "ok"})
    assert cloud.purge_offline_visitors() is None
    request = only_call(rsps)
    assert request.method == "DELETE"
    assert path_of(request) == "/v1.1/visitors.json"
    assert urlsplit(request.url).query == "all=true"
    assert_cloud_headers(request)


def test_delete_offline_visitors_is_the_old_name_of_the_purge(rsps, cloud):
    rsps.delete(f"{CLOUD_URL}/visitors.json", json={"status": "ok"})
    assert cloud.delete_offline_visitors() is None
    request = only_call(rsps)
    assert (request.method, request.url) == ("DELETE", f"{CLOUD_URL}/visitors.json?all=true")


def test_cloud_create_watch_url_sends_the_documented_body(rsps, cloud):
    rsps.post(f"{CLOUD_URL}/visitors/ABCD1234/watch_url.json", json={"watch_url": WATCH_URL})
    url = cloud.create_watch_url(
        "ABCD1234",
        agent_id="123",
        agent_name="Joe Smith",
        branding={
            "naked": True,
            "retry_url": "https://your-website.com/admin/screenshare/XYZ",
            "no_bottom_bar": False,
            "on_end_url": "https://your-website.com/admin/screenshare/XYZ/ended",
        },
        permissions={"allow_click": False, "allow_console": False},
        metadata={"key": "value", "ticket": 42, "ratio": 0.5, "vip": True},
    )
    request = only_call(rsps)
    assert request.method == "POST"
    assert request.url == f"{CLOUD_URL}/visitors/ABCD1234/watch_url.json"
    assert request.headers["Content-Type"] == "application/json"
    assert_cloud_headers(request)
    assert json.loads(request.body) == {
        "agent": {"id": "123", "name": "Joe Smith"},
        "branding": {
            "naked": True,
            "retry_url": "https://your-website.com/admin/screenshare/XYZ",
            "no_bottom_bar": False,
            "on_end_url": "https://your-website.com/admin/screenshare/XYZ/ended",
        },
        "permissions": {"allow_click": False, "allow_console": False},
        "metadata": {"key": "value", "ticket": 42, "ratio": 0.5, "vip": True},
    }
    assert isinstance(url, WatchURL)
    assert url == WATCH_URL


def test_cloud_create_watch_url_minimal_body_has_only_the_agent(rsps, cloud):
    rsps.post(f"{CLOUD_URL}/visitors/ABCD1234/watch_url.json", json={"watch_url": WATCH_URL})
    cloud.create_watch_url("ABCD1234", agent_id=7, agent_name="Ann")
    request = only_call(rsps)
    # An integer agent id is sent as the string Upscope shows as agent_identifier.
    assert json.loads(request.body) == {"agent": {"id": "7", "name": "Ann"}}


def test_cloud_create_watch_url_accepts_naked_page_only(rsps, cloud):
    rsps.post(f"{CLOUD_URL}/visitors/ABCD1234/watch_url.json", json={"watch_url": WATCH_URL})
    cloud.create_watch_url(
        "ABCD1234", agent_id="1", agent_name="A", branding={"naked": "page_only"}
    )
    assert json.loads(only_call(rsps).body)["branding"] == {"naked": "page_only"}


@pytest.mark.parametrize("body", ["ok", "ok\n", '"ok"'])
def test_cloud_stop_session(rsps, cloud, body):
    rsps.delete(f"{CLOUD_URL}/visitors/ABCD1234/session", body=body, content_type="text/plain")
    assert cloud.stop_session("ABCD1234") is None
    request = only_call(rsps)
    assert request.method == "DELETE"
    # No .json suffix on this one endpoint (docs/upscope-api.md, "Stopping a session").
    assert request.url == f"{CLOUD_URL}/visitors/ABCD1234/session"
    assert_cloud_headers(request)


def test_api_url_trailing_slash_is_ignored(rsps):
    client = cloud_client(api_url=CLOUD_URL + "/")
    rsps.get(f"{CLOUD_URL}/usage.json", json=USAGE)
    client.get_usage()
    assert only_call(rsps).url == f"{CLOUD_URL}/usage.json"


def test_default_api_url_is_upscope_v1_1(rsps):
    client = UpscopeClient(api_key=API_KEY)
    rsps.get("https://api.upscope.io/v1.1/usage.json", json=USAGE)
    client.get_usage()
    assert only_call(rsps).url == "https://api.upscope.io/v1.1/usage.json"


def test_one_session_is_reused_for_every_request(rsps, cloud):
    session = cloud.session
    assert isinstance(session, requests.Session)
    rsps.get(f"{CLOUD_URL}/usage.json", json=USAGE)
    rsps.get(f"{CLOUD_URL}/list.json", json=visitor_list("AAAA1"))
    cloud.get_usage()
    cloud.search_visitors()
    assert cloud.session is session
    assert len(rsps.calls) == 2


def test_a_caller_session_is_used(rsps):
    session = requests.Session()
    client = cloud_client(session=session)
    rsps.get(f"{CLOUD_URL}/usage.json", json=USAGE)
    client.get_usage()
    assert client.session is session
    assert session.headers["Accept"] == "application/json"


# -- on-premise: every operation (docs/upscope-api.md, "On-premise API") -------------------


def test_onprem_latest_visitors(rsps, onprem):
    rsps.get(f"{ONPREM_API}/visitors/list/latest", json=visitor_list("1234"))
    visitors = onprem.latest_visitors()
    request = only_call(rsps)
    assert request.method == "GET"
    assert request.url == "https://support.acmetech.test/cobrowsing/api/visitors/list/latest"
    assert_onprem_headers(request)
    assert [v.short_id for v in visitors] == ["1234"]


def test_onprem_search_visitors_sends_q(rsps, onprem):
    rsps.get(f"{ONPREM_API}/visitors/list/search", json=visitor_list("1234"))
    visitors = onprem.search_visitors("-online ip:1.2.3.4")
    request = only_call(rsps)
    assert request.method == "GET"
    assert path_of(request) == "/cobrowsing/api/visitors/list/search"
    assert query_of(request) == {"q": ["-online ip:1.2.3.4"]}
    assert_onprem_headers(request)
    assert [v.short_id for v in visitors] == ["1234"]


def test_onprem_search_without_query_sends_no_q(rsps, onprem):
    rsps.get(f"{ONPREM_API}/visitors/list/search", json=visitor_list("1234"))
    onprem.search_visitors()
    assert only_call(rsps).url == f"{ONPREM_API}/visitors/list/search"


def test_onprem_get_visitor_has_no_json_suffix(rsps, onprem):
    rsps.get(f"{ONPREM_API}/visitors/1234", json=visitor_detail(short_id="1234"))
    found = onprem.get_visitor("1234")
    request = only_call(rsps)
    assert request.method == "GET"
    assert request.url == f"{ONPREM_API}/visitors/1234"
    assert_onprem_headers(request)
    assert found.short_id == "1234"


def test_onprem_base_endpoint_trailing_slash(rsps):
    client = onprem_client(base_endpoint=BASE_ENDPOINT + "/")
    rsps.get(f"{ONPREM_API}/visitors/list/latest", json=visitor_list())
    assert client.latest_visitors() == []
    assert only_call(rsps).url == f"{ONPREM_API}/visitors/list/latest"


UNSUPPORTED_ON_PREMISE = [
    ("get_usage", lambda c: c.get_usage()),
    ("delete_visitor", lambda c: c.delete_visitor("1234")),
    ("purge_offline_visitors", lambda c: c.purge_offline_visitors()),
    ("create_watch_url", lambda c: c.create_watch_url("1234", agent_id="1", agent_name="A")),
    ("stop_session", lambda c: c.stop_session("1234")),
    ("get_visitor_history", lambda c: c.get_visitor("1234", with_history=True)),
]


@pytest.mark.parametrize(("name", "call"), UNSUPPORTED_ON_PREMISE)
def test_onprem_undocumented_operations_send_nothing(rsps, onprem, name, call):
    with pytest.raises(UpscopeNotSupported) as info:
        call(onprem)
    assert len(rsps.calls) == 0
    assert info.value.code == "not_supported_on_premise"
    assert info.value.status_code is None
    # In people's words, naming no method: the API and the admin show it as it is.
    assert str(info.value) == capabilities.unsupported_message(name)
    assert str(info.value).startswith("This Upscope server (on-premise) does not offer ")
    assert name not in str(info.value)


# -- missing credentials ---------------------------------------------------------------------

CLOUD_CALLS = [
    lambda c: c.get_usage(),
    lambda c: c.search_visitors("x"),
    lambda c: c.latest_visitors(),
    lambda c: c.get_visitor("ABCD1234"),
    lambda c: c.get_visitor("ABCD1234", with_history=True),
    lambda c: c.delete_visitor("ABCD1234"),
    lambda c: c.purge_offline_visitors(),
    lambda c: c.create_watch_url("ABCD1234", agent_id="1", agent_name="A"),
    lambda c: c.stop_session("ABCD1234"),
]
ONPREM_CALLS = [
    lambda c: c.latest_visitors(),
    lambda c: c.search_visitors("x"),
    lambda c: c.get_visitor("1234"),
]


@pytest.mark.parametrize("call", CLOUD_CALLS)
@pytest.mark.parametrize("api_key", [None, ""])
def test_cloud_without_api_key_names_the_setting_and_sends_nothing(rsps, call, api_key):
    client = cloud_client(api_key=api_key)
    with pytest.raises(UpscopeConfigurationError) as info:
        call(client)
    assert len(rsps.calls) == 0
    assert "UPSCOPE['API_KEY']" in str(info.value)
    assert info.value.code == "not_configured"


@pytest.mark.parametrize("call", ONPREM_CALLS)
def test_onprem_without_rest_key_names_the_setting_and_sends_nothing(rsps, call):
    client = onprem_client(rest_key=None)
    with pytest.raises(UpscopeConfigurationError) as info:
        call(client)
    assert len(rsps.calls) == 0
    assert "UPSCOPE['REST_KEY']" in str(info.value)


def test_configuration_error_is_an_improperly_configured():
    from django.core.exceptions import ImproperlyConfigured

    assert issubclass(UpscopeConfigurationError, ImproperlyConfigured)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"api_key": API_KEY, "base_endpoint": BASE_ENDPOINT, "rest_key": REST_KEY}, "not both"),
        ({"api_url": CLOUD_URL, "base_endpoint": BASE_ENDPOINT, "rest_key": REST_KEY}, "not both"),
        ({"rest_key": REST_KEY}, "BASE_ENDPOINT"),
        ({"api_key": API_KEY, "api_url": "api.upscope.io/v1.1"}, "UPSCOPE['API_URL']"),
        ({"api_key": API_KEY, "api_url": "ftp://api.upscope.io"}, "UPSCOPE['API_URL']"),
        ({"rest_key": REST_KEY, "base_endpoint": "support.acme"}, "UPSCOPE['BASE_ENDPOINT']"),
        ({"api_key": API_KEY, "timeout": 0}, "UPSCOPE['TIMEOUT']"),
        ({"api_key": API_KEY, "timeout": "10"}, "UPSCOPE['TIMEOUT']"),
        ({"api_key": API_KEY, "timeout": float("nan")}, "UPSCOPE['TIMEOUT']"),
        ({"api_key": API_KEY, "max_retries": -1}, "UPSCOPE['MAX_RETRIES']"),
        ({"api_key": API_KEY, "max_retries": 1.5}, "UPSCOPE['MAX_RETRIES']"),
        ({"api_key": API_KEY, "retry_max_time": -1}, "UPSCOPE['RETRY_MAX_TIME']"),
        ({"api_key": API_KEY, "retry_backoff": True}, "UPSCOPE['RETRY_BACKOFF']"),
    ],
)
def test_contradictory_or_malformed_client_configuration_is_refused(kwargs, fragment):
    with pytest.raises(UpscopeConfigurationError) as info:
        UpscopeClient(**kwargs)
    assert fragment in str(info.value)


def test_repr_names_mode_and_url_only():
    assert repr(cloud_client()) == f"<UpscopeClient cloud {CLOUD_URL}>"
    assert repr(onprem_client()) == f"<UpscopeClient on-premise {ONPREM_API}>"


# -- without Django settings ----------------------------------------------------------------

STANDALONE = r"""
import http.server, json, sys, threading

from django.conf import settings

from django_upscope.client import UpscopeClient
from django_upscope.conf import DEFAULTS

seen = []


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        seen.append((self.path, self.headers.get("X-Api-Key")))
        body = json.dumps({"usage": {"visitors": {"online_now": 7}}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
url = f"http://127.0.0.1:{server.server_address[1]}/v1.1"
client = UpscopeClient(
    api_key="sk_standalone", api_url=url, timeout=5.0, max_retries=0,
    retry_max_time=1.0, retry_backoff=0.0,
)
usage = client.get_usage()
defaults = UpscopeClient(api_key="sk_standalone", api_url=url)
server.shutdown()
print(json.dumps({
    "online_now": usage.visitors.online_now,
    "seen": seen,
    "configured": settings.configured,
    "defaults": [defaults.timeout, defaults.max_retries, defaults.retry_max_time,
                 defaults.retry_backoff],
    "expected": [DEFAULTS[k] for k in ("TIMEOUT", "MAX_RETRIES", "RETRY_MAX_TIME",
                                       "RETRY_BACKOFF")],
}))
"""


def test_the_client_works_without_django_settings():
    # pytest-django configures settings in this process: only a fresh one can tell.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    done = subprocess.run(  # noqa: S603  (our own script, run by this interpreter)
        [sys.executable, "-c", STANDALONE],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["online_now"] == 7
    assert result["seen"] == [["/v1.1/usage.json", "sk_standalone"]]
    # Django's settings were never read, so never configured.
    assert result["configured"] is False
    assert result["defaults"] == result["expected"]
