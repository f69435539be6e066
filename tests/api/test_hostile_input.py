"""Request bodies built to hurt: nested thousands deep, oversized, or huge metadata.

Each gets the API's ``{"error", "detail"}`` JSON and a 4xx, never a 500 or Django's
HTML page, and nothing reaches Upscope.
"""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import RequestDataTooBig

from django_upscope.api.exceptions import api_exception_handler
from django_upscope.models import AuditEvent
from django_upscope.vocabulary import MAX_JSON_DEPTH, MAX_METADATA_BYTES, MAX_METADATA_KEYS

from .conftest import api

SHORT_ID = "ABCD1234"


def post_raw(client, body: str | bytes, name: str = "visitor-watch-url", *args: str):
    return client.post(api(name, *(args or (SHORT_ID,))), body, content_type="application/json")


def assert_json_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"] == code and body["detail"]
    return body


@pytest.mark.parametrize("depth", [10_000, 100_000])
def test_a_body_of_brackets_nested_deep_is_400(no_upstream, agent_client, depth):
    response = post_raw(agent_client, "[" * depth)
    body = assert_json_error(response, 400, "parse_error")
    assert "nested deeper than" in body["detail"]
    assert len(no_upstream.calls) == 0


def test_deeply_nested_metadata_is_400(no_upstream, agent_client):
    nested = "[" * 10_000 + "]" * 10_000
    response = post_raw(agent_client, '{"metadata": {"a": ' + nested + "}}")
    assert_json_error(response, 400, "parse_error")
    assert len(no_upstream.calls) == 0


def test_nesting_over_the_limit_is_400_and_within_it_reaches_validation(no_upstream, agent_client):
    over = {"metadata": {"a": json.loads("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)}}
    assert_json_error(post_raw(agent_client, json.dumps(over)), 400, "parse_error")
    # Within the limit the body is parsed, and refused by the metadata rule instead.
    within = {"metadata": {"a": [[1]]}}
    assert_json_error(post_raw(agent_client, json.dumps(within)), 400, "invalid")
    assert len(no_upstream.calls) == 0


@pytest.mark.parametrize(
    ("metadata", "what"),
    [
        ({f"k{i}": i for i in range(MAX_METADATA_KEYS + 1)}, f"more than {MAX_METADATA_KEYS} keys"),
        ({"notes": "x" * MAX_METADATA_BYTES}, f"larger than {MAX_METADATA_BYTES} bytes"),
    ],
    ids=["keys", "bytes"],
)
def test_oversized_metadata_is_400_and_not_audited_or_sent(
    no_upstream, agent_client, metadata, what
):
    response = post_raw(agent_client, json.dumps({"metadata": metadata}))
    body = assert_json_error(response, 400, "invalid")
    assert what in body["detail"]
    assert len(no_upstream.calls) == 0
    assert not AuditEvent.objects.filter(detail__contains="x" * 100).exists()


def test_metadata_within_the_caps_is_sent(upscope_fake, agent_client):
    # The positive control: the most keys allowed, small values, goes through.
    short_id = upscope_fake.add_visitor()
    metadata = {f"k{i}": i for i in range(MAX_METADATA_KEYS - 10)}
    response = post_raw(
        agent_client, json.dumps({"metadata": metadata}), "visitor-watch-url", short_id
    )
    assert response.status_code == 201, response.content
    assert response.json()["metadata"]["k0"] == 0


def test_a_body_over_django_upload_limit_is_413_json(no_upstream, agent_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    body = json.dumps({"metadata": {"notes": "x" * 3_000}})
    body_json = assert_json_error(post_raw(agent_client, body), 413, "request_too_large")
    assert "2000 bytes" in body_json["detail"]
    assert len(no_upstream.calls) == 0


def test_djangos_request_data_too_big_is_413_json():
    # Raised wherever something reads request.body past DATA_UPLOAD_MAX_MEMORY_SIZE.
    response = api_exception_handler(RequestDataTooBig("too big"), {})
    assert response is not None
    assert response.status_code == 413
    assert response.data["error"] == "request_too_large"
