"""The audit trail in the admin: read-only for everyone, filterable, exportable as CSV."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import reverse

from django_upscope.models import AuditEvent
from django_upscope.testing.factories import AuditEventFactory

from ..helpers import make_user

CHANGELIST = "/admin/django_upscope/auditevent/"


def export(client, ids):
    response = client.post(CHANGELIST, {"action": "export_csv", "_selected_action": ids})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


@pytest.mark.django_db
def test_read_only_even_for_superusers(admin_client):
    event = AuditEventFactory()
    assert admin_client.get(CHANGELIST).status_code == 200
    assert admin_client.get(f"{CHANGELIST}{event.pk}/change/").status_code == 200
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    assert admin_client.post(f"{CHANGELIST}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    response = admin_client.post(f"{CHANGELIST}{event.pk}/change/", {"detail": "edited"})
    assert response.status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).detail != "edited"
    actions = admin_client.get(CHANGELIST).context["action_form"].fields["action"].choices
    assert [name for name, _ in actions if name] == ["export_csv"]
    html = admin_client.get(f"{CHANGELIST}{event.pk}/change/").content.decode()
    assert 'name="_save"' not in html


@pytest.mark.django_db
def test_model_admin_denies_add_change_delete():
    from django.contrib import admin
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = make_user("root", superuser=True)
    model_admin = admin.site._registry[AuditEvent]
    assert model_admin.has_add_permission(request) is False
    assert model_admin.has_change_permission(request) is False
    assert model_admin.has_delete_permission(request) is False
    assert model_admin.has_view_permission(request) is True


@pytest.mark.django_db
def test_filters_and_search(admin_client):
    AuditEventFactory(
        action="watch_url",
        outcome="success",
        username="ada",
        visitor_short_id="V1",
        request_id="rid-aaa",
        source="admin",
    )
    AuditEventFactory(
        action="delete_visitor",
        outcome="failure",
        username="bob",
        visitor_short_id="V2",
        request_id="rid-bbb",
        source="api",
    )

    def listed(query):
        response = admin_client.get(CHANGELIST + query)
        assert response.status_code == 200
        return {e.username for e in response.context["cl"].result_list}

    assert listed("?action__exact=delete_visitor") == {"bob"}
    assert listed("?outcome__exact=success") == {"ada"}
    assert listed("?source__exact=api") == {"bob"}
    assert listed("?q=V1") == {"ada"}
    assert listed("?q=rid-bbb") == {"bob"}
    assert listed("?q=ada") == {"ada"}
    assert "created_at__gte" in admin_client.get(CHANGELIST).content.decode()


@pytest.mark.django_db
def test_csv_export(admin_client):
    event = AuditEventFactory(
        action="watch_url", outcome="success", username="ada", visitor_short_id="V1",
        permissions={"allow_click": True}, metadata={"ticket": "=HYPERLINK(1)"},
        watch_url_hash="ab" * 32, client_ip="203.0.113.5", request_id="rid-1",
    )  # fmt: skip
    [row] = export(admin_client, [event.pk])
    assert row["action"] == "watch_url"
    assert row["username"] == "ada"
    assert row["visitor_short_id"] == "V1"
    assert row["client_ip"] == "203.0.113.5"
    assert row["watch_url_hash"] == "ab" * 32
    assert row["permissions"] == '{"allow_click": true}'
    assert "HYPERLINK" in row["metadata"]
    assert set(row) >= {"created_at", "outcome", "error_code", "status_code", "detail"}


@pytest.mark.django_db
def test_csv_cells_cannot_become_formulas(admin_client):
    event = AuditEventFactory(username="=cmd|' /C calc'!A0", detail="@SUM(1)")
    [row] = export(admin_client, [event.pk])
    assert row["username"].startswith("'=")
    assert row["detail"].startswith("'@")


def test_export_of_real_events_holds_no_watch_url(login, upscope_fake):
    agent = make_user("agent", ["screenshare_visitor", "view_visitor", "view_auditevent"])
    client = login(agent)
    short_id = upscope_fake.add_visitor()
    page = client.get(
        reverse("admin:django_upscope_visitor_screenshare", args=[short_id])
    ).content.decode()
    [watch_url] = re.findall(r'<iframe id="upscope-watch-frame" src="([^"]+)"', page)
    ids = list(AuditEvent.objects.values_list("pk", flat=True))
    response = client.post(CHANGELIST, {"action": "export_csv", "_selected_action": ids})
    body = response.content.decode()
    assert "watch_url" in body and "success" in body
    token = watch_url.rsplit("/", 1)[-1]
    assert token not in body
    assert upscope_fake.api_key not in body
    listing = client.get(CHANGELIST).content.decode()
    detail = client.get(f"{CHANGELIST}{ids[0]}/change/").content.decode()
    assert token not in listing + detail
