"""Running things at the same moment: threads lined up on a barrier, each with its own
database connection (closed when it finishes)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections

IS_POSTGRES = os.environ.get("DATABASE_URL", "").split(":", 1)[0] in (
    "postgres",
    "postgresql",
    "pgsql",
    "psql",
)

#: For tests whose writers truly overlap: SQLite serialises writers on one database
#: lock (an in-memory test database answers "table is locked" instead of waiting), so
#: they run only on PostgreSQL, which the CI runs the suite on as well.
postgres_only = [
    pytest.mark.postgres,
    pytest.mark.skipif(not IS_POSTGRES, reason="needs a PostgreSQL DATABASE_URL"),
]


class Outcome:
    def __init__(self) -> None:
        self.value: Any = None
        self.error: BaseException | None = None


def run_concurrently(*calls: Callable[[], Any], timeout: float = 60) -> list[Outcome]:
    """Start one thread per call, release them together, return what each did."""
    barrier = threading.Barrier(len(calls))
    outcomes = [Outcome() for _ in calls]

    def worker(call: Callable[[], Any], outcome: Outcome) -> None:
        try:
            barrier.wait(timeout=timeout)
            outcome.value = call()
        except BaseException as exc:  # reported to the test, not lost in the thread
            outcome.error = exc
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=worker, args=(call, outcome), daemon=True)
        for call, outcome in zip(calls, outcomes, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a thread is stuck (deadlock?)"
    return outcomes


def values(outcomes: list[Outcome]) -> list[Any]:
    """Each thread's return value; re-raises the first error a thread met."""
    for outcome in outcomes:
        if outcome.error is not None:
            raise outcome.error
    return [outcome.value for outcome in outcomes]
