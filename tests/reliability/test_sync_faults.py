"""The fault matrix on ``manage.py upscope_sync``: a clear failure, and the mirror kept."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from django_upscope.exceptions import UpscopeAuthenticationError, UpscopeVisitorNotFound
from django_upscope.models import UsageSnapshot, Visitor

from .conftest import World, assert_readable
from .matrix import SEARCH, SHORT_ID, Column, Fault, cells, expected_error, times

SURFACE = "sync"

ARGS = {
    "usage": [],
    "search": ["--search", SEARCH],
    "latest": [],
    "get": [],
    "get_history": ["--with-history"],
}


def run(*args: str) -> tuple[int, str, str]:
    """Run the command as cron would: (exit status, stdout, stderr or the CommandError)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("upscope_sync", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return 1, out.getvalue(), err.getvalue() + str(exc)
    return 0, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(("col", "fault"), cells(SURFACE))
def test_sync_cell(col: Column, fault: Fault, world_for: Any, cell: Any) -> None:
    op = col.operation
    world: World = world_for(op)
    exp = expected_error(op, fault)
    fatal = exp.error is UpscopeAuthenticationError
    listing = col.key in ("search", "latest")
    if listing or fatal:
        # The listing failed, or the credentials were refused: the run stops.
        expected = (1, f"Upscope sync stopped: [^ ]* .*\\[{exp.code}\\]")
    elif col.key == "usage":
        # The visitors were synced; the snapshot is reported as not stored.
        expected = (0, f"could not store a usage snapshot: .*\\[{exp.code}\\]")
    elif exp.error is UpscopeVisitorNotFound:
        # Deleted upstream between the listing and the fetch: skipped, never deleted here.
        expected = (0, "deleted in Upscope during the sync")
    else:
        expected = (1, f"1 visitors could not be fetched from Upscope \\({exp.code}: 1\\)")
    what = "skipped" if exp.error is UpscopeVisitorNotFound and not listing else exp.code
    warned = "warning " if expected[0] == 0 and col.key == "usage" and not fatal else ""
    cell.expected = f"exit {expected[0]} {warned}{what} {times(exp.attempts)}"
    world.inject(col.fault_endpoint, fault)

    status, out, err = run(*ARGS[col.key])
    attempts = world.attempts(col.fault_endpoint, fault)
    named = re.search(r"\[([a-z0-9_]+)\]|\(([a-z0-9_]+): \d+\)", err)
    code = next(filter(None, named.groups())) if named else ""
    said = "warning " + code if status == 0 and err else ("skipped" if "skipped=1" in out else code)
    cell.observed = f"exit {status}{f' {said}' if said else ''} {times(attempts)}"

    assert status == expected[0], out + err
    assert_readable(out + err)
    assert re.search(expected[1], out + err), out + err
    world.assert_secret_free(out, err)
    # The retry rule, counted on the fake's log.
    assert attempts == exp.attempts
    assert len(world.probe.sleeps) == exp.attempts - 1
    assert all(wait >= exp.min_wait for wait in world.probe.sleeps)
    # The mirror: nothing deleted or marked removed; the faulty visitor not rewritten.
    world.assert_mirror_intact(synced=True)
    before = dict((row[0], row) for row in world.mirror_before)
    after = dict((row[0], row) for row in world.mirror())
    if listing or col.key in ("get", "get_history"):
        assert after[SHORT_ID] == before[SHORT_ID], "a visitor that failed was rewritten"
    if col.key == "usage":
        assert not UsageSnapshot.objects.exists()
        assert Visitor.objects.get(pk=SHORT_ID).synced_at != before[SHORT_ID][1] or fatal
    world.assert_not_audited()
