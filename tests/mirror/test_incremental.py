"""The incremental, concurrent sync: which visitors' details are fetched (asserted as the
exact requests Upscope saw), what an unchanged re-sync costs, the fetcher threads, the shared
rate-limit pause and stopping on a fatal error. Upscope is ``rsps`` (or a stub client for the
thread tests); nothing waits for real time."""

from __future__ import annotations

import copy
import io
import json
import re
import threading
from typing import Any

import pytest
import responses
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_upscope import checks, mirror, models, resources
from django_upscope.client import UpscopeClient
from django_upscope.exceptions import (
    UpscopeAuthenticationError,
    UpscopeRateLimited,
    UpscopeUnavailable,
)
from django_upscope.mirror.upsert import StoredListing

from .helpers import session_payload, visitor_payload, writes

API = "https://upscope.test/v1.1"
DETAIL_RE = re.compile(re.escape(API) + r"/visitors/(\w+)\.json")

pytestmark = pytest.mark.django_db


class Upstream:
    """Upscope on ``rsps``: a listing (entries without sessions or history, as Upscope's
    list carries them) and details; records which details were asked for."""

    def __init__(self, rsps: responses.RequestsMock) -> None:
        self.visitors: dict[str, dict[str, Any]] = {}
        #: Listing-only overrides: what the list says when it lags behind the details.
        self.listing_overrides: dict[str, dict[str, Any]] = {}
        self.details: list[str] = []
        #: short_id -> HTTP status its detail request answers instead of the payload.
        self.failures: dict[str, int] = {}
        self.lists = 0
        self._lock = threading.Lock()
        rsps.add_callback(responses.GET, f"{API}/list.json", callback=self._list)
        rsps.add_callback(responses.GET, DETAIL_RE, callback=self._detail)

    def add(self, short_id: str, sessions: int = 2, **fields: Any) -> None:
        first = 1 + 10 * len(self.visitors)
        self.visitors[short_id] = visitor_payload(
            short_id, sessions=sessions, first_session_id=first, **fields
        )

    def entry(self, short_id: str) -> dict[str, Any]:
        payload = self.visitors[short_id]
        listed = {k: v for k, v in payload.items() if k not in ("sessions", "history")}
        return {**listed, **self.listing_overrides.get(short_id, {})}

    def _list(self, request: Any) -> tuple[int, dict[str, str], str]:
        with self._lock:
            self.lists += 1
        body = {"status": "ok", "visitors": [self.entry(sid) for sid in self.visitors]}
        return 200, {}, json.dumps(body)

    def _detail(self, request: Any) -> tuple[int, dict[str, str], str]:
        short_id = DETAIL_RE.match(request.url.split("?")[0]).group(1)
        with self._lock:
            self.details.append(short_id)
        if short_id in self.failures:
            return self.failures[short_id], {}, json.dumps({"status": "error"})
        if short_id not in self.visitors:
            return 404, {}, json.dumps({"status": "error", "error": "not_found"})
        payload = copy.deepcopy(self.visitors[short_id])
        if "with_history=true" in request.url:
            payload.setdefault("history", {"pageviews": [{"url": f"/{short_id}"}]})
        return 200, {}, json.dumps({"status": "ok", "visitor": payload})

    def take_details(self) -> set[str]:
        with self._lock:
            asked, self.details = self.details, []
        return set(asked)


@pytest.fixture
def upstream(rsps):
    return Upstream(rsps)


def client() -> UpscopeClient:
    return UpscopeClient(api_key="k", api_url=API, max_retries=0)


def sync(**options: Any) -> mirror.SyncReport:
    options.setdefault("usage", False)
    return mirror.sync_from_upscope(client(), **options)


# -- which details are fetched ------------------------------------------------------------


def test_the_first_sync_fetches_every_listed_visitor(upstream):
    for sid in ("AAA1", "BBB2", "CCC3"):
        upstream.add(sid)
    report = sync()
    assert upstream.take_details() == {"AAA1", "BBB2", "CCC3"}
    assert (report.listed, report.fetched, report.result.created) == (3, 3, 3)
    assert models.Session.objects.count() == 6
    assert report.requests == 4  # the listing and three details


