"""Issue 12 (hardening), the parts a test client can show: the confirmation page's referrer
policy, the watch origin, the iframe's sandbox, and reads that survive a failed mirror write.

The browser halves of these are in ``tests/browser/test_hardening.py``.
"""

from __future__ import annotations

import logging
import re

import pytest
from django.db import OperationalError
from django.urls import reverse

from django_upscope import services, sync
from django_upscope.admin.framing import WATCH_FRAME_SANDBOX, frame_allow, web_origin
from django_upscope.models import Visitor

from ..helpers import make_user

SANDBOX_RE = re.compile(r'<iframe id="upscope-watch-frame"[^>]*\ssandbox="([^"]*)"')
ALLOW_RE = re.compile(r'<iframe id="upscope-watch-frame"[^>]*\sallow="([^"]*)"')
IFRAME_RE = re.compile(r'<iframe id="upscope-watch-frame"[^>]*>')


def page_url(short_id):
    return reverse("admin:django_upscope_visitor_screenshare", args=[short_id])


# -- item 1: the confirmation page lets the browser send a real Origin ------------------------


@pytest.mark.django_db
def test_confirmation_page_keeps_the_referrer_same_origin(client):
    # no-referrer made Chromium post the form with "Origin: null", which CSRF refuses.
    client.force_login(make_user("agent", ["screenshare_visitor", "view_visitor"]))
    response = client.get(page_url("abc"), headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 200
    assert 'id="upscope-start-form"' in response.content.decode()
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "no-store" in response["Cache-Control"]


# -- item 9: the origin the page expects events from, as the browser serializes it ----------


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://app.upscope.io/w/abc", "https://app.upscope.io"),
        ("HTTPS://App.Upscope.IO/w/abc", "https://app.upscope.io"),
        ("https://app.upscope.io:443/w/abc", "https://app.upscope.io"),
        ("http://LOCALHOST:80/__upscope__/watch/t", "http://localhost"),
        ("http://127.0.0.1:8000/__upscope__/watch/t", "http://127.0.0.1:8000"),
        ("https://app.upscope.io:8443/w", "https://app.upscope.io:8443"),
        ("http://app.upscope.io:443/w", "http://app.upscope.io:443"),
        ("https://bücher.example/w", "https://xn--bcher-kva.example"),
        ("https://BÜCHER.example/w", "https://xn--bcher-kva.example"),
        ("https://faß.example/w", "https://xn--fa-hia.example"),
        ("https://user:pw@app.upscope.io/w", "https://app.upscope.io"),
        ("https://[::1]:443/w", "https://[::1]"),
        ("https://[0:0:0:0:0:0:0:1]:8443/w", "https://[::1]:8443"),
    ],
)
def test_web_origin_is_the_browsers_serialization(url, origin):
    assert web_origin(url) == origin


@pytest.mark.parametrize("url", ["", "/relative/path", "javascript:alert(1)", "https://:443/"])
def test_web_origin_of_a_url_without_a_web_origin_is_null(url):
    # "null" is what a browser calls an opaque origin; a real frame never posts from it here,
    # since the page also checks event.source.
    assert web_origin(url) == "null"


def test_the_share_page_expects_the_normalised_origin(login, upscope_fake, monkeypatch):
    short_id = upscope_fake.add_visitor(is_online=True)
    real = services.start_screenshare

    def upper_case_host(*args, **kwargs):
        share = real(*args, **kwargs)
        url = re.sub(r"^http://[^/]+", "http://LOCALHOST:80", share.watch_url)
        return services.ScreenShare(
            share.visitor_short_id, url, share.permissions, share.metadata, share.audit_event
        )

    monkeypatch.setattr(services, "start_screenshare", upper_case_host)
    client = login(make_user("agent", ["screenshare_visitor", "view_visitor"]))
    html = client.get(page_url(short_id)).content.decode()
    assert (
        '<script id="upscope-watch-origin" type="application/json">"http://localhost"</script>'
        in html
    )


# -- item 14: the narrowest sandbox and allow set --------------------------------------------


