"""Fault injection: statuses, bodies, delays and dropped connections, for the next N calls."""

from __future__ import annotations

import time

import pytest
import requests

from django_upscope.fake import state
from django_upscope.fake.models import FakeFault


@pytest.mark.parametrize(
    "status, code",
    [
        (402, "subscription_limit"),
        (404, "not_found"),
        (500, "internal_error"),
        (502, "bad_gateway"),
        (503, "service_unavailable"),
        (504, "gateway_timeout"),
    ],
)
def test_status_fault_answers_an_upscope_error_body(api, status, code):
    state.inject_fault("usage", status=status)
    response = api.get("/usage.json")
    assert response.status_code == status
    assert response.json() == {"status": "error", "error": code}
    assert api.get("/usage.json").status_code == 200


def test_401_fault_with_a_code(api):
    state.inject_fault("list", status=401, code="subscription_expired")
    response = api.get("/list.json")
    assert (response.status_code, response.json()["error"]) == (401, "subscription_expired")


def test_429_with_retry_after(api):
    state.inject_fault("list", status=429, retry_after=7)
    response = api.get("/list.json")
    assert response.status_code == 429
    assert response["Retry-After"] == "7"
    assert response.json()["error"] == "rate_limited"


def test_fault_lasts_for_the_next_n_calls_only(api, visitor):
    state.inject_fault("visitor_get", status=503, times=2)
    statuses = [api.get("/visitors/VIS00001.json").status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert not FakeFault.objects.exists()


def test_fault_is_per_endpoint(api, visitor):
    state.inject_fault("visitor_delete", status=500)
    assert api.get("/visitors/VIS00001.json").status_code == 200
    assert api.delete("/visitors/VIS00001.json").status_code == 500
    assert api.delete("/visitors/VIS00001.json").status_code == 200


def test_star_applies_to_every_endpoint_and_times_none_keeps_it(api, visitor):
    state.inject_fault("*", status=502, times=None)
    assert api.get("/usage.json").status_code == 502
    assert api.onprem("/visitors/list/latest").status_code == 502
    assert api.get("/list.json").status_code == 502
    state.clear_faults()
    assert api.get("/usage.json").status_code == 200


def test_faults_apply_in_the_order_they_were_added(api):
    state.inject_fault("usage", status=503)
    state.inject_fault("*", status=500)
    assert [api.get("/usage.json").status_code for _ in range(3)] == [503, 500, 200]


def test_fault_comes_before_the_credentials_check_and_does_not_change_state(api, visitor):
    state.inject_fault("visitor_delete", status=503)
    assert api.delete("/visitors/VIS00001.json", key="not-fake").status_code == 503
    assert api.get("/visitors/VIS00001.json").status_code == 200


def test_html_body(api):
    state.inject_fault("list", status=502, body="<html><body>Bad gateway</body></html>")
    response = api.get("/list.json")
    assert response.status_code == 502
    assert response["Content-Type"].startswith("text/html")
    assert response.content.startswith(b"<html>")


def test_truncated_json_body_with_status_200(api):
    state.inject_fault("list", body='{"status": "ok", "visitors": [{"short_id"')
    response = api.get("/list.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    with pytest.raises(ValueError):
        response.json()


def test_wrong_shape_body(api):
    state.inject_fault("visitor_get", body={"status": "ok", "visitor": ["not", "an", "object"]})
    response = api.get("/visitors/ANY.json")
    assert response.json() == {"status": "ok", "visitor": ["not", "an", "object"]}


def test_content_type_override(api):
    state.inject_fault("usage", body="ok", content_type="text/plain")
    response = api.get("/usage.json")
    assert response["Content-Type"] == "text/plain"


@pytest.mark.parametrize(
    "args, message",
    [
        (("nope",), "unknown endpoint"),
        (("usage",), "needs a status"),
    ],
)
def test_bad_fault_arguments_are_refused(db, args, message):
    with pytest.raises(state.FakeStateError, match=message):
        state.inject_fault(*args)


def test_bad_fault_options_are_refused(db):
    with pytest.raises(state.FakeStateError, match="times"):
        state.inject_fault("usage", status=500, times=0)
    with pytest.raises(state.FakeStateError, match="status"):
        state.inject_fault("usage", status=99)
    with pytest.raises(state.FakeStateError, match="drop"):
        state.inject_fault("usage", drop="sometimes")


def test_faulted_requests_are_logged_with_their_status(api):
    state.inject_fault("usage", status=503)
    api.get("/usage.json")
    (entry,) = state.received_requests()
    assert (entry.endpoint, entry.status) == ("usage", 503)


# -- over a real socket: what requests sees ---------------------------------------------


def test_drop_before_any_byte_is_a_connection_error(upscope_fake):
    upscope_fake.fail("usage", drop=True)
    with pytest.raises(requests.ConnectionError):
        requests.get(
            f"{upscope_fake.api_url}/usage.json", headers={"X-Api-Key": "fake_k"}, timeout=5
        )
    (entry,) = upscope_fake.requests()
    assert entry.status == 0
    # The next call is answered normally.
    ok = requests.get(
        f"{upscope_fake.api_url}/usage.json", headers={"X-Api-Key": "fake_k"}, timeout=5
    )
    assert ok.status_code == 200


def test_drop_part_way_is_a_chunked_encoding_error(upscope_fake):
    upscope_fake.fail("list", drop="partial")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(
            f"{upscope_fake.api_url}/list.json", headers={"X-Api-Key": "fake_k"}, timeout=5
        )


def logged(fake, count: int, deadline: float = 10.0) -> list:
    """The fake's log once it holds ``count`` requests (or what it holds at ``deadline``)."""
    end = time.monotonic() + deadline
    entries = fake.requests()
    while len(entries) < count and time.monotonic() < end:
        time.sleep(0.01)
        entries = fake.requests()
    return entries


def test_delay_longer_than_the_timeout_is_a_read_timeout(upscope_fake):
    upscope_fake.fail("usage", delay=1.0)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(
            f"{upscope_fake.api_url}/usage.json", headers={"X-Api-Key": "fake_k"}, timeout=0.2
        )
    # The client gave up; on a busy machine the server's thread may not have logged the
    # request yet (it logs before the delay): wait for that, not for a length of time.
    assert [e.endpoint for e in logged(upscope_fake, 1)] == ["usage"]


def test_faults_are_shared_with_the_live_server_thread(upscope_fake):
    upscope_fake.fail("usage", status=503, times=2)
    url = f"{upscope_fake.api_url}/usage.json"
    statuses = [
        requests.get(url, headers={"X-Api-Key": "fake_k"}, timeout=5).status_code for _ in range(3)
    ]
    assert statuses == [503, 503, 200]
