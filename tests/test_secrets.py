"""No error path lets the API key, the REST key or a watch URL out.

For every way a call can fail, in both modes, the secrets must be absent from
``str(exc)``, ``repr(exc)``, the text of every chained exception, the printed
traceback, Django's error report (which shows local variables: the admin
e-mails of a production site) and every log record captured at DEBUG.
Upscope answers here deliberately echo the secrets back, the worst case.
"""

from __future__ import annotations

import logging
import sys
import traceback

import pytest
import requests
import responses
from django.views.debug import ExceptionReporter

from django_upscope.client import UpscopeClient
from django_upscope.exceptions import UpscopeError

from .payloads import (
    API_KEY,
    CLOUD_URL,
    ONPREM_API,
    REST_KEY,
    SECRETS,
    WATCH_URL,
    cloud_client,
    onprem_client,
)

ECHO_HTML = f"<html><body>key={API_KEY} rest={REST_KEY} url={WATCH_URL}</body></html>"
ECHO_JSON = {"status": "error", "error": "invalid_api_key", "key": API_KEY, "url": WATCH_URL}

WATCH = f"{CLOUD_URL}/visitors/ABCD1234/watch_url.json"
USAGE = f"{CLOUD_URL}/usage.json"
VISITOR = f"{CLOUD_URL}/visitors/ABCD1234.json"
SESSION = f"{CLOUD_URL}/visitors/ABCD1234/session"
LATEST = f"{ONPREM_API}/visitors/list/latest"


def mint(client):
    return client.create_watch_url("ABCD1234", agent_id="1", agent_name="A")


# (id, mode, method, url, answer, call). answer None: nothing is registered (the
# call must fail before sending).
SCENARIOS = [
    ("401", "cloud", "GET", USAGE, {"status": 401, "json": ECHO_JSON}, lambda c: c.get_usage()),
    (
        "401 watch",
        "cloud",
        "POST",
        WATCH,
        {"status": 401, "json": ECHO_JSON},
        mint,
    ),
    ("402", "cloud", "POST", WATCH, {"status": 402, "body": ECHO_HTML}, mint),
    (
        "404",
        "cloud",
        "GET",
        VISITOR,
        {"status": 404, "body": ECHO_HTML},
        lambda c: c.get_visitor("ABCD1234"),
    ),
    (
        "404 usage",
        "cloud",
        "GET",
        USAGE,
        {"status": 404, "body": ECHO_HTML},
        lambda c: c.get_usage(),
    ),
    (
        "429",
        "cloud",
        "GET",
        USAGE,
        {"status": 429, "body": ECHO_HTML, "headers": {"Retry-After": API_KEY}},
        lambda c: c.get_usage(),
    ),
    ("500", "cloud", "POST", WATCH, {"status": 500, "body": ECHO_HTML}, mint),
    (
        "503 retried",
        "cloud",
        "GET",
        USAGE,
        {"status": 503, "body": ECHO_HTML},
        lambda c: c.get_usage(),
    ),
    (
        "connection error",
        "cloud",
        "GET",
        USAGE,
        {"body": requests.ConnectionError(f"refused {CLOUD_URL}")},
        lambda c: c.get_usage(),
    ),
    (
        "connection error watch",
        "cloud",
        "POST",
        WATCH,
        {"body": requests.ConnectionError("reset")},
        mint,
    ),
    ("timeout", "cloud", "POST", WATCH, {"body": requests.ReadTimeout("slow")}, mint),
    (
        "html 200",
        "cloud",
        "GET",
        USAGE,
        {"body": ECHO_HTML, "content_type": "text/html"},
        lambda c: c.get_usage(),
    ),
    (
        "html 200 watch",
        "cloud",
        "POST",
        WATCH,
        {"body": ECHO_HTML, "content_type": "text/html"},
        mint,
    ),
    (
        "truncated watch",
        "cloud",
        "POST",
        WATCH,
        {"body": '{"watch_url": "' + WATCH_URL, "content_type": "application/json"},
        mint,
    ),
    (
        "watch url without scheme",
        "cloud",
        "POST",
        WATCH,
        {"json": {"watch_url": WATCH_URL.replace("https://", "")}},
        mint,
    ),
    (
        "watch url not http",
        "cloud",
        "POST",
        WATCH,
        {"json": {"watch_url": WATCH_URL.replace("https://", "javascript://")}},
        mint,
    ),
    (
        "status error 200",
        "cloud",
        "POST",
        WATCH,
        {"json": {"status": "error", "error": "x", "watch_url": WATCH_URL}},
        mint,
    ),
    (
        "stop session not ok",
        "cloud",
        "DELETE",
        SESSION,
        {"body": ECHO_HTML},
        lambda c: c.stop_session("ABCD1234"),
    ),
    (
        "wrong shape",
        "cloud",
        "GET",
        VISITOR,
        {"json": {"visitor": {"short_id": "A", "last_seen_at": API_KEY}}},
        lambda c: c.get_visitor("ABCD1234"),
    ),
    ("invalid input", "cloud", None, None, None, lambda c: c.get_visitor("../usage")),
    (
        "invalid metadata",
        "cloud",
        None,
        None,
        None,
        lambda c: c.create_watch_url("A", agent_id="1", agent_name="A", metadata={"k": {}}),
    ),
    (
        "401 onprem",
        "onprem",
        "GET",
        LATEST,
        {"status": 401, "body": ECHO_HTML},
        lambda c: c.latest_visitors(),
    ),
    (
        "connection error onprem",
        "onprem",
        "GET",
        LATEST,
        {"body": requests.ConnectionError("refused")},
        lambda c: c.latest_visitors(),
    ),
    (
        "html onprem",
        "onprem",
        "GET",
        LATEST,
        {"body": ECHO_HTML, "content_type": "text/html"},
        lambda c: c.latest_visitors(),
    ),
    ("not supported onprem", "onprem", None, None, None, mint),
]


