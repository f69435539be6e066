"""The fault matrix: operations x faults x surfaces, and what each cell must show.

The expectations here are written from the documentation (README.md "Errors" and
"Retries", README.md "Errors", README.md "When Upscope says no"), not read back
from the product's own mapping tables, so a wrong mapping in the product fails a cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from django_upscope.exceptions import (
    UpscopeAPIError,
    UpscopeAuthenticationError,
    UpscopeConnectionError,
    UpscopeError,
    UpscopeInvalidResponse,
    UpscopeRateLimited,
    UpscopeSubscriptionLimit,
    UpscopeTimeout,
    UpscopeUnavailable,
    UpscopeVisitorNotFound,
)

# -- the settings every cell runs with -----------------------------------------------------

#: Client timeout (s) and the fake's delay (s) for the timeout fault: every attempt times out.
#: A cell costs attempts x TIMEOUT; the delay costs nothing (the plugin's teardown cuts it
#: short), so it is long, and TIMEOUT leaves a loaded CI machine room for ordinary answers.
TIMEOUT = 0.75
FAULT_DELAY = 3.0
MAX_RETRIES = 2
#: Seconds a 429 asks to wait in the "429 with Retry-After" fault.
RETRY_AFTER = 2
MATRIX_SETTINGS = {
    "TIMEOUT": TIMEOUT,
    "MAX_RETRIES": MAX_RETRIES,
    "RETRY_BACKOFF": 0.0,
    "RETRY_MAX_TIME": 20.0,
}

#: The visitor every cell acts on: in the fake and in the local mirror.
SHORT_ID = "VIS00001"
SEARCH = "Ada"


# -- faults -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """One way Upscope can fail, and the typed error the client must raise for it."""

    key: str
    label: str
    #: Arguments for ``state.inject_fault`` (``None``: the client points at a closed port).
    inject: dict[str, Any] | None
    error: type[UpscopeError]
    code: str
    status: int | None
    #: Whether GET/DELETE are retried on it (README.md, "Retries").
    retried: bool
    retry_after: float | None = None

    def __str__(self) -> str:
        return self.key


AUTH_CODES = (
    "invalid_api_key",
    "subscription_expired",
    "api_not_enabled",
    "no_subscription",
    "please_contact_team",
)

FAULTS: tuple[Fault, ...] = (
    Fault(
        "timeout",
        f"timeout (answer after {FAULT_DELAY:g} s, TIMEOUT {TIMEOUT:g} s)",
        {"delay": FAULT_DELAY},
        UpscopeTimeout,
        "timeout",
        None,
        True,
    ),
    Fault(
        "refused",
        "connection refused",
        None,
        UpscopeConnectionError,
        "connection_error",
        None,
        True,
    ),
    Fault(
        "drop",
        "connection dropped before the answer",
        {"drop": True},
        UpscopeConnectionError,
        "connection_error",
        None,
        True,
    ),
    Fault(
        "drop_partial",
        "connection dropped mid-body",
        {"drop": "partial"},
        UpscopeConnectionError,
        "connection_error",
        None,
        True,
    ),
    Fault(
        "429",
        "429 without Retry-After",
        {"status": 429},
        UpscopeRateLimited,
        "rate_limited",
        429,
        True,
    ),
    Fault(
        "429_retry_after",
        f"429 with Retry-After: {RETRY_AFTER}",
        {"status": 429, "retry_after": RETRY_AFTER},
        UpscopeRateLimited,
        "rate_limited",
        429,
        True,
        retry_after=RETRY_AFTER,
    ),
    Fault("500", "500", {"status": 500}, UpscopeUnavailable, "http_500", 500, False),
    Fault("502", "502", {"status": 502}, UpscopeUnavailable, "http_502", 502, True),
    Fault("503", "503", {"status": 503}, UpscopeUnavailable, "http_503", 503, True),
    Fault("504", "504", {"status": 504}, UpscopeUnavailable, "http_504", 504, True),
    Fault(
        "html",
        "HTML body (200)",
        {"body": "<!DOCTYPE html><html><body><h1>Service temporarily down</h1></body></html>"},
        UpscopeInvalidResponse,
        "invalid_response",
        200,
        False,
    ),
    Fault(
        "truncated",
        "truncated JSON (200)",
        {
            "body": '{"status": "ok", "visitors": [{"short_id": "VIS',
            "content_type": "application/json",
        },
        UpscopeInvalidResponse,
        "invalid_response",
        200,
        False,
    ),
    Fault(
        "wrong_shape",
        "JSON of the wrong shape (200, an array)",
        {"body": [{"unexpected": True}]},
        UpscopeInvalidResponse,
        "invalid_response",
        200,
        False,
    ),
    *(
        Fault(
            f"401_{code}",
            f"401 {code}",
            {"status": 401, "code": code},
            UpscopeAuthenticationError,
            code,
            401,
            False,
        )
        for code in AUTH_CODES
    ),
    Fault(
        "402", "402", {"status": 402}, UpscopeSubscriptionLimit, "subscription_limit", 402, False
    ),
    # The error for 404 depends on the operation (see expected_error).
    Fault("404", "404", {"status": 404}, UpscopeAPIError, "not_found", 404, False),
)
FAULTS_BY_KEY = {fault.key: fault for fault in FAULTS}


# -- operations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    key: str
    label: str
    #: The fake's endpoint name (for faults and request counts), cloud unless ``on_premise``.
    endpoint: str
    method: str
    #: Whether the operation names a visitor (a 404 then means "no such visitor").
    visitor: bool
    #: The AuditEvent action of an audited operation, else "".
    audit_action: str = ""
    on_premise: bool = False

    def __str__(self) -> str:
        return self.key


OPERATIONS: tuple[Operation, ...] = (
    Operation("usage", "usage", "usage", "GET", False),
    Operation("search", "search", "list", "GET", False),
    # On-premise: the client's latest_visitors() (GET /visitors/list/latest); the DRF list
    # and the sync command list with the on-premise search without a query.
    Operation("latest", "latest (on-premise)", "onprem_latest", "GET", False, on_premise=True),
    Operation("get", "get", "visitor_get", "GET", True),
    Operation("get_history", "get with history", "visitor_get", "GET", True),
    Operation("delete", "delete", "visitor_delete", "DELETE", True, "delete_visitor"),
    Operation("purge", "purge", "purge", "DELETE", False, "purge_offline_visitors"),
    Operation("watch_url", "watch URL", "watch_url", "POST", True, "watch_url"),
    Operation("stop", "stop", "stop_session", "DELETE", True, "stop_session"),
)
OPERATIONS_BY_KEY = {op.key: op for op in OPERATIONS}


# -- surfaces -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column of a surface's table: an operation as that surface offers it."""

    key: str
    op: str
    label: str
    #: Why the cell is "n/a" (the surface does not offer the operation), else "".
    na: str = ""
    #: Faults for which this column is "n/a", with the reason.
    na_faults: dict[str, str] = field(default_factory=dict)
    #: The fake's endpoint this surface calls, when not the operation's own.
    endpoint: str = ""
    #: The surface's way of calling it, when not ``key`` (for the ATOMIC_REQUESTS table).
    via: str = ""
    surface: str = ""

    @property
    def call(self) -> str:
        return self.via or self.key

    @property
    def operation(self) -> Operation:
        return OPERATIONS_BY_KEY[self.op]

    @property
    def fault_endpoint(self) -> str:
        return self.endpoint or self.operation.endpoint


