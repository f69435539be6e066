"""Issue 11: a purge reconciled (gone visitors marked, or deleted by setting), the "Gone
from Upscope" filter, badge and share cell, how old each page's mirrored state is, and the
visitor page's "Refresh from Upscope" button."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from django_upscope import jobs
from django_upscope.models import AuditEvent, SyncState, Visitor
from django_upscope.testing.factories import (
    SessionFactory,
    UsageSnapshotFactory,
    VisitorFactory,
)

from ..helpers import make_user

CHANGELIST = reverse("admin:django_upscope_visitor_changelist")
PURGE = reverse("admin:django_upscope_visitor_purge")
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
NBSP = "\xa0"


def change_url(short_id):
    return reverse("admin:django_upscope_visitor_change", args=[short_id])


def refresh_url(short_id):
    return reverse("admin:django_upscope_visitor_refresh", args=[short_id])


def share_url(short_id):
    return reverse("admin:django_upscope_visitor_screenshare", args=[short_id])


def texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def listed(response):
    """The short_ids of the changelist's rows (their action checkboxes)."""
    html = response.content.decode()
    return set(re.findall(r'name="_selected_action" value="([^"]+)"', html))


@pytest.fixture
def purge_world(upscope_fake, settings):
    """An online and two offline visitors in Upscope and in the mirror; the fake purges at
    once (FAKE_PURGE_DELAY 0), as Upscope would once it has had time."""
    settings.UPSCOPE = {**settings.UPSCOPE, "FAKE_PURGE_DELAY": 0}
    online = upscope_fake.add_visitor(is_online=True)
    offline = [upscope_fake.add_visitor(is_online=False) for _ in range(2)]
    jobs.sync_mirror()
    assert Visitor.objects.count() == 3
    return online, offline


# -- the check after a purge ----------------------------------------------------------------


def test_the_check_after_a_purge_marks_gone_what_upscope_removed(admin_client, purge_world):
    online, offline = purge_world
    response = admin_client.post(PURGE, {"post": "yes"}, follow=True)
    assert response.status_code == 200
    gone = Visitor.objects.filter(removed_upstream_at__isnull=False)
    assert set(gone.values_list("short_id", flat=True)) == set(offline)
    # Positive control: the online visitor Upscope still has is untouched.
    assert Visitor.objects.get(pk=online).removed_upstream_at is None
    assert Visitor.objects.count() == 3  # kept, as the record
    said = texts(response)
    assert any("Upscope accepted the purge" in m and "asynchronously" in m for m in said)
    assert (
        "Checked just now: 2 visitors Upscope no longer has are marked gone "
        "(filter \u201cGone from Upscope\u201d)." in said
    )
    # The list the agent lands on shows them gone: hidden by default.
    assert listed(response) == {online}


def test_with_purge_removes_gone_the_check_deletes_them(admin_client, purge_world, settings):
    online, _offline = purge_world
    settings.UPSCOPE = {**settings.UPSCOPE, "PURGE_REMOVES_GONE": True}
    response = admin_client.post(PURGE, {"post": "yes"}, follow=True)
    assert list(Visitor.objects.values_list("short_id", flat=True)) == [online]
    assert Visitor.objects.get(pk=online).removed_upstream_at is None
    assert (
        "Checked just now: 2 visitors Upscope no longer has were removed from this list."
        in texts(response)
    )


def test_a_check_too_early_says_the_rest_is_still_in_upscope(admin_client, upscope_fake, settings):
    # Upscope has not purged yet when the check runs: nothing is marked, and it says so.
    settings.UPSCOPE = {**settings.UPSCOPE, "FAKE_PURGE_DELAY": 3600}
    offline = [upscope_fake.add_visitor(is_online=False) for _ in range(2)]
    jobs.sync_mirror()
    response = admin_client.post(PURGE, {"post": "yes"}, follow=True)
    assert not Visitor.objects.filter(removed_upstream_at__isnull=False).exists()
    said = texts(response)
    assert "Checked just now: 0 visitors Upscope no longer has are marked gone" in " ".join(said)
    assert any(m.startswith("2 offline visitors are still in Upscope for now") for m in said), said
    assert listed(response) == set(offline)


