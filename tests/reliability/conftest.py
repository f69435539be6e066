"""Fixtures of the fault matrix, and the report it writes when asked.

``pytest tests/reliability --reliability-report docs/reliability.md`` writes the matrix
as Markdown at the end of the run; without the option nothing is written.

Each test is one cell: it asks for the ``cell`` fixture, records what it expected and
what it observed, and the outcome (passed or failed) is taken from pytest's report.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import shlex
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import django
import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection

from django_upscope.client import UpscopeClient, close_clients
from django_upscope.conf import upscope_settings
from django_upscope.fake import state
from django_upscope.models import AuditEvent, UsageSnapshot, Visitor
from django_upscope.testing import retry
from django_upscope.testing.factories import VisitorFactory
from django_upscope.testing.retry import record_sleep

from . import report
from .matrix import MATRIX_SETTINGS, SEARCH, SHORT_ID, Fault, Operation

CELLS = pytest.StashKey[dict]()
CELL = pytest.StashKey[report.CellResult]()
STARTED = pytest.StashKey[float]()
HAS_DRF = find_spec("rest_framework") is not None
RECORD_SLEEP = "django_upscope.testing.retry.record_sleep"


# -- the report ---------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("django-upscope").addoption(
        "--reliability-report",
        metavar="PATH",
        default=None,
        help="write the fault matrix of tests/reliability as Markdown to PATH "
        "(docs/reliability.md) at the end of the run",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[CELLS] = {}
    config.stash[STARTED] = time.monotonic()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    rep = yield
    result = item.stash.get(CELL, None)
    if result is not None:
        if rep.when == "call":
            result.outcome = "passed" if rep.passed else "failed"
            result.duration = rep.duration
        elif rep.failed:
            result.outcome = "error"
    return rep


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    path = config.getoption("reliability_report", None)
    if not path or hasattr(config, "workerinput"):
        return
    results = list(config.stash.get(CELLS, {}).values())
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if not results:
        if reporter is not None:
            reporter.write_line(f"reliability report: no cell ran, {path} not written")
        return
    versions = {
        "Python": platform_version(),
        "Django": django.get_version(),
        "pytest": pytest.__version__,
    }
    if HAS_DRF:
        import rest_framework

        versions["DRF"] = rest_framework.VERSION
    args = [a for a in config.invocation_params.args]
    text = report.render(
        results,
        command=shlex.join(["pytest", *args]),
        runtime=time.monotonic() - config.stash[STARTED],
        database=connection.vendor,
        versions=versions,
    )
    target = Path(config.invocation_params.dir, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    if reporter is not None:
        reporter.write_line(f"reliability report: {len(results)} cells written to {path}")


def platform_version() -> str:
    return ".".join(str(part) for part in sys.version_info[:3])


@pytest.fixture
def cell(request: pytest.FixtureRequest) -> report.CellResult:
    """This test's cell: the module names the surface, the parameters the column and fault."""
    params = request.node.callspec.params
    result = report.CellResult(
        surface=request.module.SURFACE,
        column=params["col"].key,
        fault=params["fault"].key,
        nodeid=request.node.nodeid,
    )
    request.node.stash[CELL] = result
    request.config.stash[CELLS][request.node.nodeid] = result
    return result


# -- retries: waits recorded, attempts counted ----------------------------------------------


class _AttemptLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.failed_attempts = 0

    def emit(self, record: logging.LogRecord) -> None:
        if str(record.msg).startswith("Upscope %s %s failed"):
            self.failed_attempts += 1


@dataclass
class RetryProbe:
    log: _AttemptLog

    @property
    def sleeps(self) -> list[float]:
        """The waits asked for: test settings' ``RETRY_SLEEP`` records instead of sleeping."""
        return retry.sleeps

    @property
    def failed_attempts(self) -> int:
        return self.log.failed_attempts


@pytest.fixture
def retry_probe() -> Iterator[RetryProbe]:
    """Waits between retries are recorded instead of slept; failed attempts are counted."""
    assert upscope_settings.RETRY_SLEEP == RECORD_SLEEP, "tests/settings.py records retry waits"
    retry.reset()
    # get_client() caches one client per thread: start from fresh ones.
    close_clients()
    log = _AttemptLog()
    logger = logging.getLogger("django_upscope.client")
    logger.addHandler(log)
    try:
        yield RetryProbe(log)
    finally:
        logger.removeHandler(log)
        close_clients()
        retry.reset()


@pytest.fixture(scope="session")
def _frozen_heap() -> Iterator[None]:
    """Move everything alive now out of the garbage collector's reach for the session.

    The plugin's teardown runs ``gc.collect()`` after every test (to close connections
    kept alive by traceback cycles); over the whole heap of a Django process that costs
    more than a cell. Frozen, the long-lived objects are skipped and a collection only
    scans what the cell created.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@pytest.fixture(scope="session")
def closed_port() -> Iterator[int]:
    """A local port that refuses connections: bound (so nobody else takes it), not listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


# -- one cell's world ---------------------------------------------------------------------


