"""GET/DELETE visitors over HTTP against the embedded fake Upscope."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_upscope.models import AuditEvent, Visitor
from django_upscope.testing.factories import VisitorFactory

from .conftest import READER, api


def upstream(fake, endpoint=None):
    return [r for r in fake.requests() if endpoint is None or r.endpoint == endpoint]


# -- live search ------------------------------------------------------------------


def test_live_search_without_query_lists_latest_and_fills_the_mirror(upscope_fake, client_for):
    ids = {upscope_fake.add_visitor(identities=[f"v{i}@example.com"]) for i in range(3)}
    response = client_for(READER).get(api("visitor-list"))

    assert response.status_code == 200
    body = response.json()
    assert {v["short_id"] for v in body["results"]} == ids
    assert body["count"] == 3 and body["next"] is None and body["previous"] is None
    (sent,) = upstream(upscope_fake, "list")
    assert sent.method == "GET" and "search" not in sent.query
    assert set(Visitor.objects.values_list("short_id", flat=True)) == ids


def test_live_search_passes_the_query_and_its_tokens(upscope_fake, client_for):
    ada = upscope_fake.add_visitor(identities=["ada@example.com"], is_online=True)
    upscope_fake.add_visitor(identities=["bob@example.com"], is_online=True)
    upscope_fake.add_visitor(identities=["ada.offline@example.com"], is_online=False)

    response = client_for(READER).get(api("visitor-list"), {"search": "ada online"})

    assert response.status_code == 200
    assert [v["short_id"] for v in response.json()["results"]] == [ada]
    (sent,) = upstream(upscope_fake, "list")
    assert sent.query["search"] == "ada online"


def test_visitor_shape(upscope_fake, client_for):
    short_id = upscope_fake.add_visitor(
        identities=["Ada Lovelace", "ada@example.com"],
        tags=["#vip"],
        device_type="mobile",
        location_country="GB",
        lookup_code="1234",
    )
    (visitor,) = client_for(READER).get(api("visitor-list")).json()["results"]
    assert visitor["short_id"] == short_id
    assert visitor["display_name"] == "Ada Lovelace"
    assert visitor["identities"] == ["Ada Lovelace", "ada@example.com"]
    assert visitor["tags"] == ["#vip"]
    assert visitor["device_type"] == "mobile"
    assert visitor["location_country"] == "GB"
    assert visitor["lookup_code"] == "1234"
    assert visitor["is_online"] is True
    assert "raw" not in visitor and "api_key" not in visitor


@pytest.mark.parametrize(
    "params",
    [{"online": "true"}, {"page": "2"}, {"tag": "#vip"}],
    ids=["online", "page", "tag"],
)
def test_live_and_local_parameters_do_not_mix(no_upstream, client_for, params):
    response = client_for(READER).get(api("visitor-list"), params)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid"
    assert set(body["fields"]) == set(params) - {"source"}
    assert len(no_upstream.calls) == 0


def test_a_valid_live_search_does_reach_upstream(no_upstream, client_for):
    # The positive control of the tests that assert no call: a valid search is counted.
    response = client_for(READER).get(api("visitor-list"), {"search": "ada"})
    assert response.status_code == 503
    assert (
        no_upstream.calls[0].request.url == "https://api.upscope.invalid/v1.1/list.json?search=ada"
    )


def test_search_with_a_control_character_is_refused_before_upstream(no_upstream, client_for):
    response = client_for(READER).get(api("visitor-list"), {"search": "ada\x07"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_query"
    assert len(no_upstream.calls) == 0


# -- the mirror -------------------------------------------------------------------


def test_local_list_filters_and_never_calls_upstream(no_upstream, client_for):
    match = VisitorFactory(
        is_online=True, device_type="mobile", location_country="GB", tags=["#vip", "#trial"]
    )
    VisitorFactory(is_online=False, device_type="mobile", location_country="GB", tags=["#vip"])
    VisitorFactory(is_online=True, device_type="desktop", location_country="GB", tags=["#vip"])
    VisitorFactory(is_online=True, device_type="mobile", location_country="DE", tags=["#vip"])
    VisitorFactory(is_online=True, device_type="mobile", location_country="GB", tags=["#vipx"])

    response = client_for(READER).get(
        api("visitor-list"),
        {
            "source": "local",
            "online": "true",
            "device_type": "mobile",
            "country": "gb",
            "tag": "#vip",
        },
    )

    assert response.status_code == 200
    assert [v["short_id"] for v in response.json()["results"]] == [match.short_id]
    assert len(no_upstream.calls) == 0


def test_local_list_is_paginated_and_ordered(db, client_for):
    visitors = VisitorFactory.create_batch(7)
    expected = [
        v.short_id
        for v in sorted(visitors, key=lambda v: (-v.last_seen_at.timestamp(), v.short_id))
    ]
    client = client_for(READER)

    first = client.get(api("visitor-list"), {"source": "local", "page_size": 3}).json()
    third = client.get(api("visitor-list"), {"source": "local", "page_size": 3, "page": 3}).json()

    assert first["count"] == 7
    assert [v["short_id"] for v in first["results"]] == expected[:3]
    assert "page=2" in first["next"] and first["previous"] is None
    assert [v["short_id"] for v in third["results"]] == expected[6:]
    assert third["next"] is None


def test_local_list_ascending_by_name(db, client_for):
    names = ["carol", "alice", "bob"]
    for name in names:
        VisitorFactory(identities=[name])
    response = client_for(READER).get(
        api("visitor-list"), {"source": "local", "ordering": "display_name"}
    )
    assert [v["display_name"] for v in response.json()["results"]] == sorted(names)


def test_local_list_out_of_range_page_is_a_json_404(db, client_for):
    response = client_for(READER).get(api("visitor-list"), {"source": "local", "page": "9"})
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_local_list_query_count_does_not_grow_with_rows(db, client_for):
    client = client_for(READER)
    url = api("visitor-list")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, {"source": "local"}).status_code == 200
        return len(queries)

    VisitorFactory.create_batch(2)
    few = count()
    VisitorFactory.create_batch(30)
    assert count() == few


# -- one visitor ----------------------------------------------------------------------


def test_get_visitor_with_sessions_refreshes_the_mirror(upscope_fake, client_for):
    short_id = upscope_fake.add_visitor(identities=["ada@example.com"])
    response = client_for(READER).get(api("visitor-detail", short_id))

    assert response.status_code == 200
    body = response.json()
    assert body["short_id"] == short_id
    assert isinstance(body["sessions"], list)
    assert body["history"] is None
    (sent,) = upstream(upscope_fake, "visitor_get")
    assert "with_history" not in sent.query
    assert Visitor.objects.filter(short_id=short_id).exists()


def test_get_visitor_with_history(upscope_fake, client_for):
    short_id = upscope_fake.add_visitor(history={"pageviews": [{"url": "https://a.example/"}]})
    response = client_for(READER).get(api("visitor-detail", short_id), {"with_history": "true"})

    assert response.status_code == 200
    assert response.json()["history"] == {"pageviews": [{"url": "https://a.example/"}]}
    (sent,) = upstream(upscope_fake, "visitor_get")
    assert sent.query == {"with_history": "true"}


def test_unknown_visitor_is_404(upscope_fake, client_for):
    response = client_for(READER).get(api("visitor-detail", "NOSUCH"))
    assert response.status_code == 404
    assert response.json()["error"] == "visitor_not_found"


@pytest.mark.parametrize(
    "path",
    [
        "visitors/bad.id/",
        "visitors/bad%20id/",
        "visitors/" + "x" * 129 + "/",
        "visitors/a%2Fb/",
        "visitors/bad.id/watch-url/",
        "visitors/bad.id/session/",
        "nothing-here/",
    ],
)
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_invalid_short_id_or_path_is_a_json_404_without_upstream(
    no_upstream, client_for, path, method
):
    client = client_for([*READER, "delete_visitor", "screenshare_visitor"], superuser=True)
    response = getattr(client, method)("/upscope/api/" + path)
    assert response.status_code == 404
    assert response.json() == {
        "error": "not_found",
        "detail": "No API endpoint matches this URL.",
    }
    assert len(no_upstream.calls) == 0
    assert not AuditEvent.objects.exists()


# -- delete ----------------------------------------------------------------------------


def test_delete_removes_remote_then_local_and_audits(upscope_fake, client_for):
    short_id = upscope_fake.add_visitor()
    VisitorFactory(short_id=short_id)
    client = client_for(["delete_visitor"])

    response = client.delete(api("visitor-detail", short_id))

    assert response.status_code == 204
    (sent,) = upstream(upscope_fake, "visitor_delete")
    assert sent.method == "DELETE" and short_id in sent.path
    assert not Visitor.objects.filter(short_id=short_id).exists()
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome, event.visitor_short_id, event.source) == (
        "delete_visitor",
        "success",
        short_id,
        "api",
    )
    assert event.user == client.user


def test_delete_failure_keeps_the_local_row(upscope_fake, client_for):
    short_id = upscope_fake.add_visitor()
    VisitorFactory(short_id=short_id)
    upscope_fake.fail("visitor_delete", status=500, times=None)

    response = client_for(["delete_visitor"]).delete(api("visitor-detail", short_id))

    assert response.status_code == 503
    assert response.json()["error"] == "http_500"
    assert Visitor.objects.filter(short_id=short_id).exists()
    event = AuditEvent.objects.get()
    assert (event.outcome, event.error_code) == ("failure", "http_500")


def test_delete_of_a_visitor_upscope_does_not_have(upscope_fake, client_for):
    VisitorFactory(short_id="GONE1")
    response = client_for(["delete_visitor"]).delete(api("visitor-detail", "GONE1"))

    assert response.status_code == 404
    assert response.json()["error"] == "visitor_not_found"
    # Upscope confirmed it has no such visitor: the stale mirror row goes.
    assert not Visitor.objects.filter(short_id="GONE1").exists()