PAYLOAD_IN_PARSER_FRAMES = {"wrong shape"}


def _chain(exc):
    # The chain as Python and Django print it: a suppressed context is not shown.
    seen = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return seen


def _texts(exc, caplog):
    texts = []
    for link in _chain(exc):
        texts += [str(link), repr(link), repr(link.args)]
    texts.append("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    for record in caplog.records:
        texts.append(record.getMessage())
        texts.append(logging.Formatter().format(record))
    return texts


def _capture(call, *args):
    """Call and return ``sys.exc_info()``; this frame holds no secret of its own."""
    try:
        call(*args)
    except UpscopeError:
        return sys.exc_info()
    pytest.fail("the call did not fail")


def _assert_clean(texts):
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"secret leaked in: {text[:300]}"


@pytest.mark.parametrize(
    ("label", "mode", "method", "url", "answer", "call"), SCENARIOS, ids=[s[0] for s in SCENARIOS]
)
def test_no_secret_in_errors_logs_or_reports(
    settings, caplog, label, mode, method, url, answer, call
):
    settings.DEBUG = False
    client = cloud_client() if mode == "cloud" else onprem_client()
    caplog.set_level(logging.DEBUG)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        if answer is not None:
            rsps.add(method, url, **answer)
        exc_info = _capture(call, client)
        if answer is None:
            assert len(rsps.calls) == 0
        else:
            assert len(rsps.calls) >= 1
    exc = exc_info[1]
    texts = _texts(exc, caplog)
    # Django's error report with local variables, as mailed to ADMINS when DEBUG is off.
    # Exception: the parser's frames show the visitor payload Upscope sent (its data, not
    # a secret we hold), here made to carry the key.
    if label not in PAYLOAD_IN_PARSER_FRAMES:
        texts.append(ExceptionReporter(None, *exc_info).get_traceback_html())
    _assert_clean(texts)


def test_missing_credentials_error_names_the_setting_not_a_value(caplog):
    client = cloud_client(api_key=None)
    with responses.RequestsMock(), pytest.raises(UpscopeError) as info:
        client.get_usage()
    assert "UPSCOPE['API_KEY']" in str(info.value)
    _assert_clean(_texts(info.value, caplog))


def test_a_successful_watch_url_is_never_logged(caplog):
    client = cloud_client()
    caplog.set_level(logging.DEBUG)
    with responses.RequestsMock() as rsps:
        rsps.post(WATCH, json={"watch_url": WATCH_URL})
        url = mint(client)
    assert url == WATCH_URL
    assert repr(url) == "<WatchURL redacted>"
    assert caplog.records, "the request is logged at DEBUG (without the URL)"
    _assert_clean([r.getMessage() for r in caplog.records])


def test_an_error_code_echoing_the_key_is_not_copied():
    key = "sk_lowercase_secret_key_0042"
    client = cloud_client(api_key=key, max_retries=0)
    with responses.RequestsMock() as rsps:
        rsps.get(USAGE, status=400, json={"status": "error", "error": key})
        with pytest.raises(UpscopeError) as info:
            client.get_usage()
    assert info.value.code == "http_400"
    assert key not in str(info.value) and key not in repr(info.value)


@pytest.mark.parametrize("make", [cloud_client, onprem_client])
def test_client_repr_and_str_hold_no_key(make):
    client = make()
    for text in (repr(client), str(client)):
        _assert_clean([text])


def test_the_key_is_not_a_default_session_header():
    # Sent per request, so it is not in session.headers for anything else to reuse or print.
    client = cloud_client()
    _assert_clean([repr(dict(client.session.headers))])


def _contradictory_client():
    return UpscopeClient(
        API_KEY, CLOUD_URL, base_endpoint="https://support.acmetech.test", rest_key=REST_KEY
    )


def test_a_configuration_error_in_the_constructor_does_not_report_the_key(settings):
    settings.DEBUG = False
    exc_info = _capture(_contradictory_client)
    _assert_clean([ExceptionReporter(None, *exc_info).get_traceback_html()])
