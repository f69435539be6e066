"""django_upscope.tasks in the test process: the immediate backend (no worker, as a project
without TASKS runs them) and the database backend's queue, run by an in-process worker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from django_upscope import jobs, locks, tasks
from django_upscope.models import AuditEvent, BulkJob, SyncState, Visitor
from django_upscope.testing.factories import VisitorFactory
from tests.helpers import make_user

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
CHANGELIST = "/admin/django_upscope/visitor/"


def list_requests(fake):
    return [r for r in fake.requests() if r.endpoint == "list"]


# -- no worker: the framework's ImmediateBackend runs enqueue() at once --------------------


def test_sync_mirror_enqueue_runs_at_once_and_the_admin_shows_the_last_sync(
    upscope_fake, admin_client
):
    ids = upscope_fake.seed(4, seed=1)
    result = tasks.sync_mirror.enqueue()
    assert result.status == "SUCCESSFUL"
    assert result.return_value["created"] == 4
    assert set(Visitor.objects.values_list("short_id", flat=True)) == set(ids)
    state = SyncState.objects.get(name=jobs.SYNC_LEASE)
    assert (state.ok, state.holder) == (True, "")
    page = admin_client.get(CHANGELIST).content.decode()
    # In words, for an agent: the moment, then what the sync did.
    assert "<title>Last sync: just now: 4 new, 0 updated, 0 unchanged |" in page
    assert state.summary == "4 new, 0 updated, 0 unchanged"


def test_a_second_sync_while_one_runs_says_already_running(upscope_fake):
    upscope_fake.seed(2, seed=2)
    token = locks.acquire(jobs.SYNC_LEASE, ttl=60)
    assert tasks.sync_mirror.call() == {"status": jobs.ALREADY_RUNNING}
    assert list_requests(upscope_fake) == []
    assert Visitor.objects.count() == 0
    # Positive control: once the lease is free, the same call syncs.
    locks.release(jobs.SYNC_LEASE, token, ok=True, summary="")
    assert tasks.sync_mirror.call()["created"] == 2
    assert len(list_requests(upscope_fake)) == 1


def test_a_failed_sync_is_recorded_for_the_admin_and_frees_the_lease(upscope_fake, admin_client):
    upscope_fake.fail("list", status=401, code="invalid_api_key")
    result = tasks.sync_mirror.enqueue()
    assert result.status == "FAILED"
    state = SyncState.objects.get(name=jobs.SYNC_LEASE)
    assert (state.ok, state.holder) == (False, "")
    assert "[invalid_api_key]" in state.summary
    assert "failed:" in admin_client.get(CHANGELIST).content.decode()


def test_snapshot_usage_stores_a_snapshot(upscope_fake):
    from django_upscope.models import UsageSnapshot

    assert tasks.snapshot_usage.enqueue().return_value["status"] == "ok"
    assert UsageSnapshot.objects.count() == 1


def test_without_a_worker_a_large_bulk_delete_runs_in_the_request(upscope_fake, admin_client):
    ids = [upscope_fake.add_visitor() for _ in range(3)]
    for short_id in ids:
        VisitorFactory(short_id=short_id)
    data = {"action": "delete_visitors", "_selected_action": ids, "post": "yes"}
    with override_settings(UPSCOPE={**_upscope(), "BULK_TASK_THRESHOLD": 1}):
        admin_client.post(CHANGELIST, data)
    assert Visitor.objects.count() == 0
    assert BulkJob.objects.count() == 0


def _upscope():
    from django.conf import settings

    return dict(settings.UPSCOPE)


# -- the database backend: queued, then run by a worker --------------------------------------


@override_settings(TASKS=DB_TASKS)
def test_sync_mirror_reschedules_itself_once_with_run_after(upscope_fake, settings):
    settings.UPSCOPE = {**settings.UPSCOPE, "SYNC_INTERVAL": 60}
    upscope_fake.seed(2, seed=3)
    before = timezone.now()
    assert tasks.sync_mirror.call()["created"] == 2
    [scheduled] = DBTaskResult.objects.all()
    assert scheduled.task_path == "django_upscope.tasks.sync_mirror"
    assert scheduled.run_after >= before + timedelta(seconds=60)
    # A sync run by hand meanwhile does not start a second chain.
    tasks.sync_mirror.call()
    assert DBTaskResult.objects.count() == 1
    # Not due yet: a batch worker leaves it queued.
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    assert DBTaskResult.objects.get().status == "READY"


@override_settings(TASKS=DB_TASKS)
def test_a_purge_queues_its_reconcile_which_marks_gone_what_upscope_purged(
    upscope_fake, admin_client, settings
):
    settings.UPSCOPE = {**settings.UPSCOPE, "FAKE_PURGE_DELAY": 0, "PURGE_RECONCILE_DELAY": 0}
    online = upscope_fake.add_visitor(is_online=True)
    offline = upscope_fake.add_visitor(is_online=False)
    tasks.sync_mirror.call()
    assert Visitor.objects.count() == 2
    admin_client.post(CHANGELIST + "purge/", {"post": "yes"})
    [queued] = DBTaskResult.objects.all()
    assert queued.task_path == "django_upscope.tasks.reconcile_purge"
    assert Visitor.objects.count() == 2  # nothing before the worker runs it
    assert not Visitor.objects.filter(removed_upstream_at__isnull=False).exists()
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    # Kept as the record, marked gone (PURGE_REMOVES_GONE deletes it instead).
    gone = Visitor.objects.filter(removed_upstream_at__isnull=False)
    assert list(gone.values_list("short_id", flat=True)) == [offline]
    assert Visitor.objects.get(pk=online).removed_upstream_at is None
    assert DBTaskResult.objects.get(pk=queued.pk).return_value["pruned"] == 1


@override_settings(TASKS=DB_TASKS)
def test_a_large_bulk_delete_is_queued_with_a_progress_page(upscope_fake, client, settings):
    settings.UPSCOPE = {**settings.UPSCOPE, "BULK_TASK_THRESHOLD": 2}
    ids = [upscope_fake.add_visitor() for _ in range(4)]
    for short_id in ids:
        VisitorFactory(short_id=short_id)
    upscope_fake.fail("visitor_delete", status=500, times=1)
    user = make_user("deleter", ["view_visitor", "delete_visitor"])
    client.force_login(user)
    data = {"action": "delete_visitors", "_selected_action": ids, "post": "yes"}
    response = client.post(CHANGELIST, data, follow=True)
    job = BulkJob.objects.get()
    assert response.redirect_chain[-1][0].endswith(f"/jobs/{job.pk}/")
    page = response.content.decode()
    assert "Queued: Visitor deleted of 4 visitors" in page
    assert (job.status, job.total, job.done, job.remaining) == ("queued", 4, 0, 4)
    assert Visitor.objects.count() == 4  # nothing done in the request
    assert not [r for r in upscope_fake.requests() if r.method == "DELETE"]

    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    job.refresh_from_db()
    assert (job.status, job.done, job.failed, job.remaining) == ("finished", 3, 1, 0)
    assert Visitor.objects.count() == 1
    assert AuditEvent.objects.filter(action="delete_visitor", outcome="success").count() == 3
    assert set(AuditEvent.objects.values_list("username", flat=True)) == {"deleter"}
    page = client.get(f"{CHANGELIST}jobs/{job.pk}/").content.decode()
    assert '<td class="upscope-done">3</td>' in page
    assert '<td class="upscope-failed">1</td>' in page
    assert '<td class="upscope-remaining">0</td>' in page
    [kept] = Visitor.objects.values_list("short_id", flat=True)
    assert f"Visitor {kept} was not deleted." in page
    # Another user does not see the job.
    client.force_login(make_user("other", ["view_visitor", "delete_visitor"]))
    assert client.get(f"{CHANGELIST}jobs/{job.pk}/").status_code == 404


@override_settings(TASKS=DB_TASKS)
@pytest.mark.django_db(transaction=True)
def test_a_permission_withdrawn_before_the_worker_runs_stops_the_job(settings):
    user = make_user("deleter", ["delete_visitor"])
    VisitorFactory(short_id="V1")
    from django_upscope.audit import Actor, Source

    job = tasks.enqueue_bulk("delete_visitor", Actor(user, source=Source.ADMIN), ["V1"])
    user.user_permissions.clear()
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    job.refresh_from_db()
    assert job.status == "failed"
    assert "may not delete visitors" in job.detail
    assert Visitor.objects.filter(pk="V1").exists()
    assert AuditEvent.objects.get().outcome == "denied"