def test_a_failed_check_after_an_accepted_purge_is_a_warning_not_a_500(
    admin_client, purge_world, upscope_fake
):
    upscope_fake.fail("visitor_get", status=503, times=None)
    response = admin_client.post(PURGE, {"post": "yes"}, follow=True)
    assert response.status_code == 200
    said = texts(response)
    assert any("Upscope accepted the purge" in m for m in said)
    assert any(
        m.startswith("The check after the purge failed.") and "HTTP 503" in m for m in said
    ), said
    assert not Visitor.objects.filter(removed_upstream_at__isnull=False).exists()


def test_the_check_in_the_request_asks_about_a_bounded_number_of_visitors(
    admin_client, purge_world, upscope_fake, monkeypatch
):
    # A large mirror must not hold the request: the rest wait for a pruning sync.
    monkeypatch.setattr(jobs, "INLINE_PURGE_CHECK_LIMIT", 1)
    assert len(purge_world[1]) == 2  # two offline visitors: one is checked, one waits
    before = len(upscope_fake.requests("visitor_get"))
    response = admin_client.post(PURGE, {"post": "yes"}, follow=True)
    assert len(upscope_fake.requests("visitor_get")) - before == 1
    assert Visitor.objects.filter(removed_upstream_at__isnull=False).count() == 1
    said = texts(response)
    assert any("1 offline visitor is still in Upscope" in m for m in said), said


def test_the_confirmation_says_what_happens_without_a_worker(admin_client, upscope_fake):
    page = admin_client.get(PURGE).content.decode()
    assert "Without a task worker the check runs right away" in page
    assert "disappear from this list at the next sync" not in page
    assert "marks them \u201cGone from Upscope\u201d" in page


@override_settings(TASKS=DB_TASKS)
def test_with_a_worker_the_messages_say_a_check_is_queued(admin_client, purge_world, settings):
    from django_tasks_db.models import DBTaskResult

    page = admin_client.get(PURGE).content.decode()
    assert "60 seconds later, a check finds the visitors Upscope removed" in page
    response = admin_client.post(PURGE, {"post": "yes"}, follow=True)
    said = texts(response)
    assert (
        "A check in 60 seconds will mark those it deleted as gone "
        "(filter \u201cGone from Upscope\u201d)." in said
    )
    assert not any(m.startswith("Checked just now") for m in said)
    [queued] = DBTaskResult.objects.all()
    assert queued.task_path == "django_upscope.tasks.reconcile_purge"
    # Nothing marked before the worker runs the check.
    assert not Visitor.objects.filter(removed_upstream_at__isnull=False).exists()

    settings.UPSCOPE = {**settings.UPSCOPE, "PURGE_REMOVES_GONE": True}
    response = admin_client.post(PURGE, {"post": "yes"}, follow=True)
    assert "A check in 60 seconds will remove those it deleted from this list." in texts(response)


# -- the "Gone from Upscope" filter, badge and share cell -----------------------------------


@pytest.fixture
def present_and_gone(db):
    present = VisitorFactory(short_id="Present1", identities=["Alice Present"], is_online=False)
    gone = VisitorFactory(
        short_id="Gone0001",
        identities=["Alice Gone"],
        is_online=False,
        removed_upstream_at=timezone.now(),
    )
    other = VisitorFactory(short_id="Other001", identities=["Bob Present"], is_online=True)
    return present, gone, other


def test_the_list_hides_gone_visitors_by_default(admin_client, present_and_gone):
    response = admin_client.get(CHANGELIST)
    assert listed(response) == {"Present1", "Other001"}
    html = response.content.decode()
    assert "Gone from Upscope" in html  # the filter's choice
    assert "upscope-gone" not in html.split('id="changelist-filter"')[0]  # no badge row


def test_the_gone_filter_lists_only_gone_visitors_with_the_badge(admin_client, present_and_gone):
    response = admin_client.get(CHANGELIST, {"upscope_presence": "gone"})
    assert listed(response) == {"Gone0001"}
    html = response.content.decode()
    assert re.search(
        r'Alice Gone <span class="upscope-badge upscope-gone"[^>]*>Gone from Upscope<', html
    )
    everyone = admin_client.get(CHANGELIST, {"upscope_presence": "all"})
    assert listed(everyone) == {"Present1", "Gone0001", "Other001"}
    # Only the gone row has the badge.
    assert everyone.content.decode().count('class="upscope-badge upscope-gone"') == 1