def test_an_unchanged_resync_is_one_list_request_no_detail_and_no_write(upstream):
    for sid in ("AAA1", "BBB2", "CCC3"):
        upstream.add(sid)
    sync()
    upstream.take_details()
    lists_before = upstream.lists
    with CaptureQueriesContext(connection) as ctx:
        report = sync()
    assert upstream.lists - lists_before == 1
    assert upstream.take_details() == set()
    assert writes(ctx) == []
    # One read of what is stored, for the one batch of the listing.
    assert len(ctx.captured_queries) == 1
    assert report.result.summary() == "created=0 updated=0 unchanged=3 failed=0 skipped=0"
    assert (report.fetched, report.requests) == (0, 1)


def test_details_are_fetched_for_new_changed_and_in_session_visitors_only(upstream):
    upstream.add("SAME01")
    upstream.add("CHANGE")
    upstream.add("INSESS", is_in_session=True)
    # The details say in session, the (lagging) listing does not: stored as in session.
    upstream.add("WASSES", is_in_session=True)
    upstream.listing_overrides["WASSES"] = {"is_in_session": False}
    sync()
    assert upstream.take_details() == {"SAME01", "CHANGE", "INSESS", "WASSES"}

    upstream.visitors["CHANGE"]["last_url"] = "https://example.com/checkout"
    upstream.visitors["WASSES"]["is_in_session"] = False  # its session ended
    upstream.add("NEW001")
    report = sync()
    assert upstream.take_details() == {"CHANGE", "INSESS", "WASSES", "NEW001"}
    assert models.Visitor.objects.get(pk="CHANGE").last_url == "https://example.com/checkout"
    assert models.Visitor.objects.get(pk="WASSES").is_in_session is False
    assert report.result.created == 1 and report.result.updated == 2
    # A third run: only the visitor in session now.
    sync()
    assert upstream.take_details() == {"INSESS"}


@pytest.mark.parametrize("option", ["full", "with_history"])
def test_full_and_with_history_fetch_every_listed_visitor(upstream, option):
    for sid in ("AAA1", "BBB2"):
        upstream.add(sid)
    sync()
    upstream.take_details()
    sync()
    assert upstream.take_details() == set()  # the positive control: nothing asked
    sync(**{option: True})
    assert upstream.take_details() == {"AAA1", "BBB2"}


def test_detail_reason_names_each_case():
    entry = resources.VisitorData.from_payload(visitor_payload("R1", sessions=0))
    same = mirror.listing_hash(entry)
    stored = StoredListing(same, False, None)
    assert mirror.detail_reason(entry, None) == "new"
    assert mirror.detail_reason(entry, stored._replace(listing_hash="x")) == "changed"
    assert mirror.detail_reason(entry, stored._replace(is_in_session=True)) == "was_in_session"
    gone = stored._replace(removed_upstream_at=models.Visitor._meta.get_field("synced_at"))
    assert mirror.detail_reason(entry, gone) == "changed"
    live = resources.VisitorData.from_payload(visitor_payload("R1", sessions=0, is_in_session=True))
    assert mirror.detail_reason(live, StoredListing(mirror.listing_hash(live), True, None)) == (
        "in_session"
    )
    assert mirror.detail_reason(entry, stored, full=True) == "full"
    assert mirror.detail_reason(entry, stored) is None


def test_the_listing_hash_ignores_sessions_and_history():
    bare = resources.VisitorData.from_payload(visitor_payload("H1", sessions=0))
    rich = resources.VisitorData.from_payload(
        visitor_payload("H1", sessions=3, history={"pageviews": []})
    )
    moved = resources.VisitorData.from_payload(visitor_payload("H1", last_url="https://x.test/"))
    assert mirror.listing_hash(bare) == mirror.listing_hash(rich)
    assert mirror.listing_hash(bare) != mirror.listing_hash(moved)


# -- what a listing never does ------------------------------------------------------------


