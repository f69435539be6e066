"""The fault matrix on the DRF API: the documented status and ``{"error", "detail"}`` body."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from .conftest import World, assert_about, assert_readable
from .matrix import SEARCH, SHORT_ID, Column, Fault, cells, drf_expected, expected_error, times

SURFACE = "drf"
pytestmark = pytest.mark.drf


def api(name: str, *args: str) -> str:
    return reverse(f"django_upscope:api:{name}", args=args)


def call(client: Any, column: str) -> Any:
    if column == "usage":
        return client.get(api("usage"))
    if column == "search":
        return client.get(api("visitor-list"), {"search": SEARCH})
    if column == "latest":
        return client.get(api("visitor-list"))
    if column == "get":
        return client.get(api("visitor-detail", SHORT_ID))
    if column == "get_history":
        return client.get(api("visitor-detail", SHORT_ID), {"with_history": "true"})
    if column == "delete":
        return client.delete(api("visitor-detail", SHORT_ID))
    if column == "purge":
        return client.post(api("visitor-purge"), content_type="application/json")
    if column == "watch_url":
        return client.post(
            api("visitor-watch-url", SHORT_ID), data="{}", content_type="application/json"
        )
    if column == "stop":
        return client.delete(api("visitor-session", SHORT_ID))
    raise AssertionError(column)


@pytest.mark.parametrize(("col", "fault"), cells(SURFACE))
def test_api_cell(
    col: Column, fault: Fault, world_for: Any, superuser: Any, client: Any, cell: Any
) -> None:
    check_api_cell(col, fault, world_for(col.operation), superuser, client, cell)


def check_api_cell(
    col: Column, fault: Fault, world: World, superuser: Any, client: Any, cell: Any
) -> None:
    op = col.operation
    exp = expected_error(op, fault)
    status, code = drf_expected(exp)
    cell.expected = f"{status} {code} {times(exp.attempts)}"
    world.inject(col.fault_endpoint, fault)
    client.force_login(superuser)

    response = call(client, col.call)
    attempts = world.attempts(col.fault_endpoint, fault)
    body = response.json() if response["Content-Type"].startswith("application/json") else {}
    cell.observed = f"{response.status_code} {body.get('error', '(not JSON)')} {times(attempts)}"

    assert (response.status_code, body.get("error")) == (status, code)
    assert set(body) == {"error", "detail"}
    assert isinstance(body["detail"], str)
    assert_readable(body["detail"])
    assert_about(body["detail"], op)
    world.assert_secret_free(response.content.decode())
    if exp.min_wait:
        assert response["Retry-After"] == str(int(exp.min_wait))
    elif fault.key == "429":
        assert "Retry-After" not in response
    # The retry rule, counted on the fake's log.
    assert attempts == exp.attempts
    assert len(world.probe.sleeps) == exp.attempts - 1
    assert all(wait >= exp.min_wait for wait in world.probe.sleeps)
    # The mirror and the audit trail.
    gone = col.op == "delete" and fault.key == "404"
    marked = col.op in ("get", "get_history") and fault.key == "404"
    world.assert_mirror_intact(deleted=gone, marked=marked)
    if not op.audit_action:
        world.assert_not_audited()
    elif gone:
        world.assert_audited(op, source="api", outcome="success", status=404)
    else:
        world.assert_audited(op, source="api", outcome="failure", code=exp.code, status=exp.status)
