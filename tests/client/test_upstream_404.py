"""A 404 means "no such visitor" (or "already deleted") only in Upscope's own words.

A proxy's HTML 404, or a wrong ``API_URL`` path, answers 404 too; taking it for
Upscope's answer would remove local rows and audit a deletion that never happened.
Only a JSON ``{"status": "error", ...}`` body is Upscope's (docs/upscope-api.md, "Errors").
"""

from __future__ import annotations

import pytest
import requests

from django_upscope import services
from django_upscope.exceptions import UpscopeAPIError, UpscopeVisitorNotFound
from django_upscope.fake import state
from django_upscope.models import AuditEvent, Visitor
from django_upscope.testing.factories import VisitorFactory

from ..helpers import make_user
from ..payloads import CLOUD_URL, cloud_client

VISITOR_URL = f"{CLOUD_URL}/visitors/ABCD1234.json"
SESSION_URL = f"{CLOUD_URL}/visitors/ABCD1234/session"
WATCH_ENDPOINT = f"{CLOUD_URL}/visitors/ABCD1234/watch_url.json"

UPSCOPE_NOT_FOUND = {"json": {"status": "error", "error": "not_found"}}
# 404s that are not Upscope's: a proxy's page, a framework's JSON, plain text, nothing.
FOREIGN_404S = {
    "html": {
        "body": "<html><body><h1>404 Not Found</h1>nginx</body></html>",
        "content_type": "text/html",
    },
    "plain": {"body": "Not Found", "content_type": "text/plain"},
    "empty": {"body": ""},
    "other json": {"json": {"detail": "Not found."}},
    "json list": {"json": ["status", "error"]},
}

OPERATIONS = {
    "get_visitor": ("GET", VISITOR_URL, lambda c: c.get_visitor("ABCD1234")),
    "delete": ("DELETE", VISITOR_URL, lambda c: c.delete_visitor("ABCD1234")),
    "watch_url": (
        "POST",
        WATCH_ENDPOINT,
        lambda c: c.create_watch_url("ABCD1234", agent_id="1", agent_name="A"),
    ),
    "stop_session": ("DELETE", SESSION_URL, lambda c: c.stop_session("ABCD1234")),
}


@pytest.mark.parametrize("answer", FOREIGN_404S.values(), ids=FOREIGN_404S.keys())
@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
def test_a_foreign_404_is_an_api_error_hinting_at_the_url(rsps, operation, answer):
    method, url, call = operation
    rsps.add(method, url, status=404, **answer)
    with pytest.raises(UpscopeAPIError) as info:
        call(cloud_client(max_retries=0))
    assert type(info.value) is UpscopeAPIError
    assert (info.value.status_code, info.value.code) == (404, "http_404")
    assert "check UPSCOPE['API_URL']" in info.value.message


@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
def test_upscopes_own_404_is_visitor_not_found(rsps, operation):
    # The positive control of the test above: the same request, Upscope's body.
    method, url, call = operation
    rsps.add(method, url, status=404, **UPSCOPE_NOT_FOUND)
    with pytest.raises(UpscopeVisitorNotFound):
        call(cloud_client(max_retries=0))


@pytest.mark.parametrize("answer", FOREIGN_404S.values(), ids=FOREIGN_404S.keys())
def test_a_foreign_404_to_a_retried_delete_is_not_taken_as_done(rsps, answer):
    rsps.delete(VISITOR_URL, body=requests.ConnectionError("answer lost"))
    rsps.delete(VISITOR_URL, status=404, **answer)
    with pytest.raises(UpscopeAPIError) as info:
        cloud_client(max_retries=2).delete_visitor("ABCD1234")
    assert (type(info.value), info.value.code) == (UpscopeAPIError, "http_404")
    assert len(rsps.calls) == 2


def test_upscopes_404_to_a_retried_delete_is_done(rsps):
    rsps.delete(VISITOR_URL, body=requests.ConnectionError("answer lost"))
    rsps.delete(VISITOR_URL, status=404, **UPSCOPE_NOT_FOUND)
    assert cloud_client(max_retries=2).delete_visitor("ABCD1234") is None
    assert len(rsps.calls) == 2


@pytest.mark.django_db
def test_a_proxys_404_keeps_the_row_and_audits_a_failure(rsps, upstream):
    VisitorFactory(short_id="ABCD1234")
    rsps.delete(VISITOR_URL, status=404, **FOREIGN_404S["html"])
    actor = services.Actor(make_user("admin", superuser=True), source="api")
    with pytest.raises(UpscopeAPIError):
        services.delete_visitor(actor, "ABCD1234")
    assert Visitor.objects.filter(pk="ABCD1234").exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.DELETE_VISITOR)
    assert (event.outcome, event.visitor_short_id) == (AuditEvent.Outcome.FAILURE, "ABCD1234")


@pytest.mark.django_db
def test_upscopes_404_removes_the_row_as_already_deleted(rsps, upstream):
    VisitorFactory(short_id="ABCD1234")
    rsps.delete(VISITOR_URL, status=404, **UPSCOPE_NOT_FOUND)
    actor = services.Actor(make_user("admin", superuser=True), source="api")
    result = services.delete_visitor(actor, "ABCD1234")
    assert (result.already_gone, result.removed_locally) == (True, 1)
    assert not Visitor.objects.filter(pk="ABCD1234").exists()
    assert result.audit_event.outcome == AuditEvent.Outcome.SUCCESS


def test_the_fakes_404_for_an_unknown_visitor_is_upscopes_shape(upscope_fake):
    # The embedded fake must answer as Upscope does, or tests against it prove nothing.
    assert not state.FakeVisitor.objects.filter(pk="NOSUCH1").exists()
    with pytest.raises(UpscopeVisitorNotFound):
        upscope_fake.client().delete_visitor("NOSUCH1")
