"""The two lookups in the DRF API: a user's visitors, and the visitor with a code."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from rest_framework.test import APIClient

from django_upscope.identity import unique_id_for

from ..helpers import make_user


def api(name, *args):
    return reverse(f"django_upscope:api:{name}", args=args)


@pytest.fixture
def api_client(db):
    user = make_user("reader", ["view_visitor"], staff=False)
    user.user_permissions.add(Permission.objects.get(codename="view_user"))
    client = APIClient()
    client.force_authenticate(type(user).objects.get(pk=user.pk))
    return client


@pytest.fixture
def customer(db):
    return make_user("carla", staff=False, first_name="Carla")


def test_a_users_visitors_online_first(api_client, customer, upscope_fake):
    unique_id = unique_id_for(customer)
    online = upscope_fake.add_visitor(unique_id=unique_id, identities=["Carla"])
    offline = upscope_fake.add_visitor(unique_id=unique_id, is_online=False)
    response = api_client.get(api("lookup-user", str(customer.pk)))
    assert response.status_code == 200
    body = response.json()
    assert body["outcome"] == "one"
    assert [v["short_id"] for v in body["visitors"]] == [online, offline]
    assert body["visitors"][0]["display_name"] == "Carla"
    assert body["last_seen_at"] is not None
    assert [r.query.get("search") for r in upscope_fake.requests("list")] == [f"id:{unique_id}"]


def test_no_visitor_for_the_user(api_client, customer, upscope_fake):
    body = api_client.get(api("lookup-user", str(customer.pk))).json()
    assert body == {"outcome": "none", "last_seen_at": None, "visitors": []}


def test_unknown_user_is_a_404_without_calling_upscope(api_client, upscope_fake):
    for user_id in ("999999", "not-a-number"):
        response = api_client.get(api("lookup-user", user_id))
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"
    assert upscope_fake.requests() == []


def test_the_user_lookup_needs_the_permission_to_view_users(customer, upscope_fake):
    client = APIClient()
    client.force_authenticate(make_user("reader", ["view_visitor"], staff=False))
    assert client.get(api("lookup-user", str(customer.pk))).status_code == 403
    assert upscope_fake.requests() == []


def test_by_code(api_client, upscope_fake):
    first = upscope_fake.add_visitor(lookup_code="5150")
    second = upscope_fake.add_visitor(lookup_code="5150")
    upscope_fake.add_visitor(lookup_code="5151")
    body = api_client.get(api("lookup-code", "5150")).json()
    assert body["outcome"] == "several"
    assert {v["short_id"] for v in body["visitors"]} == {first, second}


def test_a_code_that_is_not_four_digits_matches_no_route(api_client, upscope_fake):
    response = api_client.get("/upscope/api/lookup/code/12345/")
    assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert api("lookup-code", "1234") == "/upscope/api/lookup/code/1234/"
    assert upscope_fake.requests() == []
