"""The audited operations again with ``ATOMIC_REQUESTS=True``: the audit row survives.

Each request of the DRF API and the admin then runs in a transaction, and an error
answer must not roll back the ``failure`` row of the attempt. Only the requests made
by the test (Django's test client, in this thread) are made atomic; the fake's server
threads run as before.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.handlers.base import BaseHandler
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from .matrix import Column, Fault, cells
from .test_admin_faults import check_admin_cell
from .test_api_faults import check_api_cell

SURFACE = "atomic"


@pytest.fixture
def atomic_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    here = threading.get_ident()
    plain = BaseHandler.make_view_atomic

    def make_view_atomic(handler: BaseHandler, view: Any) -> Any:
        if threading.get_ident() != here:
            return plain(handler, view)  # the fake, served by the live server
        return transaction.atomic(using=DEFAULT_DB_ALIAS)(view)

    monkeypatch.setattr(BaseHandler, "make_view_atomic", make_view_atomic)
    # What DRF's set_rollback() and Django read on this thread's connection.
    # (The wrapper itself, not the ``connection`` proxy, so the undo restores the dict.)
    wrapper = connections[DEFAULT_DB_ALIAS]
    monkeypatch.setattr(
        wrapper, "settings_dict", {**wrapper.settings_dict, "ATOMIC_REQUESTS": True}
    )


@pytest.mark.parametrize(("col", "fault"), cells(SURFACE))
def test_atomic_requests_cell(
    col: Column,
    fault: Fault,
    world_for: Any,
    superuser: Any,
    client: Any,
    cell: Any,
    request: pytest.FixtureRequest,
) -> None:
    world = world_for(col.operation)
    request.getfixturevalue("atomic_requests")
    check = check_api_cell if col.surface == "drf" else check_admin_cell
    check(col, fault, world, superuser, client, cell)
