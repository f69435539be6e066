"""'Screen share' on the User admin and 'Screen share by code', against the fake over HTTP."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from django_upscope.identity import unique_id_for
from django_upscope.models import Visitor
from django_upscope.testing.factories import VisitorFactory

from ..helpers import make_user

pytestmark = pytest.mark.urls("tests.identity.urls")

SITE = "identity_admin"


@pytest.fixture
def agent(db):
    user = make_user("agent", ["screenshare_visitor", "view_visitor"], first_name="Sam")
    user.user_permissions.add(Permission.objects.get(codename="view_user"))
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def customer(db):
    return make_user("carla", staff=False, first_name="Carla", last_name="Customer")


def share_url(short_id):
    return reverse(f"{SITE}:django_upscope_visitor_screenshare", args=[short_id])


def lookup_url(user):
    return reverse(f"{SITE}:auth_user_upscope_screenshare", args=[user.pk])


def by_code_url():
    return reverse(f"{SITE}:django_upscope_visitor_screenshare_by_code")


def searches(upscope_fake):
    return [r.query.get("search") for r in upscope_fake.requests("list")]


def ago(**delta):
    return timezone.now() - dt.timedelta(**delta)


def test_the_change_page_has_the_button(client, agent, customer):
    client.force_login(agent)
    page = client.get(reverse(f"{SITE}:auth_user_change", args=[customer.pk]))
    assert page.status_code == 200
    assert f'href="{lookup_url(customer)}"' in page.content.decode()
    assert "Screen share" in page.content.decode()
    # Django's own User change page is still what is rendered around it.
    assert "password" in page.content.decode()


def test_no_button_without_the_screenshare_permission(client, customer):
    viewer = make_user("viewer", ["view_visitor"])
    viewer.user_permissions.add(Permission.objects.get(codename="view_user"))
    client.force_login(type(viewer).objects.get(pk=viewer.pk))
    page = client.get(reverse(f"{SITE}:auth_user_change", args=[customer.pk]))
    assert page.status_code == 200 and "change_form" in page.content.decode()
    assert lookup_url(customer) not in page.content.decode()
    assert client.get(lookup_url(customer)).status_code == 403


def test_one_online_match_goes_to_the_share_page(client, agent, customer, upscope_fake):
    unique_id = unique_id_for(customer)
    mine = upscope_fake.add_visitor(unique_id=unique_id, identities=["Carla Customer"])
    upscope_fake.add_visitor(unique_id=unique_id, is_online=False, last_seen_at=ago(days=2))
    upscope_fake.add_visitor(identities=[f"id:{unique_id}"])  # free text must not match
    client.force_login(agent)
    response = client.get(lookup_url(customer))
    assert (response.status_code, response["Location"]) == (302, share_url(mine))
    assert searches(upscope_fake) == [f"id:{unique_id}"]
    assert Visitor.objects.filter(unique_id=unique_id).count() == 2  # mirrored


def test_several_matches_get_a_chooser_online_first(client, agent, customer, upscope_fake):
    unique_id = unique_id_for(customer)
    laptop = upscope_fake.add_visitor(unique_id=unique_id, last_seen_at=ago(minutes=5))
    phone = upscope_fake.add_visitor(
        unique_id=unique_id, last_seen_at=ago(minutes=1), last_url="https://shop.test/cart"
    )
    old = upscope_fake.add_visitor(unique_id=unique_id, is_online=False, last_seen_at=ago(days=1))
    client.force_login(agent)
    page = client.get(lookup_url(customer))
    html = page.content.decode()
    assert page.status_code == 200 and 'data-outcome="several"' in html
    order = [html.index(f'data-short-id="{short_id}"') for short_id in (phone, laptop, old)]
    assert order == sorted(order)
    assert f'href="{share_url(phone)}"' in html and "https://shop.test/cart" in html


def test_no_online_match_says_so_with_the_last_time_seen(client, agent, customer, upscope_fake):
    unique_id = unique_id_for(customer)
    seen = timezone.now().replace(microsecond=0) - dt.timedelta(hours=3)
    upscope_fake.add_visitor(unique_id=unique_id, is_online=False, last_seen_at=seen)
    client.force_login(agent)
    page = client.get(lookup_url(customer))
    html = page.content.decode()
    assert page.status_code == 200 and 'data-outcome="none"' in html
    assert "This customer is not on the site right now." in html
    assert f'datetime="{seen.isoformat()}"' in html


def test_never_seen_customer(client, agent, customer, upscope_fake):
    client.force_login(agent)
    html = client.get(lookup_url(customer)).content.decode()
    assert 'data-outcome="none"' in html and "Never seen on the site." in html


def test_last_seen_from_the_mirror_when_upscope_forgot(client, agent, customer, upscope_fake):
    seen = timezone.now().replace(microsecond=0) - dt.timedelta(days=40)
    VisitorFactory(unique_id=unique_id_for(customer), last_seen_at=seen, is_online=False)
    client.force_login(agent)
    html = client.get(lookup_url(customer)).content.decode()
    assert 'data-outcome="none"' in html and f'datetime="{seen.isoformat()}"' in html


def test_an_upscope_error_is_explained(client, agent, customer, upscope_fake):
    upscope_fake.fail("list", status=503, times=None)
    client.force_login(agent)
    page = client.get(lookup_url(customer))
    assert page.status_code == 503 and 'data-outcome="error"' in page.content.decode()


# -- by code ------------------------------------------------------------------------


def test_the_visitor_list_links_to_the_by_code_page(client, agent, upscope_fake):
    client.force_login(agent)
    page = client.get(reverse(f"{SITE}:django_upscope_visitor_changelist"))
    assert f'href="{by_code_url()}"' in page.content.decode()


def test_by_code_form_then_one_match(client, agent, upscope_fake):
    short_id = upscope_fake.add_visitor(lookup_code="4821")
    upscope_fake.add_visitor(lookup_code="1111")
    client.force_login(agent)
    form = client.get(by_code_url())
    assert form.status_code == 200 and 'data-outcome="form"' in form.content.decode()
    assert searches(upscope_fake) == []
    response = client.get(by_code_url(), {"code": "4821"})
    assert (response.status_code, response["Location"]) == (302, share_url(short_id))
    assert searches(upscope_fake) == ["4821"]


def test_by_code_none_and_invalid(client, agent, upscope_fake):
    client.force_login(agent)
    html = client.get(by_code_url(), {"code": "0042"}).content.decode()
    assert 'data-outcome="none"' in html and "No visitor online has the code 0042." in html
    invalid = client.get(by_code_url(), {"code": "42a"}).content.decode()
    assert 'data-outcome="invalid"' in invalid and "A code is four digits." in invalid
    assert searches(upscope_fake) == ["0042"]


def test_by_code_several(client, agent, upscope_fake):
    first = upscope_fake.add_visitor(lookup_code="7777")
    second = upscope_fake.add_visitor(lookup_code="7777")
    client.force_login(agent)
    html = client.get(by_code_url(), {"code": "7777"}).content.decode()
    assert 'data-outcome="several"' in html
    assert f'href="{share_url(first)}"' in html and f'href="{share_url(second)}"' in html


def test_by_code_needs_the_screenshare_permission(client, upscope_fake):
    client.force_login(make_user("viewer", ["view_visitor"]))
    assert client.get(by_code_url(), {"code": "4821"}).status_code == 403
    assert searches(upscope_fake) == []
