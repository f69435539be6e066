"""The fake's stand-in loader: registration, heartbeats, leaving, and search by id and code."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from django_upscope.fake import sdk, state
from django_upscope.fake.models import FakeVisitor
from django_upscope.fake.search import search

pytestmark = pytest.mark.django_db

KEY = "fake_public_key"


def post(client, name, body):
    return client.post(
        f"/__upscope__/sdk/{name}", data=json.dumps(body), content_type="application/json"
    )


def register(client, **body):
    response = post(client, "register", {"apiKey": KEY, "url": "http://shop.test/account/", **body})
    assert response.status_code == 200, response.content
    return response.json()


def test_the_loader_is_javascript_that_knows_its_endpoints(client):
    response = client.get("/__upscope__/sdk/loader.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    text = response.content.decode()
    assert "http://testserver/__upscope__/sdk/register" in text
    assert "getLookupCode" in text and "Upscope.q" in text


def test_register_creates_an_online_visitor_with_the_identity_and_a_code(client):
    answer = register(
        client, uniqueId="u-1", identities=["Carla"], tags=["#VIP"], integrationIds=["crm:7"]
    )
    visitor = FakeVisitor.objects.get(pk=answer["visitorId"])
    assert (visitor.unique_id, visitor.identities, visitor.tags) == ("u-1", ["Carla"], ["#VIP"])
    assert visitor.integration_ids == {"crm": "7"} and visitor.api_key == KEY
    assert visitor.is_online and visitor.last_url == "http://shop.test/account/"
    assert len(answer["lookupCode"]) == 4 and answer["lookupCode"] == visitor.lookup_code
    assert [v.short_id for v in search("id:u-1")] == [visitor.short_id]
    assert [v.short_id for v in search(answer["lookupCode"])] == [visitor.short_id]


def test_reconnecting_keeps_the_visitor_null_clears_and_absent_leaves(client):
    first = register(client, uniqueId="u-1", identities=["Carla"], tags=["#VIP"])
    again = register(client, visitorId=first["visitorId"], tags=None)
    assert again["visitorId"] == first["visitorId"]
    assert again["lookupCode"] == first["lookupCode"]
    visitor = FakeVisitor.objects.get(pk=first["visitorId"])
    assert (visitor.unique_id, visitor.identities, visitor.tags) == ("u-1", ["Carla"], [])


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"apiKey": "pk_live_real"}, 401),
        ({"apiKey": KEY, "tags": ["VIP"]}, 400),
        ({"apiKey": KEY, "integrationIds": ["ab:1"]}, 400),
        ({"apiKey": KEY, "uniqueId": 5}, 400),
    ],
)
def test_refuses_what_upscope_would_not_take(client, body, status):
    assert post(client, "register", body).status_code == status
    assert FakeVisitor.objects.count() == 0


def test_heartbeats_keep_it_online_and_silence_takes_it_offline(client, monkeypatch):
    visitor_id = register(client, uniqueId="u-1")["visitorId"]
    start = state.now()
    monkeypatch.setattr(state, "now", lambda: start + dt.timedelta(seconds=10))
    assert post(client, "heartbeat", {"apiKey": KEY, "visitorId": visitor_id}).status_code == 200
    monkeypatch.setattr(state, "now", lambda: start + dt.timedelta(seconds=20))
    assert sdk.expire_silent_visitors() == 0
    assert FakeVisitor.objects.get(pk=visitor_id).is_online
    monkeypatch.setattr(state, "now", lambda: start + dt.timedelta(seconds=26))
    # The API applies the silence before answering.
    listed = client.get("/__upscope__/v1.1/list.json", HTTP_X_API_KEY="fake_test_key").json()
    assert [v["is_online"] for v in listed["visitors"] if v["short_id"] == visitor_id] == [False]


def test_seeded_visitors_without_a_connection_never_expire(monkeypatch):
    visitor = state.create_visitor(is_online=True)
    start = state.now()
    monkeypatch.setattr(state, "now", lambda: start + dt.timedelta(hours=3))
    assert sdk.expire_silent_visitors() == 0
    assert FakeVisitor.objects.get(pk=visitor.pk).is_online


def test_leaving_takes_it_offline_at_once(client):
    visitor_id = register(client, uniqueId="u-1")["visitorId"]
    # sendBeacon posts text/plain.
    response = client.post(
        "/__upscope__/sdk/leave",
        data=json.dumps({"apiKey": KEY, "visitorId": visitor_id}),
        content_type="text/plain",
    )
    assert response.status_code == 200
    assert not FakeVisitor.objects.get(pk=visitor_id).is_online


def test_heartbeat_of_an_unknown_visitor_is_a_404(client):
    assert post(client, "heartbeat", {"apiKey": KEY, "visitorId": "nope"}).status_code == 404


def test_off_when_the_fake_is_disabled(client, settings):
    settings.UPSCOPE = {**settings.UPSCOPE, "FAKE_ENABLED": False}
    assert client.get("/__upscope__/sdk/loader.js").status_code == 404
    assert post(client, "register", {"apiKey": KEY}).status_code == 404