@dataclass(frozen=True)
class Surface:
    key: str
    title: str
    how: str
    columns: tuple[Column, ...]

    def runnable(self) -> list[tuple[Column, Fault]]:
        return [
            (col, fault)
            for col in self.columns
            if not col.na
            for fault in FAULTS
            if fault.key not in col.na_faults
        ]


LISTING_FIRST = "the sync lists visitors first, so a refused connection fails the listing"

SURFACES: tuple[Surface, ...] = (
    Surface(
        "client",
        "Client (`UpscopeClient`)",
        "each call of `UpscopeClient` against the fake; cell: the exception raised "
        "and how many requests the fake (or, for a refused connection, the client's log) saw",
        tuple(Column(op.key, op.key, op.label) for op in OPERATIONS),
    ),
    Surface(
        "admin",
        "Admin (screen-share page, usage page and actions)",
        "the admin through Django's test client as a superuser; cell: the page's HTTP status "
        "(actions: the message level after the redirect) and the number of requests to Upscope",
        (
            Column("usage", "usage", "usage page"),
            Column("search", "search", "search", na="the admin lists the mirror, not Upscope"),
            Column("latest", "latest", "latest", na="the admin lists the mirror, not Upscope"),
            Column("get", "get", "get (Refresh action)"),
            Column("get_history", "get_history", "get with history", na="no admin screen"),
            Column("delete", "delete", "delete (action)"),
            Column("purge", "purge", "purge (page)"),
            Column("watch_url", "watch_url", "watch URL (screen-share page)"),
            Column("stop", "stop", "stop (page button)"),
            Column("stop_action", "stop", "stop (action)"),
        ),
    ),
    Surface(
        "drf",
        "DRF API",
        "each endpoint through Django's test client as a superuser; cell: the HTTP status and "
        'the `error` code of the `{"error", "detail"}` body, and the requests to Upscope',
        (
            Column("usage", "usage", "GET usage/"),
            Column("search", "search", "GET visitors/?search="),
            Column("latest", "latest", "GET visitors/ (on-premise)", endpoint="onprem_search"),
            Column("get", "get", "GET visitors/ID/"),
            Column("get_history", "get_history", "GET visitors/ID/?with_history=true"),
            Column("delete", "delete", "DELETE visitors/ID/"),
            Column("purge", "purge", "POST visitors/purge/"),
            Column("watch_url", "watch_url", "POST visitors/ID/watch-url/"),
            Column("stop", "stop", "DELETE visitors/ID/session/"),
        ),
    ),
    Surface(
        "sync",
        "`manage.py upscope_sync`",
        "the command run with `call_command`; cell: its exit (CommandError = exit 1) and the "
        "requests to the faulty endpoint",
        (
            Column(
                "usage",
                "usage",
                "usage (snapshot after the sync)",
                na_faults={"refused": LISTING_FIRST},
            ),
            Column("search", "search", "search (`--search Ada`)"),
            Column(
                "latest", "latest", "latest (on-premise, no `--search`)", endpoint="onprem_search"
            ),
            Column("get", "get", "get (each visitor)", na_faults={"refused": LISTING_FIRST}),
            Column(
                "get_history",
                "get_history",
                "get with history (`--with-history`)",
                na_faults={"refused": LISTING_FIRST},
            ),
            Column("delete", "delete", "delete", na="the command never deletes in Upscope"),
            Column("purge", "purge", "purge", na="the command never purges"),
            Column("watch_url", "watch_url", "watch URL", na="the command mints no watch URL"),
            Column("stop", "stop", "stop", na="the command stops no session"),
        ),
    ),
)

