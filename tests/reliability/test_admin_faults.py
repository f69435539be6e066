"""The fault matrix in the admin: a page a person understands (never a 500), or a message."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from .conftest import World, assert_about, assert_readable
from .matrix import SHORT_ID, Column, Fault, admin_expected, cells, expected_error, times

SURFACE = "admin"

CHANGELIST = "admin:django_upscope_visitor_changelist"
#: Actions: (changelist action, words of the failure message).
ACTIONS = {
    "get": ("refresh_visitors", "was not refreshed"),
    "delete": ("delete_visitors", "was not deleted (kept here)"),
    "stop_action": ("stop_sessions", "was not stopped"),
}


def error_text(content: str) -> str:
    """The explanation on an error page (screen-share page) or the usage page's error."""
    found = re.search(
        r'id="(?:upscope-error-explanation|upscope-usage-error)"[^>]*>(.*?)</p>', content, re.S
    )
    assert found, "no error explanation on the page"
    return found.group(1)


def messages_of(response: Any) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def call(client: Any, column: str) -> Any:
    if column == "usage":
        return client.get(reverse("admin:django_upscope_usage"))
    if column == "watch_url":
        return client.get(reverse("admin:django_upscope_visitor_screenshare", args=[SHORT_ID]))
    if column == "stop":
        # What the page's "Stop session" button sends (fetch, JSON back).
        return client.post(
            reverse("admin:django_upscope_visitor_stop_session", args=[SHORT_ID]),
            headers={"accept": "application/json"},
        )
    if column == "purge":
        return client.post(
            reverse("admin:django_upscope_visitor_purge"), {"post": "yes"}, follow=True
        )
    action, _words = ACTIONS[column]
    data = {"action": action, "_selected_action": [SHORT_ID], "post": "yes"}
    return client.post(reverse(CHANGELIST), data, follow=True)


@pytest.mark.parametrize(("col", "fault"), cells(SURFACE))
def test_admin_cell(
    col: Column, fault: Fault, world_for: Any, superuser: Any, client: Any, cell: Any
) -> None:
    check_admin_cell(col, fault, world_for(col.operation), superuser, client, cell)


def check_admin_cell(
    col: Column, fault: Fault, world: World, superuser: Any, client: Any, cell: Any
) -> None:
    op = col.operation
    key = col.call
    exp = expected_error(op, fault)
    status, words = admin_expected(exp)
    gone = col.op == "delete" and fault.key == "404"
    page = key in ("usage", "watch_url")
    if page:
        cell.expected = f"{status} page {times(exp.attempts)}"
    elif key == "stop":
        cell.expected = f"{status} {exp.code} {times(exp.attempts)}"
    elif gone:
        cell.expected = f"already-deleted message {times(exp.attempts)}"
    else:
        cell.expected = f"error message {times(exp.attempts)}"
    world.inject(col.fault_endpoint, fault)
    client.force_login(superuser)

    response = call(client, key)
    attempts = world.attempts(col.fault_endpoint, fault)
    content = response.content.decode()
    world.assert_secret_free(content)
    assert_readable(content)  # no traceback text, whatever the page
    if page:
        cell.observed = f"{response.status_code} page {times(attempts)}"
        assert response.status_code == status
        assert f'data-error-code="{exp.code}"' in content
        assert_readable(content, words)
        assert_about(error_text(content), op)
        if exp.min_wait:
            assert response["Retry-After"] == str(int(exp.min_wait))
    elif key == "stop":
        body = response.json()
        cell.observed = f"{response.status_code} {body.get('error')} {times(attempts)}"
        assert (response.status_code, body.get("error")) == (status, exp.code)
        assert set(body) == {"error", "detail"}
        assert_readable(body["detail"], words)
        assert_about(body["detail"], op)
    else:
        assert response.status_code == 200  # the changelist the action redirected to
        messages = messages_of(response)
        levels = sorted({level for level, _text in messages})
        cell.observed = f"{'+'.join(levels) or 'no'} message {times(attempts)}"
        text = " ".join(message for _level, message in messages)
        if gone:
            assert levels == ["info", "success"]
            assert_readable(text, "already deleted")
        else:
            assert levels == ["error"]
            failed = "Purge failed" if key == "purge" else ACTIONS[key][1]
            assert_readable(text, failed, words)
            assert_about(text, op)
    # The retry rule, counted on the fake's log.
    assert attempts == exp.attempts
    assert len(world.probe.sleeps) == exp.attempts - 1
    assert all(wait >= exp.min_wait for wait in world.probe.sleeps)
    # The mirror and the audit trail (the refresh action is audited too).
    marked = key == "get" and fault.key == "404"  # the Refresh action: Upscope has none
    world.assert_mirror_intact(deleted=gone, marked=marked)
    action = "refresh_visitor" if key == "get" else None
    if not (op.audit_action or action):
        world.assert_not_audited()
    elif gone:
        world.assert_audited(op, source="admin", outcome="success", status=404)
    else:
        world.assert_audited(
            op, source="admin", outcome="failure", code=exp.code, status=exp.status, action=action
        )
