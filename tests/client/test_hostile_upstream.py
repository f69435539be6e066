"""A broken or hostile upstream: what it says about itself never reaches our text.

Headers and bodies echo the API key (whole, lower-cased, or a long run of it), carry
HTML or long garbage. The errors raised, the log records, the command's output and
the JSON API's answers name only what we control: the request, the status, the size
of a body, and an error code that is a short token and no part of the key.
"""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from django_upscope.exceptions import UpscopeError

from ..helpers import make_user
from ..payloads import API_KEY, CLOUD_URL, cloud_client

MARKERS = (API_KEY, API_KEY.lower(), "secret_api_key", "<html", "<script", "GARBAGE")
GARBAGE = "GARBAGE-" * 20_000

HOSTILE_HEADERS = {
    "Content-Type": f"text/html; charset={API_KEY}",
    "X-Debug-Echo": API_KEY,
    "Retry-After": API_KEY,
    "WWW-Authenticate": f'Bearer realm="{API_KEY}"',
    "Location": f"https://evil.example/{API_KEY}",
}
HOSTILE_BODIES = {
    "html": f"<html><script>alert(1)</script>{API_KEY}</html>",
    "garbage": GARBAGE,
    "json echo": json.dumps({"status": "error", "error": API_KEY.lower(), "message": API_KEY}),
    "json partial echo": '{"status": "error", "error": "secret_api_key", "detail": "<html>"}',
    "json html code": '{"status": "error", "error": "<script>x</script>"}',
    "json garbage code": json.dumps({"status": "error", "error": GARBAGE[:500]}),
}
STATUSES = [200, 301, 400, 401, 402, 403, 404, 422, 429, 500, 503]

OPERATIONS = {
    "usage": ("GET", "/usage.json", lambda c: c.get_usage()),
    "search": ("GET", "/list.json", lambda c: c.search_visitors("joe")),
    "visitor": ("GET", "/visitors/ABCD1234.json", lambda c: c.get_visitor("ABCD1234")),
    "delete": ("DELETE", "/visitors/ABCD1234.json", lambda c: c.delete_visitor("ABCD1234")),
    "purge": ("DELETE", "/visitors.json", lambda c: c.purge_offline_visitors()),
    "watch_url": (
        "POST",
        "/visitors/ABCD1234/watch_url.json",
        lambda c: c.create_watch_url("ABCD1234", agent_id="1", agent_name="A"),
    ),
    "stop": ("DELETE", "/visitors/ABCD1234/session", lambda c: c.stop_session("ABCD1234")),
}


def assert_clean(text: str) -> None:
    for marker in MARKERS:
        assert marker not in text, f"upstream text {marker[:20]!r} was copied"


def answer(rsps, method: str, path: str, status: int, body: str) -> None:
    rsps.add(method, CLOUD_URL + path, status=status, body=body, headers=HOSTILE_HEADERS)


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
def test_errors_and_logs_copy_nothing_upstream_says(rsps, caplog, operation, status, body):
    method, path, call = operation
    answer(rsps, method, path, status, body)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(UpscopeError) as info:
        call(cloud_client(max_retries=1))
    error = info.value
    # The positive control: the error does name what we control.
    assert error.status_code == status
    assert_clean(" ".join([str(error), repr(error), error.code, caplog.text]))


def test_a_short_token_code_that_is_not_the_key_is_kept(rsps):
    # The positive control of the echo rule: Upscope's own codes still come through.
    rsps.get(f"{CLOUD_URL}/usage.json", status=400, json={"status": "error", "error": "bad_thing"})
    with pytest.raises(UpscopeError) as info:
        cloud_client().get_usage()
    assert info.value.code == "bad_thing"


@pytest.mark.django_db
@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
@pytest.mark.parametrize("status", [200, 400, 404, 500])
def test_the_sync_commands_output_copies_nothing(rsps, caplog, upstream, status, body):
    answer(rsps, "GET", "/list.json", status, body)
    caplog.set_level(logging.DEBUG)
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as info:
        call_command("upscope_sync", "--no-usage", stdout=out, stderr=err)
    assert "Upscope sync stopped" in str(info.value)
    assert_clean(" ".join([str(info.value), out.getvalue(), err.getvalue(), caplog.text]))


@pytest.mark.drf  # drives the DRF API or the example project (which installs DRF)
@pytest.mark.django_db
@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
@pytest.mark.parametrize("status", [200, 401, 404, 500])
def test_the_json_api_copies_nothing(rsps, caplog, upstream, client, status, body):
    answer(rsps, "GET", "/visitors/ABCD1234.json", status, body)
    caplog.set_level(logging.DEBUG)
    client.force_login(make_user("reader", ["view_visitor"]))
    response = client.get("/upscope/api/visitors/ABCD1234/")
    assert response.status_code >= 400
    assert set(response.json()) >= {"error", "detail"}
    assert_clean(response.content.decode() + caplog.text)
