"""No API key, REST key or watch URL in any log record, error page, exception text,
command output or audit row, after driving every surface on its success and its
error paths. The fake is made to echo the secrets back in its error bodies (the
worst case). Only the agent's own answers (the screen-share page, the DRF
watch-URL response) may hold the watch URL minted for that agent.
"""

from __future__ import annotations

import html
import io
import json
import logging
import re
import traceback
import types
from urllib.parse import urlsplit

import pytest
from django.core.management import CommandError, call_command
from django.core.servers.basehttp import WSGIRequestHandler
from django.test import Client
from django.urls import reverse
from django.utils.log import ServerFormatter
from django.views.debug import SafeExceptionReporterFilter

from django_upscope import services
from django_upscope.exceptions import UpscopeConfigurationError, UpscopeError
from django_upscope.fake import state
from django_upscope.fake.log_filters import RedactWatchTokens
from django_upscope.models import AuditEvent

from ..helpers import make_user
from .conftest import ADMIN_SURFACES, API_SURFACES, HAS_DRF, SHORT_ID, all_codenames, send

API_KEY = "fake_SECRET_API_KEY_c0ffee42"
REST_KEY = "fake_SECRET_REST_KEY_0ddba11"
IFRAME_RE = re.compile(r'<iframe id="upscope-watch-frame" src="([^"]+)"')


def exception_text(exc: BaseException) -> str:
    parts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        parts += [str(exc), repr(exc)]
        exc = exc.__cause__ or exc.__context__
    return "\n".join(parts)


def audit_text() -> str:
    return json.dumps(list(AuditEvent.objects.values()), default=str)


def secrets_of(watch_urls: list[str]) -> list[str]:
    found = [API_KEY, REST_KEY]
    for url in watch_urls:
        found += [url, urlsplit(url).path.rsplit("/", 1)[-1]]
    return found


def assert_clean(label: str, text: str, secrets: list[str]) -> None:
    unescaped = html.unescape(text)
    for secret in secrets:
        assert secret not in text and secret not in unescaped, f"{label} leaks a secret"


