"""Our ModelAdmins on a project's own AdminSite: the screen-share page follows that site.

The test URLconf mounts the custom site (name ``support``, at ``/support/``) after the
default one (``/admin/``), so a link or redirect that fell back to the default site, or to
an unqualified ``admin:`` name, points into ``/admin/`` and fails these tests.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from django_upscope.models import AuditEvent
from django_upscope.testing.factories import VisitorFactory

from ..helpers import make_user

pytestmark = pytest.mark.urls("tests.admin.custom_site_urls")

HEADER = "Support desk of Example Ltd"


def page_url(short_id):
    return reverse("support:django_upscope_visitor_screenshare", args=[short_id])


def hrefs(html):
    return set(re.findall(r'(?:href|action)="([^"]+)"', html))


def test_the_page_is_on_the_custom_site(login, agent, upscope_fake):
    short_id = upscope_fake.add_visitor(identities=["Grace Hopper"])
    response = login(agent).get(page_url(short_id))
    assert response.status_code == 200
    assert page_url(short_id) == f"/support/django_upscope/visitor/{short_id}/screenshare/"
    html = response.content.decode()
    assert HEADER in html
    links = hrefs(html)
    assert {
        "/support/",
        "/support/django_upscope/",
        "/support/django_upscope/visitor/",
        f"/support/django_upscope/visitor/{short_id}/change/",
        f"/support/django_upscope/visitor/{short_id}/session/stop/",
    } <= links
    assert not [link for link in links if link.startswith("/admin/")]

    [minted] = [r for r in upscope_fake.requests() if r.endpoint == "watch_url"]
    branding = minted.json["branding"]
    assert branding["retry_url"] == f"http://testserver{page_url(short_id)}"
    ended = urlsplit(branding["on_end_url"])
    assert ended.path == f"/upscope/visitors/{short_id}/screenshare/ended/"
    assert parse_qs(ended.query) == {"admin_site": ["support"]}


def test_anonymous_goes_to_the_custom_sites_login(client, upscope_fake):
    short_id = upscope_fake.add_visitor()
    response = client.get(page_url(short_id))
    assert response.status_code == 302
    login = urlsplit(response["Location"])
    assert login.path == "/support/login/"
    assert parse_qs(login.query)["next"] == [page_url(short_id)]
    assert upscope_fake.requests() == []
    assert AuditEvent.objects.count() == 0


def test_error_and_refusal_pages_are_the_custom_sites(login, agent, upscope_fake):
    short_id = upscope_fake.add_visitor()
    upscope_fake.fail("watch_url", status=503)
    response = login(agent).get(page_url(short_id))
    assert response.status_code == 503
    html = response.content.decode()
    assert HEADER in html
    assert f'id="upscope-retry" href="{page_url(short_id)}"' in html
    assert f'href="/support/django_upscope/visitor/{short_id}/change/"' in html

    helper = make_user("helper", ["view_visitor"])
    refused = login(helper).get(page_url(short_id))
    assert refused.status_code == 403
    assert HEADER in refused.content.decode()
    assert 'href="/support/"' in refused.content.decode()


def test_stop_and_links_into_the_page_use_the_custom_site(login, agent, upscope_fake):
    short_id = upscope_fake.add_visitor()
    VisitorFactory(short_id=short_id)
    client = login(agent)
    stop = reverse("support:django_upscope_visitor_stop_session", args=[short_id])
    response = client.post(stop)
    assert response.status_code == 302
    assert response["Location"] == f"/support/django_upscope/visitor/{short_id}/change/"
    changelist = client.get("/support/django_upscope/visitor/").content.decode()
    assert f'href="{page_url(short_id)}"' in changelist
    change = client.get(f"/support/django_upscope/visitor/{short_id}/change/").content.decode()
    assert f'href="{page_url(short_id)}"' in change


def test_the_ended_page_links_back_into_the_custom_site(login, agent, db):
    ended = reverse("django_upscope:screenshare_ended", args=["V1"])
    html = login(agent).get(f"{ended}?admin_site=support").content.decode()
    assert 'href="/support/django_upscope/visitor/V1/change/" target="_top"' in html
    assert f'href="{page_url("V1")}" target="_top"' in html


def test_the_custom_sites_index_links_the_usage_page(admin_client, rsps):
    rsps.get("http://127.0.0.1:1/__upscope__/v1.1/usage.json", json={"usage": {}})
    index = admin_client.get("/support/").content.decode()
    assert 'href="/support/django_upscope/usagesnapshot/"' in index
    page = admin_client.get("/support/django_upscope/usagesnapshot/")
    assert page.status_code == 200
    assert page.templates[0].name == "django_upscope/admin/usage.html"
    html = page.content.decode()
    assert HEADER in html
    links = hrefs(html)
    assert {
        "/support/",
        "/support/django_upscope/",
        "/support/django_upscope/usagesnapshot/list/",
    } <= links
    csv_links = [link for link in links if "/csv/" in link]
    assert len(csv_links) == 5
    assert all(link.startswith("/support/django_upscope/usagesnapshot/csv/") for link in csv_links)
    assert not [link for link in links if link.startswith("/admin/")]
    assert admin_client.get(csv_links[0].replace("&amp;", "&")).status_code == 200
