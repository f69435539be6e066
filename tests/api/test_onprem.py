"""On-premise mode: reads work; what the on-premise API lacks is 501 without a request."""

from __future__ import annotations

import pytest

from django_upscope.models import AuditEvent

from .conftest import ADMIN_ROLE, READER, api

pytestmark = pytest.mark.django_db(transaction=True)


def test_latest_visitors(upscope_fake_onprem, client_for):
    ids = {upscope_fake_onprem.add_visitor() for _ in range(2)}
    response = client_for(READER).get(api("visitor-list"))
    assert response.status_code == 200
    assert {v["short_id"] for v in response.json()["results"]} == ids
    (sent,) = upscope_fake_onprem.requests()
    assert sent.endpoint == "onprem_search"
    assert "q" not in sent.query


def test_search_uses_q(upscope_fake_onprem, client_for):
    ada = upscope_fake_onprem.add_visitor(identities=["ada@example.com"])
    upscope_fake_onprem.add_visitor(identities=["bob@example.com"])
    response = client_for(READER).get(api("visitor-list"), {"search": "ada"})
    assert [v["short_id"] for v in response.json()["results"]] == [ada]
    (sent,) = upscope_fake_onprem.requests()
    assert sent.endpoint == "onprem_search"
    assert sent.query["q"] in ("ada", ["ada"])


def test_get_visitor(upscope_fake_onprem, client_for):
    short_id = upscope_fake_onprem.add_visitor(identities=["ada@example.com"])
    response = client_for(READER).get(api("visitor-detail", short_id))
    assert response.status_code == 200
    assert response.json()["short_id"] == short_id
    (sent,) = upscope_fake_onprem.requests()
    assert sent.endpoint == "onprem_visitor"


def test_unknown_visitor_is_404(upscope_fake_onprem, client_for):
    response = client_for(READER).get(api("visitor-detail", "NOSUCH"))
    assert response.status_code == 404
    assert response.json()["error"] == "visitor_not_found"


def test_history_is_not_supported(upscope_fake_onprem, client_for):
    short_id = upscope_fake_onprem.add_visitor()
    response = client_for(READER).get(api("visitor-detail", short_id), {"with_history": "true"})
    assert response.status_code == 501
    assert response.json()["error"] == "not_supported_on_premise"
    assert upscope_fake_onprem.requests() == []


@pytest.mark.parametrize(
    ("method", "name", "with_id", "action"),
    [
        ("delete", "visitor-detail", True, "delete_visitor"),
        ("post", "visitor-watch-url", True, "watch_url"),
        ("delete", "visitor-session", True, "stop_session"),
        ("post", "visitor-purge", False, "purge_offline_visitors"),
        ("get", "usage", False, None),
    ],
)
def test_cloud_only_operations_are_501(
    upscope_fake_onprem, client_for, method, name, with_id, action
):
    short_id = upscope_fake_onprem.add_visitor()
    client = client_for(ADMIN_ROLE)
    args = (short_id,) if with_id else ()
    kwargs = {"format": "json"} if method == "post" else {}

    response = getattr(client, method)(api(name, *args), **kwargs)

    assert response.status_code == 501
    body = response.json()
    assert body["error"] == "not_supported_on_premise"
    assert "on-premise" in body["detail"]
    assert upscope_fake_onprem.requests() == []
    if action:
        event = AuditEvent.objects.get()
        assert (event.action, event.outcome, event.error_code) == (
            action,
            "failure",
            "not_supported_on_premise",
        )