def test_a_listing_never_wipes_sessions_or_history(upstream):
    upstream.add("KEEP01", sessions=3)
    upstream.add("MOVE01", sessions=2)
    sync(with_history=True)
    history = models.Visitor.objects.get(pk="KEEP01").history
    assert history == {"pageviews": [{"url": "/KEEP01"}]}
    assert models.Session.objects.filter(visitor_id="KEEP01").count() == 3
    upstream.take_details()
    # The listing now carries an empty "sessions" list for KEEP01; MOVE01 changed.
    upstream.listing_overrides["KEEP01"] = {"sessions": []}
    upstream.visitors["MOVE01"]["last_url"] = "https://example.com/moved"
    sync()
    assert upstream.take_details() == {"MOVE01"}
    keep = models.Visitor.objects.get(pk="KEEP01")
    assert keep.history == history
    assert models.Session.objects.filter(visitor_id="KEEP01").count() == 3
    moved = models.Visitor.objects.get(pk="MOVE01")
    assert moved.last_url == "https://example.com/moved"
    assert moved.history == {"pageviews": [{"url": "/MOVE01"}]}  # a sync without history
    assert models.Session.objects.filter(visitor_id="MOVE01").count() == 2


def test_a_failed_detail_is_asked_again_next_time(upstream):
    upstream.add("FAIL01")
    upstream.add("GOOD01")
    upstream.failures["FAIL01"] = 500
    report = sync()
    assert report.result.failed == 1 and report.result.created == 1
    assert not models.Visitor.objects.filter(pk="FAIL01").exists()
    del upstream.failures["FAIL01"]
    upstream.take_details()
    report = sync()
    assert upstream.take_details() == {"FAIL01"}
    assert report.result.created == 1 and report.result.unchanged == 1


def test_a_new_listing_wording_with_unchanged_content_writes_only_the_listing_hash(upstream):
    upstream.add("WORD01")
    sync()
    models.Visitor.objects.filter(pk="WORD01").update(listing_hash="old")
    with CaptureQueriesContext(connection) as ctx:
        report = sync()
    assert upstream.take_details() == {"WORD01"}
    assert report.result.unchanged == 1
    [insert] = [q for q in writes(ctx) if "django_upscope_visitor" in q]
    assert 'DO UPDATE SET "listing_hash" = EXCLUDED."listing_hash"' in insert
    assert models.Visitor.objects.get(pk="WORD01").listing_hash != "old"


# -- concurrency ----------------------------------------------------------------------------


def mirror_state() -> dict[str, Any]:
    def rows(model: Any, skip: tuple[str, ...], order: str = "pk") -> list[dict[str, Any]]:
        fields = [f.attname for f in model._meta.concrete_fields if f.attname not in skip]
        return list(model.objects.order_by(order).values(*fields))

    links = models.Session.agents.through.objects.order_by("session_id", "agent__key")
    return {
        "visitors": rows(models.Visitor, ("synced_at", "history_synced_at")),
        "sessions": rows(models.Session, ("synced_at",)),
        "agents": rows(models.Agent, ("synced_at", "id"), order="key"),
        "links": list(links.values_list("session_id", "agent__key")),
    }


def test_concurrency_1_and_8_give_identical_mirrors(upstream):
    for i in range(40):
        agent = {"id": 500 + i % 5, "name": f"Agent {i % 5}", "_type": "agent"}
        sessions = [
            session_payload(1000 + i * 10 + j, f"V{i:04d}", agents=[agent]) for j in range(3)
        ]
        upstream.visitors[f"V{i:04d}"] = visitor_payload(f"V{i:04d}", sessions=sessions)
    sequential = sync(concurrency=1, batch_size=7)
    first = mirror_state()
    models.Visitor.objects.all().delete()
    models.Agent.objects.all().delete()
    concurrent = sync(concurrency=8, batch_size=7)
    assert mirror_state() == first
    assert len(first["sessions"]) == 120 and len(first["links"]) == 120
    assert sequential.result.summary() == concurrent.result.summary()
    assert (sequential.concurrency, concurrent.concurrency) == (1, 8)


class StubClient:
    """A client stand-in for the thread tests: answers from ``payloads``; ``hook`` runs
    before each answer in the calling thread."""

    def __init__(self, payloads: dict[str, dict[str, Any]], hook: Any = None) -> None:
        self.payloads = payloads
        self.hook = hook
        self.on_premise = False

    def search_visitors(self, query: str | None = None) -> list[resources.VisitorData]:
        return [resources.VisitorData.from_payload(p) for p in self.payloads.values()]

    def get_visitor(self, short_id: str, with_history: bool = False) -> resources.VisitorData:
        if self.hook is not None:
            self.hook(short_id)
        return resources.VisitorData.from_payload(self.payloads[short_id])

    def close(self) -> None:
        pass


