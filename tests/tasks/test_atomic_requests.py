"""Issue 12 item 11: with ATOMIC_REQUESTS on, a bulk delete aborted part-way (as gunicorn
aborts a worker at its timeout) keeps the record of every deletion Upscope already made."""

from __future__ import annotations

import re

import pytest
import responses
from django.db import connection
from django.urls import resolve

from django_upscope.models import AuditEvent, Visitor
from django_upscope.testing.factories import VisitorFactory

API = "http://127.0.0.1:1/__upscope__/v1.1"
CHANGELIST = "/admin/django_upscope/visitor/"
IDS = [f"V{n}" for n in range(1, 6)]
DONE_BEFORE_ABORT = 2

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def atomic_requests(monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)


def abort_after(rsps, k):
    """Upscope deletes the first ``k`` visitors; the worker is killed during the next call."""
    calls = []

    def delete(request):
        calls.append(request.url)
        if len(calls) > k:
            raise SystemExit(1)  # what gunicorn's SIGABRT handler raises in the worker
        return (200, {}, '{"status": "ok"}')

    rsps.add_callback(responses.DELETE, re.compile(rf"{API}/visitors/.*"), delete)
    return calls


def bulk_delete(client):
    for short_id in IDS:
        VisitorFactory(short_id=short_id)
    data = {"action": "delete_visitors", "_selected_action": IDS, "post": "yes"}
    with pytest.raises(SystemExit):
        client.post(CHANGELIST, data)


def test_an_aborted_bulk_delete_keeps_what_upscope_did(admin_client, rsps, atomic_requests):
    calls = abort_after(rsps, DONE_BEFORE_ABORT)
    bulk_delete(admin_client)
    assert len(calls) == DONE_BEFORE_ABORT + 1
    deleted = [url.rsplit("/", 1)[-1].removesuffix(".json") for url in calls[:DONE_BEFORE_ABORT]]
    remaining = set(Visitor.objects.values_list("short_id", flat=True))
    assert remaining == set(IDS) - set(deleted)
    audited = AuditEvent.objects.filter(action="delete_visitor", outcome="success")
    assert sorted(audited.values_list("visitor_short_id", flat=True)) == sorted(deleted)


def test_control_inside_the_request_transaction_the_records_are_lost(
    admin_client, rsps, atomic_requests, monkeypatch
):
    # The same abort with the changelist back inside ATOMIC_REQUESTS' transaction: this is
    # what the test above would see if the view lost its non-atomic marking.
    monkeypatch.setattr(resolve(CHANGELIST).func, "_non_atomic_requests", set())
    abort_after(rsps, DONE_BEFORE_ABORT)
    bulk_delete(admin_client)
    assert set(Visitor.objects.values_list("short_id", flat=True)) == set(IDS)
    assert not AuditEvent.objects.filter(action="delete_visitor").exists()


@pytest.mark.drf  # drives the DRF API or the example project (which installs DRF)
@pytest.mark.parametrize(
    "path",
    [
        CHANGELIST,
        CHANGELIST + "purge/",
        CHANGELIST + "V1/screenshare/",
        CHANGELIST + "V1/session/stop/",
        "/upscope/api/visitors/V1/",
        "/upscope/api/visitors/purge/",
        "/upscope/api/visitors/V1/session/",
    ],
)
def test_views_that_act_on_upscope_run_outside_the_request_transaction(path):
    assert "default" in resolve(path).func._non_atomic_requests
