"""The fault matrix on the client: every operation raises the documented typed error."""

from __future__ import annotations

from typing import Any

import pytest

from django_upscope.exceptions import UpscopeError

from .conftest import World, assert_about
from .matrix import SEARCH, SHORT_ID, Column, Fault, cells, expected_error, times

SURFACE = "client"


def call(client: Any, op: str) -> Any:
    if op == "usage":
        return client.get_usage()
    if op == "search":
        return client.search_visitors(SEARCH)
    if op == "latest":
        return client.latest_visitors()
    if op == "get":
        return client.get_visitor(SHORT_ID)
    if op == "get_history":
        return client.get_visitor(SHORT_ID, with_history=True)
    if op == "delete":
        return client.delete_visitor(SHORT_ID)
    if op == "purge":
        return client.purge_offline_visitors()
    if op == "watch_url":
        return client.create_watch_url(SHORT_ID, agent_id="7", agent_name="Ann Agent")
    if op == "stop":
        return client.stop_session(SHORT_ID)
    raise AssertionError(op)


@pytest.mark.parametrize(("col", "fault"), cells(SURFACE))
def test_client_cell(col: Column, fault: Fault, world_for: Any, cell: Any) -> None:
    op = col.operation
    world: World = world_for(op)
    exp = expected_error(op, fault)
    cell.expected = f"{exp.error.__name__} {times(exp.attempts)}"
    world.inject(col.fault_endpoint, fault)
    client = world.refused_client() if fault.inject is None else world.fake.client()
    try:
        with pytest.raises(UpscopeError) as caught:
            call(client, op.key)
    finally:
        client.close()
    error = caught.value
    attempts = world.attempts(col.fault_endpoint, fault)
    cell.observed = f"{type(error).__name__} {times(attempts)}"

    assert type(error) is exp.error
    assert (error.code, error.status_code) == (exp.code, exp.status)
    message = str(error)
    assert message and "Upscope" in message, message
    assert_about(message, op)
    world.assert_secret_free(message, repr(error))
    # The retry rule: GET/DELETE retried within MAX_RETRIES on transient faults, POST never.
    assert attempts == exp.attempts
    assert len(world.probe.sleeps) == exp.attempts - 1
    assert all(wait >= exp.min_wait for wait in world.probe.sleeps)
    if not exp.min_wait:
        assert all(wait == 0 for wait in world.probe.sleeps)
    if exp.min_wait:
        assert error.retry_after == pytest.approx(exp.min_wait)
    world.assert_mirror_intact()