#: The audited operations again, with ``ATOMIC_REQUESTS=True`` (a common project setting):
#: an error answered by the API or the admin must not roll the audit row back.
ATOMIC_COLUMNS = ("watch_url", "stop", "stop_action", "delete", "purge", "get")
SURFACES += (
    Surface(
        "atomic",
        "Audit trail with `ATOMIC_REQUESTS=True`",
        "the audited operations of the DRF API and the admin again, with the database's "
        "`ATOMIC_REQUESTS` on (each request in a transaction); cell: the answer, as above, "
        "and the audit row that must survive it",
        tuple(
            replace(
                col,
                key=f"{surface.key}_{col.key}",
                label=f"{'DRF' if surface.key == 'drf' else 'admin'} {col.label}",
                via=col.key,
                surface=surface.key,
            )
            for surface in SURFACES
            if surface.key in ("drf", "admin")
            for col in surface.columns
            if col.key in ATOMIC_COLUMNS and not (surface.key == "drf" and col.key == "get")
        ),
    ),
)
SURFACES_BY_KEY = {surface.key: surface for surface in SURFACES}


def cells(surface_key: str) -> list[Any]:
    """``pytest.param``s (column, fault) of a surface, with readable ids."""
    import pytest

    return [
        pytest.param(
            col,
            fault,
            id=f"{col.key}-{fault.key}",
            marks=[pytest.mark.drf] if "drf" in (surface_key, col.surface) else [],
        )
        for col, fault in SURFACES_BY_KEY[surface_key].runnable()
    ]


