"""The admin usage page: current figures from Upscope and stored snapshots as an SVG chart."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from django_upscope.models import UsageSnapshot
from django_upscope.testing.factories import UsageSnapshotFactory

from ..helpers import make_user


def usage_url():
    return reverse("admin:django_upscope_usage")


def test_usage_page_shows_current_figures_without_storing_them(admin_client, upscope_fake):
    upscope_fake.seed(12, seed=3)
    stored = UsageSnapshotFactory()
    response = admin_client.get(usage_url())
    assert response.status_code == 200
    html = response.content.decode()
    usage = response.context["usage"]
    assert 'id="upscope-usage-current"' in html
    assert f"<td>{usage.visitors.online_now}</td>" in html
    assert f"<td>{usage.visitors.last_30_days}</td>" in html
    # A GET writes nothing: snapshots come from upscope_sync / upscope_usage_snapshot.
    assert list(UsageSnapshot.objects.all()) == [stored]
    assert [r.path for r in upscope_fake.requests()] == ["/__upscope__/v1.1/usage.json"]
    # one snapshot is enough for a chart with one point per series
    assert html.count("<polyline") == 3


def test_usage_page_without_snapshots_draws_the_current_figures(admin_client, upscope_fake):
    upscope_fake.seed(5, seed=1)
    response = admin_client.get(usage_url())
    assert response.status_code == 200
    html = response.content.decode()
    online = response.context["usage"].visitors.online_now
    # Day one: the current figures are the chart's one point, and its table's one row.
    assert html.count("<polyline") == 3
    [point] = response.context["chart"]["points"]
    assert point.now and point.visitors_online_now == online
    table = html[html.index('id="upscope-usage-table"') :]
    assert f'<th scope="row">now</th><td class="num">{online}</td>' in table
    assert "No snapshots stored yet" in html and "upscope_usage_snapshot" in html
    # Drawn, not stored: a GET writes nothing.
    assert not UsageSnapshot.objects.exists()


@pytest.mark.django_db
def test_chart_plots_stored_snapshots_oldest_first(admin_client, settings):
    settings.UPSCOPE = {**settings.UPSCOPE, "API_URL": "http://127.0.0.1:1/v1.1", "MAX_RETRIES": 0}
    start = timezone.now() - dt.timedelta(hours=3)
    for hour, online in enumerate([0, 10, 5]):
        UsageSnapshotFactory(
            taken_at=start + dt.timedelta(hours=hour),
            visitors_online_now=online,
            sessions_today=0,
            agents_today=0,
        )
    response = admin_client.get(usage_url())
    html = response.content.decode()
    assert '<svg id="upscope-usage-chart"' in html
    points = re.search(r'<polyline fill="none" stroke="#2271b1"[^>]*points="([^"]+)"', html)
    ys = [float(p.split(",")[1]) for p in points.group(1).split()]
    # SVG y grows downwards: the 10 is highest (smallest y), the 0 lowest.
    assert ys[1] < ys[2] < ys[0]
    xs = [float(p.split(",")[0]) for p in points.group(1).split()]
    assert xs == sorted(xs)


def test_usage_page_explains_upstream_failure_and_still_shows_history(admin_client, upscope_fake):
    UsageSnapshotFactory.create_batch(2)
    upscope_fake.fail("usage", status=503, times=None)
    response = admin_client.get(usage_url())
    assert response.status_code == 503
    html = response.content.decode()
    assert 'data-error-code="http_503"' in html
    assert "Upscope reported a server error" in html
    assert '<svg id="upscope-usage-chart"' in html
    assert UsageSnapshot.objects.count() == 2


def test_usage_page_auth_error(admin_client, upscope_fake, settings):
    settings.UPSCOPE = {**settings.UPSCOPE, "API_KEY": "fake_subscription_expired"}
    response = admin_client.get(usage_url())
    assert response.status_code == 502
    html = response.content.decode()
    assert "subscription has expired" in html
    assert "fake_subscription_expired" not in html


@pytest.mark.django_db
def test_usage_page_is_the_changelist_and_links_the_plain_list(admin_client, login):
    changelist = reverse("admin:django_upscope_usagesnapshot_changelist")
    page = admin_client.get(changelist)
    assert page.templates[0].name == "django_upscope/admin/usage.html"
    plain = reverse("admin:django_upscope_usagesnapshot_list")
    assert f'href="{plain}"' in page.content.decode()
    listing = admin_client.get(plain)
    assert listing.templates[0].name == "django_upscope/admin/usagesnapshot/change_list.html"
    assert f'href="{usage_url()}"' in listing.content.decode()
    user = make_user("visitor-viewer", ["view_visitor"])
    client = login(user)
    assert client.get(usage_url()).status_code == 403
    assert client.get(changelist).status_code == 403
    assert client.get(plain).status_code == 403