class Drive:
    """Drives surfaces and keeps what a person or an operator could see."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.seen: list[tuple[str, str]] = []

    def surface(self, surface, short_id: str = SHORT_ID, label: str = "") -> None:
        response = send(self.client, surface, short_id, follow=surface.kind == "admin")
        assert response.status_code < 500 or response.status_code in (501, 502, 503, 504), (
            surface.name,
            response.status_code,
        )
        text = response.content.decode("utf-8", "replace") + json.dumps(dict(response.headers))
        self.seen.append((f"{label} {surface.name} -> {response.status_code}", text))

    def all(self, surfaces, label: str) -> None:
        for surface in surfaces:
            self.surface(surface, label=label)
            self.surface(surface, short_id="NOSUCHVISITOR", label=label + " unknown")

    def command(self, name: str, *args: str, label: str = "") -> None:
        out, err = io.StringIO(), io.StringIO()
        try:
            call_command(name, *args, stdout=out, stderr=err)
        except CommandError as exc:
            self.seen.append((f"{label} {name} error", exception_text(exc)))
        self.seen.append((f"{label} {name}", out.getvalue() + err.getvalue()))


def faults(watch_url: str) -> list[dict]:
    echo = f"<html>key={API_KEY} rest={REST_KEY} watch={watch_url}</html>"
    return [
        {"status": 500, "body": echo},
        {"status": 401, "code": "invalid_api_key"},
        {"status": 401, "body": {"status": "error", "error": API_KEY.lower()}},
        {"status": 402, "body": echo},
        {"status": 404, "body": echo},
        {"status": 429, "retry_after": API_KEY},
        {"status": 503, "retry_after": "1"},
        {"body": echo},
        {"body": '{"watch_url": "' + watch_url, "content_type": "application/json"},
        {"body": {"watch_url": watch_url.replace("http", "javascript")}},
        {"drop": "partial"},
        {"drop": True},
    ]


@pytest.fixture
def boss_client(client):
    client.force_login(make_user("boss", all_codenames()))
    return client


def test_cloud_surfaces_leak_nothing(settings, upscope_fake, visitor, boss_client, all_logs):
    settings.UPSCOPE = {**settings.UPSCOPE, "API_KEY": API_KEY, "MAX_RETRIES": 1}
    surfaces = ADMIN_SURFACES + (API_SURFACES if HAS_DRF else [])
    drive = Drive(boss_client)
    watch_urls = []

    # The agent's own answers: the screen-share page and the DRF watch-URL response.
    own = boss_client.get(reverse("admin:django_upscope_visitor_screenshare", args=[visitor]))
    watch_urls.append(html.unescape(IFRAME_RE.search(own.content.decode())[1]))
    own_texts = [own.content.decode()]
    if HAS_DRF:
        own_api = boss_client.post(
            reverse("django_upscope:api:visitor-watch-url", args=[visitor]),
            {"metadata": {"ticket": "T-1"}},
            content_type="application/json",
        )
        assert own_api.status_code == 201
        watch_urls.append(own_api.json()["watch_url"])
        own_texts.append(own_api.content.decode())

    own_pages = ("admin screen-share page", "admin screen-share confirmation", "api watch url")
    minted = [s for s in surfaces if s.name not in own_pages]
    drive.all(minted, "ok")
    drive.command("upscope_sync", label="ok")
    drive.command("upscope_usage_snapshot", label="ok")

    # Every error path, with the fake echoing the secrets back.
    exceptions = []
    actor = services.Actor(user=make_user("agent", all_codenames()), source="command")
    for fault in faults(watch_urls[0]):
        state.clear_faults()
        upscope_fake.fail("*", times=None, **fault)
        label = json.dumps(fault)[:40]
        drive.all(surfaces, label)
        drive.command("upscope_sync", label=label)
        for call in (
            lambda: services.start_screenshare(actor, visitor),
            lambda: services.stop_session(actor, visitor),
            lambda: services.get_usage(),
            lambda: services.search_visitors("vera"),
            lambda: services.refresh_visitor(actor, visitor),
        ):
            try:
                call()
            except UpscopeError as exc:
                exceptions.append(exception_text(exc))
    state.clear_faults()

    # Bad input: refused with clear errors.
    if HAS_DRF:
        bad = boss_client.post(
            reverse("django_upscope:api:visitor-watch-url", args=[visitor]),
            {"metadata": {"nested": {"key": API_KEY}}, "on_end_url": "http://[::1"},
            content_type="application/json",
        )
        assert bad.status_code == 400
        drive.seen.append(("bad input", bad.content.decode()))

    assert len(exceptions) >= 30
    secrets = secrets_of(watch_urls)
    for label, text in drive.seen:
        assert_clean(label, text, secrets)
    for text in exceptions:
        assert_clean("exception", text, secrets)
    for text in own_texts:
        assert_clean("own page", text, [API_KEY, REST_KEY])
    assert_clean("logs", all_logs.text(), secrets)
    assert_clean("audit", audit_text(), secrets)
    # The trail holds an HMAC of each minted URL, never the URL.
    assert AuditEvent.objects.filter(outcome="success", action="watch_url").count() == len(
        watch_urls
    )
    assert AuditEvent.objects.filter(outcome="failure").count() >= 20
    assert all_logs.records, "nothing was logged: the capture is broken"


@pytest.fixture
def onprem_fake(settings, request):
    settings.UPSCOPE = {**settings.UPSCOPE, "FAKE_REST_KEY": REST_KEY, "MAX_RETRIES": 1}
    return request.getfixturevalue("upscope_fake_onprem")


def test_onprem_surfaces_leak_nothing(settings, onprem_fake, boss_client, all_logs):
    assert settings.UPSCOPE["REST_KEY"] == REST_KEY
    onprem_fake.add_visitor(short_id=SHORT_ID)
    surfaces = ADMIN_SURFACES + (API_SURFACES if HAS_DRF else [])
    drive = Drive(boss_client)
    drive.all(surfaces, "ok")
    drive.command("upscope_sync", label="ok")
    for fault in faults("https://o.upscope.test/watch/NOT_MINTED_0123456789abcdef"):
        state.clear_faults()
        onprem_fake.fail("*", times=None, **fault)
        label = json.dumps(fault)[:40]
        drive.all([s for s in surfaces if s.method == "GET"], label)
        drive.command("upscope_sync", label=label)
    assert onprem_fake.requests(), "nothing reached the on-premise fake"
    for label, text in drive.seen:
        assert_clean(label, text, [API_KEY, REST_KEY])
    assert_clean("logs", all_logs.text(), [API_KEY, REST_KEY])
    assert_clean("audit", audit_text(), [API_KEY, REST_KEY])


# -- keys that cannot go in a header ---------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        API_KEY + "\n",  # read from a file with its newline
        " " + API_KEY,
        API_KEY + "\u201d",  # a typographic quote copied with it
        API_KEY + "ключ",  # not latin-1: http.client would raise UnicodeEncodeError
        API_KEY[:10] + "\r\nX-Injected: 1",
    ],
    ids=["newline", "space", "quote", "cyrillic", "header injection"],
)
def test_unsendable_key_is_a_configuration_error_naming_no_key(
    settings, upscope_fake, visitor, boss_client, all_logs, key
):
    settings.UPSCOPE = {**settings.UPSCOPE, "API_KEY": key}
    page = boss_client.get(reverse("admin:django_upscope_visitor_screenshare", args=[visitor]))
    assert page.status_code == 502  # a configuration error: 502, as in the API
    assert b"not configured" in page.content
    actor = services.Actor(user=make_user("agent", all_codenames()), source="command")
    with pytest.raises(UpscopeConfigurationError) as caught:
        services.stop_session(actor, visitor)
    texts = [page.content.decode(), exception_text(caught.value), all_logs.text(), audit_text()]
    stem = API_KEY[:10]
    for text in texts:
        assert stem not in text
    assert upscope_fake.requests() == []


# -- Django's error reports -------------------------------------------------------------------


def test_safe_settings_cleanse_every_upscope_secret(settings):
    settings.UPSCOPE = {
        **settings.UPSCOPE,
        "API_KEY": API_KEY,
        "REST_KEY": REST_KEY,
        "FAKE_REST_KEY": REST_KEY,
    }
    safe = SafeExceptionReporterFilter().get_safe_settings()
    cleansed = SafeExceptionReporterFilter.cleansed_substitute
    assert safe["UPSCOPE"]["API_KEY"] == cleansed
    assert safe["UPSCOPE"]["REST_KEY"] == cleansed
    assert safe["UPSCOPE"]["FAKE_REST_KEY"] == cleansed
    assert API_KEY not in repr(safe) and REST_KEY not in repr(safe)


def explode(request, short_id):
    raise RuntimeError("metadata hook bug")


def test_debug_500_page_shows_no_key(settings, upscope_fake, visitor):
    settings.DEBUG = True
    settings.UPSCOPE = {
        **settings.UPSCOPE,
        "API_KEY": API_KEY,
        "METADATA_HOOK": f"{__name__}.explode",
    }
    client = Client(raise_request_exception=False)
    client.force_login(make_user("agent", ["screenshare_visitor"]))
    response = client.get(reverse("admin:django_upscope_visitor_screenshare", args=[visitor]))
    assert response.status_code == 500
    page = response.content.decode()
    assert "metadata hook bug" in page and "UPSCOPE" in page  # the technical page
    assert API_KEY not in page


# -- runserver's access log ---------------------------------------------------------------


def test_fake_app_installs_the_redaction_filter():
    filters = logging.getLogger("django.server").filters
    assert any(isinstance(f, RedactWatchTokens) for f in filters)


@pytest.mark.parametrize("status", ["200", "404", "500"])
@pytest.mark.parametrize("suffix", ["", "/status.json", "/status.json?x=1"])
def test_runserver_access_log_redacts_watch_tokens(upscope_fake, visitor, status, suffix):
    watch_url = upscope_fake.client().create_watch_url(visitor, agent_id="1", agent_name="A")
    token = urlsplit(watch_url).path.rsplit("/", 1)[-1]
    assert len(token) >= 32
    path = urlsplit(watch_url).path + suffix
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    handler.setFormatter(ServerFormatter())
    server_logger = logging.getLogger("django.server")
    server_logger.addHandler(handler)
    try:
        # What django.core.servers.basehttp.WSGIRequestHandler does for each request.
        handler_self = types.SimpleNamespace(request=None, log_date_time_string=lambda: "now")
        WSGIRequestHandler.log_message(
            handler_self, '"%s" %s %s', f"GET {path} HTTP/1.1", status, "1234"
        )
    finally:
        server_logger.removeHandler(handler)
    [record] = records
    line = handler.format(record)
    assert token not in line
    assert "/watch/[redacted]" in line
    assert f" {status} " in line