# -- expectations -------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    error: type[UpscopeError]
    code: str
    status: int | None
    attempts: int
    #: Each wait between attempts must be at least this (Retry-After), else exactly 0.
    min_wait: float = 0.0


def expected_error(op: Operation, fault: Fault) -> Expected:
    """What the client must raise for ``fault`` during ``op`` (README.md)."""
    error, code, status = fault.error, fault.code, fault.status
    if fault.key == "404" and op.visitor:
        error, code = UpscopeVisitorNotFound, "visitor_not_found"
    retried = fault.retried and op.method in ("GET", "DELETE")
    attempts = 1 + MAX_RETRIES if retried else 1
    min_wait = float(fault.retry_after or 0) if retried else 0.0
    return Expected(error, code, status, attempts, min_wait)


def drf_expected(exp: Expected) -> tuple[int, str]:
    """HTTP status and ``error`` code of the DRF answer (README.md, "Errors")."""
    if exp.error is UpscopeTimeout:
        return 504, "timeout"
    if issubclass(exp.error, UpscopeUnavailable):
        return 503, exp.code
    if exp.error is UpscopeVisitorNotFound:
        return 404, "visitor_not_found"
    if exp.error is UpscopeSubscriptionLimit:
        return 402, exp.code
    # 401 codes, invalid answers and other upstream errors: Upscope answered badly.
    return 502, exp.code


#: What the admin's error page says (README.md, "When Upscope says no").
ADMIN_AUTH_PHRASES = {
    "invalid_api_key": "did not recognise the API key",
    "subscription_expired": "subscription has expired",
    "api_not_enabled": "does not include REST API access",
    "no_subscription": "no active subscription",
    "please_contact_team": "restricted API access",
}


def admin_expected(exp: Expected) -> tuple[int, str]:
    """Status and the words of the admin page (or message) for an error: the same statuses
    as the DRF API (one mapping, ``django_upscope.presentation.describe``)."""
    if exp.error is UpscopeTimeout:
        return 504, "Upscope did not answer in time"
    if exp.error is UpscopeConnectionError:
        return 503, "Upscope could not be reached"
    if exp.error is UpscopeRateLimited:
        return 503, "Upscope asked this site to slow down"
    if issubclass(exp.error, UpscopeUnavailable):
        return 503, "Upscope reported a server error"
    if exp.error is UpscopeVisitorNotFound:
        return 404, "Visitor not found"
    if exp.error is UpscopeSubscriptionLimit:
        return 402, "Subscription limit reached"
    if exp.error is UpscopeAuthenticationError:
        return 502, ADMIN_AUTH_PHRASES[exp.code]
    if exp.error is UpscopeInvalidResponse:
        return 502, "Upscope sent an unexpected answer"
    return 502, "Upscope reported an error"


def times(count: int) -> str:
    """``x3`` (with a multiplication sign): how many requests a cell saw."""
    return f"\N{MULTIPLICATION SIGN}{count}"


TRACEBACK_MARKERS = ("Traceback", 'File "', "Exception Value", "Internal Server Error")