def test_the_gone_filter_works_with_the_other_filters_and_the_search(
    admin_client, present_and_gone
):
    assert listed(admin_client.get(CHANGELIST, {"q": "Alice"})) == {"Present1"}
    assert listed(admin_client.get(CHANGELIST, {"q": "Alice", "upscope_presence": "gone"})) == {
        "Gone0001"
    }
    assert listed(admin_client.get(CHANGELIST, {"q": "Alice", "upscope_presence": "all"})) == {
        "Present1",
        "Gone0001",
    }
    assert listed(admin_client.get(CHANGELIST, {"is_online__exact": "1"})) == {"Other001"}
    assert (
        listed(admin_client.get(CHANGELIST, {"is_online__exact": "1", "upscope_presence": "gone"}))
        == set()
    )


def test_a_gone_visitor_is_offered_no_share_button(admin_client, present_and_gone):
    html = admin_client.get(CHANGELIST, {"upscope_presence": "all"}).content.decode()
    assert f'href="{share_url("Present1")}"' in html  # positive control
    assert f'href="{share_url("Gone0001")}"' not in html
    assert '<span class="upscope-gone-share"' in html
    assert html.count('class="upscope-gone-share"') == 1
    # Its own page has no "Start screen share" either; a present visitor's page has.
    gone_page = admin_client.get(change_url("Gone0001")).content.decode()
    assert share_url("Gone0001") not in gone_page
    assert '<strong class="upscope-gone">Gone from Upscope</strong>' in gone_page
    assert share_url("Present1") in admin_client.get(change_url("Present1")).content.decode()


# -- freshness --------------------------------------------------------------------------


def _synced_minutes_ago(minutes, summary="created=1 updated=0"):
    finished = timezone.now() - timedelta(minutes=minutes)
    SyncState.objects.create(
        name=jobs.SYNC_LEASE, finished_at=finished, started_at=finished, ok=True, summary=summary
    )
    return finished


def test_the_visitor_list_says_when_the_mirror_was_synced(admin_client, db):
    VisitorFactory()
    assert "Last sync: never." in admin_client.get(CHANGELIST).content.decode()
    finished = _synced_minutes_ago(3, summary="created=1 <b>x</b>")
    html = admin_client.get(CHANGELIST).content.decode()
    assert (
        f'<h2 id="upscope-last-sync"><span class="upscope-last-sync">Last sync: '
        f'<time datetime="{finished.isoformat()}">3{NBSP}minutes ago</time>: '
        "created=1 &lt;b&gt;x&lt;/b&gt;</span></h2>" in html
    )
    # The page's <title> carries the plain line, no markup.
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert f"Last sync: 3{NBSP}minutes ago" in title
    assert "<time" not in title


def test_the_session_list_says_when_the_mirror_was_synced(admin_client, db):
    SessionFactory()
    url = reverse("admin:django_upscope_session_changelist")
    assert "Last sync: never." in admin_client.get(url).content.decode()
    finished = _synced_minutes_ago(3)
    html = admin_client.get(url).content.decode()
    assert f'<time datetime="{finished.isoformat()}">3{NBSP}minutes ago</time>' in html


def test_the_visitor_page_says_when_its_row_was_synced(admin_client, db):
    synced = timezone.now() - timedelta(minutes=3)
    VisitorFactory(short_id="Fresh001", synced_at=synced)
    html = admin_client.get(change_url("Fresh001")).content.decode()
    assert f'<time class="upscope-freshness" datetime="{synced.isoformat()}"' in html, html
    assert f">synced 3{NBSP}minutes ago</time>" in html
    assert 'class="upscope-gone"' not in html


def test_the_usage_page_says_how_old_the_latest_snapshot_is(admin_client, upscope_fake):
    url = reverse("admin:django_upscope_usage")
    assert "no snapshot stored yet" in admin_client.get(url).content.decode()
    UsageSnapshotFactory(taken_at=timezone.now() - timedelta(hours=5))
    taken = timezone.now() - timedelta(minutes=3)
    UsageSnapshotFactory(taken_at=taken)
    html = admin_client.get(url).content.decode()
    assert f'datetime="{taken.isoformat()}"' in html
    assert f">latest snapshot 3{NBSP}minutes ago</time>" in html


