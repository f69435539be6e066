"""The admin's search box reads Upscope's syntax; "Search Upscope live" asks Upscope."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from django_upscope.models import Visitor
from django_upscope.testing.factories import VisitorFactory

from ..helpers import make_user
from .conftest import CASE_IDS, CASES

CHANGELIST = "/admin/django_upscope/visitor/"
LIVE = "/admin/django_upscope/visitor/search-live/"


def listed(client, query):
    response = client.get(CHANGELIST, {"q": query})
    assert response.status_code == 200
    return {v.short_id for v in response.context["cl"].result_list}


def texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.parametrize(("query", "expected"), CASES, ids=CASE_IDS)
def test_the_search_box_reads_upscope_tokens(mirror, admin_client, query, expected):
    assert listed(admin_client, query) == expected


def test_tokens_combine_with_the_list_filters(mirror, admin_client):
    response = admin_client.get(CHANGELIST, {"q": "#trial", "is_online__exact": "0"})
    assert {v.short_id for v in response.context["cl"].result_list} == {"V2"}


def test_the_live_search_url_is_in_the_visitor_admin():
    assert reverse("admin:django_upscope_visitor_search_live") == LIVE


def test_the_changelist_links_to_the_live_search_for_its_query(mirror, admin_client):
    html = admin_client.get(CHANGELIST, {"q": "online #vip"}).content.decode()
    assert f'id="upscope-search-live" href="{LIVE}?q=online+%23vip"' in html
    assert "Search Upscope live" in html
    empty = admin_client.get(CHANGELIST).content.decode()
    assert f'id="upscope-search-live" href="{LIVE}"' in empty


def test_the_live_search_mirrors_and_lists_what_upscope_found(admin_client, upscope_fake):
    vip = upscope_fake.add_visitor(tags=["#vip"], identities=["Ada"])
    upscope_fake.add_visitor(tags=["#trial"], identities=["Bob"])
    VisitorFactory(short_id="LOCAL1", tags=["#vip"])  # in the mirror only: not Upscope's answer
    response = admin_client.get(LIVE, {"q": "#vip"})
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == CHANGELIST
    assert parse_qs(location.query) == {"short_id__in": [vip]}
    [sent] = upscope_fake.requests("list")
    assert sent.query["search"] == "#vip"
    assert Visitor.objects.get(pk=vip).tags == ["#vip"]
    page = admin_client.get(response["Location"])
    assert {v.short_id for v in page.context["cl"].result_list} == {vip}
    assert "Upscope found 1 visitor; it is listed here." in texts(page)


def test_the_live_search_without_a_query_lists_the_latest(admin_client, upscope_fake):
    ids = {upscope_fake.add_visitor() for _ in range(2)}
    response = admin_client.get(LIVE)
    [found] = parse_qs(urlsplit(response["Location"]).query)["short_id__in"]
    assert set(found.split(",")) == ids
    [sent] = upscope_fake.requests("list")
    assert "search" not in sent.query


def test_the_live_search_finding_nothing_goes_back_to_the_query(admin_client, upscope_fake):
    upscope_fake.add_visitor(tags=["#trial"])
    response = admin_client.get(LIVE, {"q": "#nobody"}, follow=True)
    assert response.redirect_chain == [(f"{CHANGELIST}?q=%23nobody", 302)]
    assert "Upscope found no visitor for this search." in texts(response)


def test_a_failed_live_search_says_what_happened(admin_client, upscope_fake):
    upscope_fake.fail("list", status=500, times=None)
    response = admin_client.get(LIVE, {"q": "online"}, follow=True)
    assert response.redirect_chain == [(f"{CHANGELIST}?q=online", 302)]
    [message] = texts(response)
    assert message.startswith("The live search failed. Upscope reported a server error: ")
    assert Visitor.objects.count() == 0


def test_the_live_search_needs_the_view_permission(client, upscope_fake):
    upscope_fake.add_visitor()
    client.force_login(make_user("clerk", ["screenshare_visitor"]))
    assert client.get(LIVE, {"q": "online"}).status_code == 403
    assert upscope_fake.requests("list") == []
    # The positive control: with the permission, the same request reaches Upscope.
    client.force_login(make_user("reader", ["view_visitor"]))
    assert client.get(LIVE, {"q": "online"}).status_code == 302
    assert len(upscope_fake.requests("list")) == 1