@dataclass
class World:
    """The fake, the visitor in it and in the mirror, and the fault of this cell."""

    fake: Any
    settings: Any
    probe: RetryProbe
    closed_port: int
    secrets: list[str] = field(default_factory=list)
    mirror_before: list[tuple[Any, ...]] = field(default_factory=list)

    def inject(self, endpoint: str, fault: Fault) -> None:
        """Make every call of ``endpoint`` fail with ``fault`` (or refuse all connections)."""
        if fault.inject is None:
            dead = f"http://127.0.0.1:{self.closed_port}/__upscope__"
            changes = (
                {"BASE_ENDPOINT": f"{dead}/onprem"}
                if self.fake.on_premise
                else {"API_URL": f"{dead}/v1.1"}
            )
            self.settings.UPSCOPE = {**self.settings.UPSCOPE, **changes}
            return
        state.inject_fault(endpoint, times=None, **fault.inject)

    def refused_client(self) -> Any:
        dead = f"http://127.0.0.1:{self.closed_port}/__upscope__"
        if self.fake.on_premise:
            return UpscopeClient(
                rest_key=self.fake.api_key, base_endpoint=f"{dead}/onprem", sleep=record_sleep
            )
        return UpscopeClient(api_key=self.fake.api_key, api_url=f"{dead}/v1.1", sleep=record_sleep)

    def attempts(self, endpoint: str, fault: Fault) -> int:
        """Requests the fake received for ``endpoint``; for a refused connection, the
        attempts the client logged as failed (none reached the fake)."""
        if fault.inject is None:
            assert not self.fake.requests(), "a request reached the fake"
            return self.probe.failed_attempts
        return len(self.fake.requests(endpoint))

    @staticmethod
    def mirror() -> list[tuple[Any, ...]]:
        return list(
            Visitor.objects.order_by("pk").values_list(
                "short_id", "synced_at", "removed_upstream_at", "content_hash"
            )
        )

    def assert_mirror_intact(
        self, *, deleted: bool = False, marked: bool = False, synced: bool = False
    ) -> str:
        """No row deleted or marked removed unless ``deleted`` / ``marked`` (Upscope
        confirmed); rows unchanged unless ``synced`` (a sync may refresh them)."""
        after = self.mirror()
        before_ids = [row[0] for row in self.mirror_before]
        after_ids = [row[0] for row in after]
        if deleted:
            assert SHORT_ID not in after_ids, "Upscope confirmed: the row must be gone"
            assert [i for i in before_ids if i != SHORT_ID] == after_ids
            return "row removed (Upscope confirmed)"
        if marked:
            # A read answered 404: Upscope confirmed it has no such visitor. The row is
            # kept as the record, marked removed upstream; nothing else changes.
            assert after_ids == before_ids, "a mirror row was deleted on a 404 read"
            for row, old in zip(after, self.mirror_before, strict=True):
                assert (row[2] is not None) == (row[0] == SHORT_ID), "wrong row marked"
                if row[0] != SHORT_ID:
                    assert row == old, "a failed call changed another row"
            return "row marked removed upstream (Upscope confirmed)"
        assert after_ids == before_ids, "a mirror row was deleted without Upscope's confirmation"
        assert all(row[2] is None for row in after), "a row was marked removed upstream"
        if not synced:
            assert after == self.mirror_before, "a failed call changed the mirror"
            assert not UsageSnapshot.objects.exists(), "a failed call stored a usage snapshot"
            return "mirror unchanged"
        return "no row deleted"

    def assert_audited(
        self,
        op: Operation,
        *,
        source: str,
        outcome: str,
        code: str = "",
        status: int | None = None,
        action: str | None = None,
    ) -> str:
        """Exactly one AuditEvent for the attempt, with the outcome, code and status."""
        action = action or op.audit_action
        rows = list(AuditEvent.objects.all())
        assert len(rows) == 1, (
            f"expected one audit row, got {[(r.action, r.outcome) for r in rows]}"
        )
        row = rows[0]
        assert (row.action, row.outcome, row.source) == (action, outcome, source)
        assert row.error_code == code
        assert row.status_code == status
        if op.visitor:
            assert row.visitor_short_id == SHORT_ID
        assert row.detail, "the audit row explains nothing"
        self.assert_secret_free(row.detail)
        return f"audit {outcome}" + (f"/{code}" if code else "")

    def assert_not_audited(self) -> None:
        assert not AuditEvent.objects.exists(), "a read was audited as an action"

    def assert_secret_free(self, *texts: str) -> None:
        for text in texts:
            for secret in self.secrets:
                assert secret not in text, "a secret leaked"


@pytest.fixture
def world_for(
    request: pytest.FixtureRequest,
    live_server: Any,
    transactional_db: None,
    settings: Any,
    retry_probe: RetryProbe,
    closed_port: int,
    _frozen_heap: None,
) -> Any:
    """``world_for(op)``: the fake (on-premise for on-premise operations) with the matrix's
    client settings, one visitor in the fake and in the mirror, the fault log empty."""

    def make(op: Operation) -> World:
        fake = request.getfixturevalue("upscope_fake_onprem" if op.on_premise else "upscope_fake")
        settings.UPSCOPE = {**settings.UPSCOPE, **MATRIX_SETTINGS}
        cache.clear()  # DRF throttle counters
        state.create_visitor(short_id=SHORT_ID, identities=[f"{SEARCH} Lovelace"], is_online=True)
        VisitorFactory(short_id=SHORT_ID, identities=[f"{SEARCH} Lovelace"])
        world = World(fake, settings, retry_probe, closed_port, secrets=[fake.api_key])
        world.mirror_before = world.mirror()
        return world

    return make


@pytest.fixture
def superuser(transactional_db: None) -> User:
    # No password: hashing one costs more than the rest of a cell.
    return User.objects.create(username="admin", is_staff=True, is_superuser=True)


def assert_readable(text: str, *words: str) -> None:
    """A message for a person: non-empty, with the given words, without traceback text."""
    from .matrix import TRACEBACK_MARKERS

    assert text.strip(), "empty message"
    for marker in TRACEBACK_MARKERS:
        assert marker not in text, f"traceback text {marker!r} shown"
    for word in words:
        assert word in text, f"{word!r} not in the message"


def assert_about(text: str, op: Operation) -> None:
    """The message speaks of what the person did: no "screen share" for another operation."""
    if op.key != "watch_url":
        assert "screen share" not in text.lower(), f"message about a screen share: {text!r}"


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