# -- "Refresh from Upscope" -------------------------------------------------------------


@pytest.fixture
def stale_visitor(upscope_fake):
    short_id = upscope_fake.add_visitor(identities=["Fresh Name"])
    VisitorFactory(
        short_id=short_id, identities=["Stale Name"], synced_at=timezone.now() - timedelta(hours=3)
    )
    return short_id


def test_refresh_button_updates_the_visitor_and_its_freshness(admin_client, stale_visitor):
    page = admin_client.get(change_url(stale_visitor)).content.decode()
    assert f'action="{refresh_url(stale_visitor)}"' in page
    assert f"synced 3{NBSP}hours ago" in page
    response = admin_client.post(refresh_url(stale_visitor))
    assert response.status_code == 302
    assert response["Location"] == change_url(stale_visitor)
    page = admin_client.get(response["Location"])
    assert "Refreshed from Upscope just now." in texts(page)
    assert Visitor.objects.get(pk=stale_visitor).display_name == "Fresh Name"
    assert "synced just now" in page.content.decode()
    assert AuditEvent.objects.get().action == "refresh_visitor"


def test_refresh_needs_the_refresh_permission(login_client_for, stale_visitor):
    viewer = login_client_for(["view_visitor"])
    page = viewer.get(change_url(stale_visitor)).content.decode()
    assert refresh_url(stale_visitor) not in page
    assert viewer.post(refresh_url(stale_visitor)).status_code == 403
    assert Visitor.objects.get(pk=stale_visitor).display_name == "Stale Name"
    # Positive control: with the permission, the button is there and works.
    refresher = login_client_for(["view_visitor", "refresh_visitor"])
    assert refresh_url(stale_visitor) in refresher.get(change_url(stale_visitor)).content.decode()
    assert refresher.post(refresh_url(stale_visitor)).status_code == 302
    assert Visitor.objects.get(pk=stale_visitor).display_name == "Fresh Name"


def test_refresh_is_a_csrf_protected_post(stale_visitor, admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.get(refresh_url(stale_visitor)).status_code == 405
    assert client.post(refresh_url(stale_visitor)).status_code == 403
    assert Visitor.objects.get(pk=stale_visitor).display_name == "Stale Name"
    page = client.get(change_url(stale_visitor)).content.decode()
    form = re.search(
        r'<form method="post" action="[^"]+" id="upscope-refresh-form".*?</form>', page, re.S
    )
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(0)).group(1)
    response = client.post(refresh_url(stale_visitor), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Visitor.objects.get(pk=stale_visitor).display_name == "Fresh Name"


def test_refresh_when_upscope_fails_says_so_and_keeps_the_row(
    admin_client, stale_visitor, upscope_fake
):
    upscope_fake.fail("visitor_get", status=503, times=None)
    response = admin_client.post(refresh_url(stale_visitor), follow=True)
    assert response.status_code == 200
    [said] = texts(response)
    assert said.startswith("Not refreshed.") and "server error (HTTP 503)" in said
    row = Visitor.objects.get(pk=stale_visitor)
    assert (row.display_name, row.removed_upstream_at) == ("Stale Name", None)


def test_refresh_of_a_visitor_upscope_no_longer_has_marks_it_gone(admin_client, upscope_fake):
    VisitorFactory(short_id="Vanished1")  # in the mirror only
    response = admin_client.post(refresh_url("Vanished1"), follow=True)
    assert response.status_code == 200
    [said] = texts(response)
    assert said.startswith("Upscope no longer has visitor Vanished1: it is marked gone")
    assert Visitor.objects.get(pk="Vanished1").removed_upstream_at is not None
    page = response.content.decode()
    assert '<strong class="upscope-gone">Gone from Upscope</strong>' in page
    assert ">marked gone from Upscope just now</time>" in page
    assert share_url("Vanished1") not in page
    assert listed(admin_client.get(CHANGELIST)) == set()
    assert listed(admin_client.get(CHANGELIST, {"upscope_presence": "gone"})) == {"Vanished1"}


@pytest.fixture
def login_client_for(db):
    def make(codenames):
        client = Client()
        client.force_login(make_user(f"user{len(codenames)}", codenames))
        return client

    return make