def stub_payloads(n: int) -> dict[str, dict[str, Any]]:
    return {f"S{i:03d}": visitor_payload(f"S{i:03d}", sessions=0) for i in range(n)}


def test_a_429_with_retry_after_pauses_every_worker(settings):
    settings.UPSCOPE = {**settings.UPSCOPE, "RETRY_MAX_TIME": 60.0}
    payloads = stub_payloads(40)
    local = threading.local()  # each thread's own fake clock: it moves only when it sleeps
    lock = threading.Lock()
    waits: list[tuple[str, float]] = []
    calls: list[tuple[str, str, float]] = []
    # Set by the first wait, which comes only once the pause is set: requests in flight
    # when Upscope said "wait" answer after that, so they cannot slip in before it.
    paused = threading.Event()
    # Each worker's first request after the pause waits for the others' (so every worker
    # sends one, however the tasks fall): the proof that every one of them was held.
    after_pause = threading.Barrier(4)
    passed: set[str] = set()

    def clock() -> float:
        return getattr(local, "now", 0.0)

    def sleep(seconds: float) -> None:
        with lock:
            waits.append((threading.current_thread().name, seconds))
        paused.set()
        local.now = clock() + seconds

    def hook(short_id: str) -> None:
        with lock:
            calls.append((threading.current_thread().name, short_id, clock()))
        if short_id == "S000":
            # What the client raises once its own retries are spent.
            raise UpscopeRateLimited("slow down", status_code=429, retry_after=30.0)
        if clock() == 0.0:
            assert paused.wait(10)
            return
        name = threading.current_thread().name
        if name not in passed:
            passed.add(name)
            after_pause.wait(10)

    stub = StubClient(payloads, hook)
    report = mirror.sync_from_upscope(
        stub, worker_client=lambda: stub, concurrency=4, usage=False, sleep=sleep, clock=clock
    )
    # The visitor Upscope refused is failed, not asked for again: the client's retry
    # bound is the only one, and the rest are synced once the pause is over.
    assert report.result.created == 39 and report.result.failed == 1
    assert [c[1] for c in calls].count("S000") == 1
    assert report.requests == 1 + 40
    # Every worker waited once, the 30 seconds Upscope asked for.
    assert sorted(seconds for _, seconds in waits) == [30.0] * 4
    assert len({name for name, _ in waits}) == 4
    # Apart from those in flight when Upscope said wait, no request went before the pause ended.
    early = [c for c in calls if c[2] < 30.0]
    assert len(early) <= 4 and early[0][1] == "S000"


def test_without_retry_after_no_worker_pauses(settings):
    # The control: a plain failure (no Retry-After) fails its visitor and holds nobody.
    waits: list[float] = []

    def hook(short_id: str) -> None:
        if short_id == "S000":
            raise UpscopeUnavailable("down", status_code=502, code="bad_gateway")

    stub = StubClient(stub_payloads(10), hook)
    report = mirror.sync_from_upscope(
        stub, worker_client=lambda: stub, concurrency=4, usage=False, sleep=waits.append
    )
    assert report.result.created == 9 and report.result.failed == 1
    assert waits == []


def test_a_fatal_error_stops_every_worker_and_keeps_what_was_fetched():
    payloads = stub_payloads(60)
    lock = threading.Lock()
    answered: list[str] = []
    revoked = threading.Event()

    first_ten = threading.Event()

    def hook(short_id: str) -> None:
        number = int(short_id[1:])
        if number == 10:
            # The workers take visitors in order, so S000-S009 are under way: let them
            # answer, then the credentials are refused (else a worker could reach one of
            # them after the refusal and, rightly, not ask).
            assert first_ten.wait(10)
            revoked.set()
            raise UpscopeAuthenticationError("refused", status_code=401, code="invalid_api_key")
        if number > 10:
            assert revoked.wait(10)  # in flight when the credentials were refused
            raise UpscopeAuthenticationError("refused", status_code=401, code="invalid_api_key")
        with lock:
            answered.append(short_id)
            if len(answered) == 10:
                first_ten.set()

    stub = StubClient(payloads, hook)
    with pytest.raises(UpscopeAuthenticationError):
        mirror.sync_from_upscope(stub, worker_client=lambda: stub, concurrency=4, usage=False)
    # What was fetched is written, and nothing else.
    assert set(models.Visitor.objects.values_list("pk", flat=True)) == set(answered)
    assert len(answered) == 10
    assert revoked.is_set()


