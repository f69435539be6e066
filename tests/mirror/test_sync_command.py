"""manage.py upscope_sync and upscope_usage_snapshot, end to end over HTTP against the
embedded fake Upscope (pytest plugin fixture ``upscope_fake``)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_upscope import mirror, models
from django_upscope.fake import state
from django_upscope.mirror import run as mirror_run
from django_upscope.testing.factories import UsageSnapshotFactory

from .helpers import writes


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("upscope_sync", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


@pytest.fixture
def three(upscope_fake):
    ids = [
        upscope_fake.add_visitor(short_id="AAA111", identities=["Ada Lovelace"], tags=["#vip"]),
        upscope_fake.add_visitor(short_id="BBB222", identities=["Bo Diddley"]),
        upscope_fake.add_visitor(short_id="CCC333", unique_id="u-3"),
    ]
    state.add_session("AAA111", agent_name="Joe Smith", agent_identifier="ext-1")
    state.add_session("AAA111", agent_name="Ann Lee", agent_identifier="ext-2")
    state.add_session("BBB222", agent_name="Joe Smith", agent_identifier="ext-1")
    return ids


def test_sync_mirrors_visitors_sessions_agents_and_usage(upscope_fake, three):
    output = run()
    assert last_line(output) == "created=3 updated=0 unchanged=0 failed=0 skipped=0"
    assert set(models.Visitor.objects.values_list("pk", flat=True)) == set(three)
    ada = models.Visitor.objects.get(pk="AAA111")
    assert ada.display_name == "Ada Lovelace"
    assert ada.tags_text == " #vip "
    assert ada.sessions.count() == 2
    joe = models.Agent.objects.get(agent_identifier="ext-1")
    assert sorted(joe.sessions.values_list("visitor_id", flat=True)) == ["AAA111", "BBB222"]
    assert models.UsageSnapshot.objects.count() == 1
    # What went over the wire: the list, then one GET per visitor, then usage.
    sent = [(r.method, r.endpoint) for r in upscope_fake.requests()]
    assert sent[0] == ("GET", "list")
    assert sorted(sent[1:4]) == [("GET", "visitor_get")] * 3
    assert sent[4:] == [("GET", "usage")]
    assert all(r.credentials == "valid" for r in upscope_fake.requests())


def test_second_run_writes_nothing_to_the_mirror(upscope_fake, three):
    run("--no-usage")
    with CaptureQueriesContext(connection) as ctx:
        output = run("--no-usage")
    assert last_line(output) == "created=0 updated=0 unchanged=3 failed=0 skipped=0"
    # The sync lease (django_upscope_syncstate) is written; the mirror's tables are not.
    mirror_tables = ("django_upscope_visitor", "django_upscope_session", "django_upscope_agent")
    mirror_writes = [sql for sql in writes(ctx) if any(t in sql for t in mirror_tables)]
    assert mirror_writes == []
    assert any("django_upscope_syncstate" in sql for sql in writes(ctx))
    assert models.Visitor.objects.count() == 3
    assert models.Session.objects.count() == 3


def test_changes_upstream_are_updates(upscope_fake, three):
    run("--no-usage")
    state.update_visitor("BBB222", last_url="https://www.example.com/checkout")
    # A past session added without the visitor's listing entry changing: only a full
    # sync asks for it (an incremental one fetches changed entries only).
    state.add_session("CCC333", agent_name="Ann Lee", agent_identifier="ext-2")
    output = run("--no-usage", "--full")
    # A new session is a session row; the visitor row itself did not change.
    assert last_line(output) == "created=0 updated=1 unchanged=2 failed=0 skipped=0"
    assert "sessions created=1 updated=0 unchanged=3." in output
    assert models.Visitor.objects.get(pk="BBB222").last_url == "https://www.example.com/checkout"
    assert models.Session.objects.filter(visitor_id="CCC333").count() == 1


def test_search_syncs_only_matches(upscope_fake, three):
    output = run("--search", "Ada", "--no-usage")
    assert last_line(output).startswith("created=1 ")
    assert list(models.Visitor.objects.values_list("pk", flat=True)) == ["AAA111"]
    assert upscope_fake.requests("list")[0].query.get("search") in ("Ada", ["Ada"])


def test_with_history_fetches_and_keeps_history(upscope_fake):
    history = {"pageviews": [{"url": "https://www.example.com/pricing"}], "screenshots": []}
    upscope_fake.add_visitor(short_id="HIST01", history=history)
    run("--with-history", "--no-usage")
    assert models.Visitor.objects.get(pk="HIST01").history == history
    detail = upscope_fake.requests("visitor_get")[0]
    assert detail.query.get("with_history") in ("true", ["true"])
    run("--no-usage")  # without history: kept
    assert models.Visitor.objects.get(pk="HIST01").history == history


def test_progress_on_long_runs(upscope_fake):
    upscope_fake.seed(7, seed=3)
    output = run("--batch-size", "3", "--no-usage")
    lines = output.splitlines()
    assert [line.split()[0] for line in lines if "/7 visitors" in line] == ["3/7", "6/7", "7/7"]
    assert last_line(output).startswith("created=7 ")


def test_a_visitor_deleted_meanwhile_is_skipped(upscope_fake, three):
    upscope_fake.fail("visitor_get", status=404, times=1)
    output = run("--no-usage")
    assert last_line(output) == "created=2 updated=0 unchanged=0 failed=0 skipped=1"
    assert models.Visitor.objects.count() == 2


def test_auth_error_is_a_clear_command_error(upscope_fake, three, settings):
    settings.UPSCOPE = {**settings.UPSCOPE, "API_KEY": "fake_subscription_expired"}
    with pytest.raises(CommandError) as excinfo:
        run()
    message = str(excinfo.value)
    assert "subscription has expired" in message
    assert "subscription_expired" in message
    assert "fake_subscription_expired" not in message  # the key itself is never shown
    assert not models.Visitor.objects.exists()


def test_auth_error_in_the_middle_stops_and_keeps_what_was_fetched(upscope_fake, three):
    # The first detail answers; then every request is refused: credentials revoked mid-run.
    original = mirror.upsert_visitors
    calls = []

    def spy(batch, **kwargs):
        calls.append([v.short_id for v in batch])
        return original(batch, **kwargs)

    fetched = []
    real_get = type(upscope_fake.client()).get_visitor

    def get_visitor(self, short_id, with_history=False):
        if fetched:
            upscope_fake.fail("visitor_get", status=401, code="api_not_enabled", times=None)
        fetched.append(short_id)
        return real_get(self, short_id, with_history)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(mirror_run, "upsert_visitors", spy)
        mp.setattr(type(upscope_fake.client()), "get_visitor", get_visitor)
        with pytest.raises(CommandError, match="api_not_enabled"):
            run("--no-usage", "--concurrency", "1")
    assert models.Visitor.objects.count() == 1
    assert calls == [fetched[:1]]


def test_persistent_failure_of_one_visitor_fails_the_command_but_saves_the_rest(
    upscope_fake, three
):
    # 502 is retried: 3 attempts (1 + MAX_RETRIES=2) all fail, so that visitor fails
    # (one request at a time, so the three failures are the same visitor's).
    upscope_fake.fail("visitor_get", status=502, times=3)
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"1 visitors could not be fetched .*http_502: 1"):
        call_command("upscope_sync", "--no-usage", "--concurrency", "1", stdout=out)
    assert last_line(out.getvalue()) == "created=2 updated=0 unchanged=0 failed=1 skipped=0"
    assert models.Visitor.objects.count() == 2
    # Re-running picks up the one that failed.
    assert last_line(run("--no-usage")) == "created=1 updated=0 unchanged=2 failed=0 skipped=0"


def test_upscope_down_stops_the_run(upscope_fake):
    upscope_fake.seed(8, seed=1)
    upscope_fake.fail("visitor_get", status=503, times=None)
    with pytest.raises(CommandError, match="in a row"):
        run("--no-usage", "--concurrency", "1")
    # Stopped after MAX_CONSECUTIVE_UNAVAILABLE visitors, not after trying all 8.
    attempts = {r.path for r in upscope_fake.requests("visitor_get")}
    assert len(attempts) == mirror.MAX_CONSECUTIVE_UNAVAILABLE


def test_interrupted_run_loses_nothing_and_duplicates_nothing(upscope_fake, monkeypatch):
    upscope_fake.seed(9, seed=2)
    original = mirror.upsert_visitors
    batches = []

    def crash_after_two_batches(visitors, **kwargs):
        if len(batches) == 2:
            raise KeyboardInterrupt
        batches.append(1)
        return original(visitors, **kwargs)

    monkeypatch.setattr(mirror_run, "upsert_visitors", crash_after_two_batches)
    with pytest.raises(KeyboardInterrupt):
        run("--batch-size", "3", "--no-usage")
    assert models.Visitor.objects.count() == 6
    sessions_before = models.Session.objects.count()
    monkeypatch.setattr(mirror_run, "upsert_visitors", original)
    output = run("--batch-size", "3", "--no-usage")
    assert last_line(output) == "created=3 updated=0 unchanged=6 failed=0 skipped=0"
    assert models.Visitor.objects.count() == 9
    expected_sessions = sum(
        state.get_visitor(sid).sessions.count()
        for sid in models.Visitor.objects.values_list("pk", flat=True)
    )
    assert models.Session.objects.count() == expected_sessions >= sessions_before


class TestPrune:
    def test_without_prune_nothing_local_is_touched(self, upscope_fake, three):
        run("--no-usage")
        state.delete_visitor("CCC333")
        run("--no-usage")
        assert models.Visitor.objects.get(pk="CCC333").removed_upstream_at is None

    def test_prune_marks_visitors_upscope_confirms_gone(self, upscope_fake, three):
        run("--no-usage")
        state.delete_visitor("CCC333")
        output = run("--prune", "--no-usage")
        assert "checked 1 local visitors" in output
        gone = models.Visitor.objects.get(pk="CCC333")
        assert gone.removed_upstream_at is not None
        assert models.Visitor.objects.filter(removed_upstream_at__isnull=True).count() == 2
        # Upscope was asked about CCC333 itself before it was marked.
        assert any(r.path.endswith("/CCC333.json") for r in upscope_fake.requests("visitor_get"))

    def test_a_visitor_missing_from_the_list_but_still_there_is_not_pruned(
        self, upscope_fake, three
    ):
        run("--no-usage")
        # The listing (not paginated, possibly capped) leaves CCC333 out; Upscope still has it.
        state.inject_fault(
            "list",
            body={"status": "ok", "visitors": [{"short_id": "AAA111"}, {"short_id": "BBB222"}]},
        )
        run("--prune", "--no-usage")
        assert models.Visitor.objects.get(pk="CCC333").removed_upstream_at is None

    def test_prune_delete_removes_rows(self, upscope_fake, three):
        run("--no-usage")
        state.delete_visitor("CCC333")
        output = run("--prune", "--delete", "--no-usage")
        assert "1 deleted from the mirror" in output
        assert not models.Visitor.objects.filter(pk="CCC333").exists()
        assert models.Visitor.objects.count() == 2

    def test_prune_refuses_a_search_with_the_sync_s_one_message(self, upscope_fake):
        with pytest.raises(CommandError) as refused:
            run("--prune", "--search", "Ada")
        assert str(refused.value) == mirror.PRUNE_NEEDS_FULL_LISTING
        for narrowed in ({"query": "Ada"}, {"short_ids": ["AAA111"]}):
            with pytest.raises(ValueError) as raised:
                mirror.sync_from_upscope(upscope_fake.client(), prune=True, **narrowed)
            assert str(raised.value) == mirror.PRUNE_NEEDS_FULL_LISTING
        # Refused before anything was asked of Upscope.
        assert upscope_fake.requests() == []
        assert "cannot be combined with a search (--search)" in mirror.PRUNE_NEEDS_FULL_LISTING

    def test_delete_needs_prune(self, upscope_fake):
        with pytest.raises(CommandError, match="only makes sense with --prune"):
            run("--delete")


def test_batch_size_must_be_positive(upscope_fake):
    with pytest.raises(CommandError):
        run("--batch-size", "0")


def test_on_premise_sync_skips_usage_cleanly(upscope_fake_onprem):
    upscope_fake_onprem.add_visitor(short_id="ONP001")
    output = run()
    assert "No usage snapshot: the on-premise API has no usage endpoint." in output
    assert last_line(output) == "created=1 updated=0 unchanged=0 failed=0 skipped=0"
    assert not models.UsageSnapshot.objects.exists()


def test_usage_failure_is_a_warning(upscope_fake, three):
    upscope_fake.fail("usage", status=500, times=3)
    err = io.StringIO()
    call_command("upscope_sync", stdout=io.StringIO(), stderr=err)
    assert "could not store a usage snapshot" in err.getvalue()
    assert models.Visitor.objects.count() == 3


class TestUsageSnapshotCommand:
    def test_stores_a_snapshot(self, upscope_fake, three):
        state.set_online("AAA111")
        out = io.StringIO()
        call_command("upscope_usage_snapshot", stdout=out)
        snapshot = models.UsageSnapshot.objects.get()
        expected = state.usage()
        assert snapshot.visitors_online_now == expected["visitors"]["online_now"] >= 1
        assert snapshot.sessions_last_30_days == expected["session_counts"]["last_30_days"]
        assert snapshot.raw == expected
        assert f"Stored usage snapshot {snapshot.pk}" in out.getvalue()

    def test_prints_the_snapshot_it_stored_not_the_latest(self, upscope_fake):
        later = UsageSnapshotFactory(taken_at=timezone.now() + dt.timedelta(days=1))
        out = io.StringIO()
        call_command("upscope_usage_snapshot", stdout=out)
        stored = models.UsageSnapshot.objects.exclude(pk=later.pk).get()
        assert out.getvalue() == (
            f"Stored usage snapshot {stored.pk}: visitors online now "
            f"{stored.visitors_online_now}, sessions today {stored.sessions_today}, "
            f"session seconds (30 days) {stored.session_seconds_last_30_days}.\n"
        )
        assert stored.raw == state.usage()
        # One GET usage.json, nothing else.
        assert [r.endpoint for r in upscope_fake.requests()] == ["usage"]

    def test_auth_error(self, upscope_fake, settings):
        settings.UPSCOPE = {**settings.UPSCOPE, "API_KEY": "wrong"}
        with pytest.raises(CommandError, match="invalid_api_key"):
            call_command("upscope_usage_snapshot", stdout=io.StringIO())
        assert not models.UsageSnapshot.objects.exists()

    def test_on_premise_has_no_usage(self, upscope_fake_onprem):
        with pytest.raises(CommandError, match="no usage endpoint"):
            call_command("upscope_usage_snapshot", stdout=io.StringIO())

    @pytest.mark.django_db
    def test_a_settings_error_is_one_line_without_traceback(self, settings, capsys, monkeypatch):
        settings.UPSCOPE = {"API_KEY": "fake_key", "TIMEOUT": "10"}
        with pytest.raises(CommandError, match=r"UPSCOPE\['TIMEOUT'\].*\[invalid_setting\]"):
            call_command("upscope_usage_snapshot", stdout=io.StringIO())
        assert not models.UsageSnapshot.objects.exists()
        # As cron runs it (here with --skip-checks, which the system check E003 would
        # otherwise catch first): "CommandError: ..." on stderr, exit 1, no traceback.
        # run_from_argv closes every connection when it ends, which would close the
        # test's own transaction on PostgreSQL: keep it open.
        monkeypatch.setattr(connections, "close_all", lambda: None)
        with pytest.raises(SystemExit) as exited:
            ManagementUtility(["manage.py", "upscope_usage_snapshot", "--skip-checks"]).execute()
        assert exited.value.code == 1
        err = capsys.readouterr().err
        assert err.startswith("CommandError: Could not fetch usage: UPSCOPE['TIMEOUT']")
        assert "Traceback" not in err and 'File "' not in err


def test_a_second_sync_while_one_holds_the_lease_exits_cleanly(upscope_fake, three):
    from django_upscope import jobs, locks

    token = locks.acquire(jobs.SYNC_LEASE, ttl=600)
    assert token is not None
    output = run("--no-usage")
    assert output.strip().splitlines()[-1] == (
        "Another sync of the mirror is running; nothing to do."
    )
    assert not models.Visitor.objects.exists()
    assert not [r for r in upscope_fake.requests() if r.path.endswith("/list.json")]

    locks.release(jobs.SYNC_LEASE, token, ok=True, summary="released")
    output = run("--no-usage")  # positive control: with the lease free, the sync runs
    assert last_line(output).startswith("created=3 ")
    state = locks.state(jobs.SYNC_LEASE)
    assert state is not None and state.ok is True
    assert state.summary == "3 new, 0 updated, 0 unchanged"