def test_watch_frame_sandbox_is_exactly_the_needed_tokens(login, upscope_fake):
    short_id = upscope_fake.add_visitor(is_online=True)
    client = login(make_user("agent", ["screenshare_visitor", "view_visitor"]))
    html = client.get(page_url(short_id)).content.decode()
    (sandbox,) = SANDBOX_RE.findall(html)
    assert sandbox.split() == [
        "allow-scripts",
        "allow-same-origin",
        "allow-top-navigation-by-user-activation",
    ]
    assert tuple(sandbox.split()) == WATCH_FRAME_SANDBOX
    # A view-only agent is granted no audio: the frame gets no microphone or autoplay.
    (iframe,) = IFRAME_RE.findall(html)
    assert " allow=" not in iframe
    assert 'referrerpolicy="no-referrer"' in iframe


def test_watch_frame_allows_microphone_and_autoplay_only_with_audio(login, upscope_fake):
    short_id = upscope_fake.add_visitor(is_online=True)
    client = login(make_user("agent", ["screenshare_visitor", "view_visitor", "audio_visitor"]))
    html = client.get(page_url(short_id)).content.decode()
    assert ALLOW_RE.findall(html) == ["microphone; autoplay"]


def test_frame_allow_follows_the_audio_permission():
    assert frame_allow({"allow_audio": True, "allow_click": True}) == "microphone; autoplay"
    assert frame_allow({"allow_audio": False, "allow_click": True}) == ""
    assert frame_allow({}) == ""


# -- item 2: a failed mirror write never fails a read ----------------------------------------


def locked(*args, **kwargs):
    raise OperationalError("database is locked")


def test_search_answers_when_the_mirror_write_fails(upscope_fake, monkeypatch, caplog):
    short_id = upscope_fake.add_visitor(is_online=True)
    monkeypatch.setattr(sync, "upsert_visitors", locked)
    caplog.set_level(logging.WARNING, logger="django_upscope.services")
    visitors = services.search_visitors()
    assert [v.short_id for v in visitors] == [short_id]
    assert not Visitor.objects.exists()
    assert any(r.levelno == logging.WARNING and "mirror" in r.getMessage() for r in caplog.records)


def test_search_positive_control_writes_the_mirror(upscope_fake):
    short_id = upscope_fake.add_visitor(is_online=True)
    assert [v.short_id for v in services.search_visitors()] == [short_id]
    assert list(Visitor.objects.values_list("short_id", flat=True)) == [short_id]


def test_detail_answers_when_the_mirror_write_fails(upscope_fake, monkeypatch, caplog):
    short_id = upscope_fake.add_visitor(is_online=True)
    monkeypatch.setattr(sync, "upsert_visitor", locked)
    caplog.set_level(logging.WARNING, logger="django_upscope.services")
    assert services.get_visitor(short_id).short_id == short_id
    assert not Visitor.objects.exists()
    assert any("mirror" in r.getMessage() for r in caplog.records)


def test_missing_visitor_still_raises_when_marking_the_mirror_fails(upscope_fake, monkeypatch):
    from django_upscope.exceptions import UpscopeVisitorNotFound

    monkeypatch.setattr(sync, "mark_removed_upstream", locked)
    with pytest.raises(UpscopeVisitorNotFound):
        services.get_visitor("NOSUCHVISITOR1")


def test_json_search_answers_200_with_live_results_when_the_mirror_write_fails(
    upscope_fake, monkeypatch
):
    pytest.importorskip("rest_framework")
    from rest_framework.test import APIClient

    short_id = upscope_fake.add_visitor(is_online=True)
    monkeypatch.setattr(sync, "upsert_visitors", locked)
    client = APIClient()
    client.force_login(make_user("reader", ["view_visitor"], staff=False))
    response = client.get(reverse("django_upscope:api:visitor-list"))
    assert response.status_code == 200, response.content
    assert [v["short_id"] for v in response.json()["results"]] == [short_id]


@pytest.fixture
def login(client):
    def do(user):
        client.force_login(user)
        return client

    return do