def test_a_fatal_error_stops_the_fetchers_before_their_next_request():
    payloads = stub_payloads(60)
    lock = threading.Lock()
    asked: list[str] = []

    def hook(short_id: str) -> None:
        with lock:
            asked.append(short_id)
        if short_id == "S005":
            raise UpscopeAuthenticationError("refused", status_code=401, code="invalid_api_key")

    stub = StubClient(payloads, hook)
    with pytest.raises(UpscopeAuthenticationError):
        mirror.sync_from_upscope(stub, worker_client=lambda: stub, concurrency=1, usage=False)
    # One fetcher: it stops right after the refusal.
    assert asked == [f"S{i:03d}" for i in range(6)]
    assert models.Visitor.objects.count() == 5


def test_each_worker_builds_its_own_client_once():
    payloads = stub_payloads(30)
    made: list[str] = []
    lock = threading.Lock()

    def factory() -> StubClient:
        with lock:
            made.append(threading.current_thread().name)
        return StubClient(payloads)

    mirror.sync_from_upscope(
        StubClient(payloads), worker_client=factory, concurrency=3, usage=False
    )
    assert len(made) == len(set(made)) <= 3
    assert all(name.startswith("upscope-sync") for name in made)
    assert models.Visitor.objects.count() == 30


# -- the command and the setting ----------------------------------------------------------


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def command(settings: Any, *args: str, out: io.StringIO | None = None) -> str:
    settings.UPSCOPE = {**settings.UPSCOPE, "API_KEY": "k", "API_URL": API, "MAX_RETRIES": 0}
    out = out or io.StringIO()
    call_command("upscope_sync", "--no-usage", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_command_prints_plain_progress_lines_and_a_summary_off_a_terminal(upstream, settings):
    for i in range(5):
        upstream.add(f"C{i:04d}")
    output = command(settings, "--batch-size", "2", "--concurrency", "3")
    lines = output.splitlines()
    assert [line.split()[0] for line in lines if "/5 visitors" in line] == ["2/5", "4/5", "5/5"]
    [summary] = [line for line in lines if line.startswith("Summary: ")]
    assert re.fullmatch(
        r"Summary: listed=5 fetched=5 created=5 updated=0 unchanged=0 skipped=0 failed=0 "
        r"requests=6 elapsed=\d+\.\ds \(concurrency 3\)",
        summary,
    )
    assert "\r" not in output
    assert lines[-1] == "created=5 updated=0 unchanged=0 failed=0 skipped=0"


def test_the_command_draws_a_bar_on_a_terminal(upstream, settings):
    for i in range(5):
        upstream.add(f"T{i:04d}")
    output = command(settings, "--batch-size", "2", out=TTY())
    assert "\r[" + "#" * 30 + "] 5/5 visitors" in output
    assert "/5 visitors  created=" not in output  # no plain lines
    assert output.splitlines()[-1] == "created=5 updated=0 unchanged=0 failed=0 skipped=0"


def test_the_command_full_option_fetches_everyone(upstream, settings):
    upstream.add("F0001")
    command(settings)
    upstream.take_details()
    command(settings)
    assert upstream.take_details() == set()
    command(settings, "--full")
    assert upstream.take_details() == {"F0001"}


@pytest.mark.parametrize("value", [0, -1, 2.5, "8", True, None])
def test_sync_concurrency_must_be_a_positive_integer(settings, value):
    settings.UPSCOPE = {**settings.UPSCOPE, "SYNC_CONCURRENCY": value}
    messages = [m for m in checks.check_settings() if m.id == "django_upscope.E003"]
    assert [m.msg for m in messages] == ["UPSCOPE['SYNC_CONCURRENCY'] must be an integer >= 1."]


def test_sync_concurrency_of_one_passes_the_check(settings):
    settings.UPSCOPE = {**settings.UPSCOPE, "SYNC_CONCURRENCY": 1}
    assert [m for m in checks.check_settings() if m.id == "django_upscope.E003"] == []


def test_a_concurrency_below_one_is_refused():
    with pytest.raises(ValueError, match="concurrency"):
        mirror.check_sync_options(concurrency=0)
