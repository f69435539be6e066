"""upsert_visitors / upsert_visitor: counts, no writes for unchanged data, derived columns,
raw payloads, history, sessions and agents."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_upscope import mirror, models, resources

from .helpers import session_payload, statement_kinds, visitor, visitors, writes

pytestmark = pytest.mark.django_db


def test_first_sync_creates_then_identical_resync_writes_nothing():
    batch = visitors(5)
    first = mirror.upsert_visitors(batch)
    assert (first.created, first.updated, first.unchanged) == (5, 0, 0)
    assert sorted(first.created_ids) == [v.short_id for v in batch]
    assert first.sessions_created == 15
    assert models.Visitor.objects.count() == 5
    assert models.Session.objects.count() == 15
    synced = dict(models.Visitor.objects.values_list("short_id", "synced_at"))

    with CaptureQueriesContext(connection) as ctx:
        again = mirror.upsert_visitors(visitors(5))
    assert writes(ctx) == []
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    assert again.sessions_unchanged == 15
    assert dict(models.Visitor.objects.values_list("short_id", "synced_at")) == synced


def test_a_changed_visitor_is_updated_alone():
    mirror.upsert_visitors(visitors(3))
    before = dict(models.Visitor.objects.values_list("short_id", "synced_at"))
    batch = visitors(3)
    batch[1] = visitors(2, is_online=False)[1]

    with CaptureQueriesContext(connection) as ctx:
        result = mirror.upsert_visitors(batch)

    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    assert result.updated_ids == ["V00001"]
    visitor_writes = [sql for sql in writes(ctx) if "upscope_visitor" in sql]
    assert len(visitor_writes) == 1
    assert "upscope_session" not in " ".join(writes(ctx))
    after = dict(models.Visitor.objects.values_list("short_id", "synced_at"))
    assert after["V00000"] == before["V00000"]
    assert after["V00001"] > before["V00001"]
    assert models.Visitor.objects.get(pk="V00001").is_online is False


def test_columns_are_derived_from_the_payload():
    v = visitor(
        "ABCD1234",
        identities=["Joe Smith", "joe@example.com"],
        tags=["#customer", "#vip"],
        sessions=[session_payload(7, "ABCD1234", features_used=["click", "draw"])],
        lookup_code="4821",
    )
    row = mirror.upsert_visitor(v)
    assert row.display_name == "Joe Smith"
    assert row.identities_text == "Joe Smith\njoe@example.com"
    assert row.tags_text == " #customer #vip "
    assert row.lookup_code == "4821"
    assert row.ip_address == "8.8.8.8"
    assert row.first_seen_at == dt.datetime(2018, 3, 16, 15, 25, 59, tzinfo=dt.timezone.utc)
    assert row.location_country == "US"
    assert row.device_name == ""  # null in the payload
    assert models.Visitor.objects.filter(tags_text__contains=" #vip ").count() == 1
    session = models.Session.objects.get(pk=7)
    assert session.visitor_id == "ABCD1234"
    assert session.features_text == " click draw "
    assert session.team_id == 1
    assert session.team_domain == "example.com"
    assert session.went_live is True
    assert session.length_seconds == 91


@pytest.mark.parametrize(
    ("identities", "unique_id", "expected"),
    [([], "u-9", "u-9"), ([], None, "XYZ"), (None, None, "XYZ"), (["Ann"], "u-9", "Ann")],
)
def test_display_name_falls_back(identities, unique_id, expected):
    row = mirror.upsert_visitor(visitor("XYZ", identities=identities, unique_id=unique_id))
    assert row.display_name == expected


def test_raw_keeps_unknown_fields_and_leaves_sessions_and_history_to_their_own_columns():
    v = visitor(
        "RAW1",
        sessions=[session_payload(5, "RAW1", new_session_field={"x": 1})],
        history={"pageviews": [{"url": "https://a.example/"}]},
        brand_new_field=[1, 2, 3],
    )
    row = mirror.upsert_visitor(v)
    assert row.raw["brand_new_field"] == [1, 2, 3]
    assert row.raw["short_id"] == "RAW1"
    assert "sessions" not in row.raw
    assert "history" not in row.raw
    assert row.history == {"pageviews": [{"url": "https://a.example/"}]}
    assert models.Session.objects.get(pk=5).raw["new_session_field"] == {"x": 1}


def test_a_new_field_from_upscope_counts_as_a_change():
    mirror.upsert_visitor(visitor("NEW1"))
    result = mirror.upsert_visitors([visitor("NEW1", shiny="yes")])
    assert result.updated_ids == ["NEW1"]
    assert models.Visitor.objects.get(pk="NEW1").raw["shiny"] == "yes"


def test_long_values_are_cut_to_the_column_and_kept_whole_in_raw():
    tags = [f"#tag-{i:04d}" for i in range(300)]
    row = mirror.upsert_visitor(visitor("LONG1", tags=tags, location_country="X" * 50))
    assert len(row.tags_text) <= 1024
    assert row.tags_text.startswith(" #tag-0000 ") and row.tags_text.endswith(" ")
    assert row.location_country == "X" * 8
    assert row.raw["tags"] == tags
    assert row.tags == tags


class TestHistory:
    history = {"pageviews": [{"url": "https://shop.example/cart"}], "screenshots": []}

    def test_stored_when_fetched_with_history(self):
        mirror.upsert_visitors([visitor("H1", history=self.history)], with_history=True)
        row = models.Visitor.objects.get(pk="H1")
        assert row.history == self.history
        assert row.history_synced_at is not None

    def test_a_sync_without_history_keeps_stored_history(self):
        mirror.upsert_visitors([visitor("H1", history=self.history)], with_history=True)
        result = mirror.upsert_visitors([visitor("H1", is_online=False)])
        assert result.updated_ids == ["H1"]
        row = models.Visitor.objects.get(pk="H1")
        assert row.is_online is False
        assert row.history == self.history

    def test_unchanged_history_writes_nothing_and_changed_history_is_an_update(self):
        mirror.upsert_visitors([visitor("H1", history=self.history)], with_history=True)
        with CaptureQueriesContext(connection) as ctx:
            same = mirror.upsert_visitors([visitor("H1", history=self.history)], with_history=True)
        assert writes(ctx) == []
        assert same.unchanged_ids == ["H1"]
        newer = {**self.history, "screenshots": [{"id": 1}]}
        changed = mirror.upsert_visitors([visitor("H1", history=newer)], with_history=True)
        assert changed.updated_ids == ["H1"]
        assert models.Visitor.objects.get(pk="H1").history == newer

    def test_no_history_before_it_is_fetched(self):
        row = mirror.upsert_visitor(visitor("H2"))
        assert row.history is None
        assert row.history_synced_at is None


class TestSessions:
    def test_a_payload_without_sessions_leaves_sessions_alone(self):
        mirror.upsert_visitor(visitor("S1", sessions=2))
        listed = visitor("S1", sessions=2)
        payload = {k: v for k, v in listed.raw.items() if k != "sessions"}
        payload["is_online"] = False
        mirror.upsert_visitors([resources.VisitorData.from_payload(payload)])
        assert models.Session.objects.filter(visitor_id="S1").count() == 2

    def test_sessions_that_drop_off_upscope_list_are_kept(self):
        mirror.upsert_visitor(visitor("S1", sessions=3))
        mirror.upsert_visitor(visitor("S1", sessions=1))
        assert sorted(models.Session.objects.values_list("id", flat=True)) == [1, 2, 3]

    def test_a_changed_session_is_updated(self):
        start = dt.datetime(2024, 1, 1, 9, tzinfo=dt.timezone.utc)
        mirror.upsert_visitor(
            visitor("S1", sessions=[session_payload(9, "S1", started_at=start, active=True)])
        )
        assert models.Session.objects.get(pk=9).is_active
        result = mirror.upsert_visitors(
            [
                visitor(
                    "S1", sessions=[session_payload(9, "S1", started_at=start, length_seconds=120)]
                )
            ]
        )
        assert result.sessions_updated == 1
        session = models.Session.objects.get(pk=9)
        assert session.ended_at == start + dt.timedelta(seconds=120)
        assert session.length_seconds == 120


class TestAgents:
    def test_agents_are_shared_and_sessions_by_agent_is_one_query(self):
        joe = {
            "id": 1,
            "name": "Joe Smith",
            "agent_identifier": "ext-123",
            "_type": "external_agent",
        }
        ann = {"id": 2, "name": "Ann Lee", "agent_identifier": "ext-456", "_type": "external_agent"}
        mirror.upsert_visitors(
            [
                visitor(
                    "A1",
                    sessions=[
                        session_payload(1, "A1", agents=[joe]),
                        session_payload(2, "A1", agents=[joe, ann]),
                    ],
                ),
                visitor("A2", sessions=[session_payload(3, "A2", agents=[ann])]),
            ]
        )
        assert models.Agent.objects.count() == 2
        with CaptureQueriesContext(connection) as ctx:
            by_ann = sorted(
                models.Session.objects.filter(agents__agent_identifier="ext-456").values_list(
                    "id", flat=True
                )
            )
            by_joe = sorted(
                models.Session.objects.filter(agents__key="id:1").values_list("id", flat=True)
            )
        assert by_ann == [2, 3]
        assert by_joe == [1, 2]
        assert len(ctx.captured_queries) == 2
        agent = models.Agent.objects.get(key="id:2")
        assert (agent.name, agent.type, agent.upscope_id) == ("Ann Lee", "external_agent", 2)

    def test_agent_without_upscope_id_is_keyed_by_identifier(self):
        ext = {"name": "Bot", "agent_identifier": "django-7", "_type": "external_agent"}
        mirror.upsert_visitor(visitor("A3", sessions=[session_payload(4, "A3", agents=[ext])]))
        assert models.Agent.objects.get().key == "ext:django-7"

    def test_agent_renamed_and_removed_from_a_session(self):
        joe = {"id": 1, "name": "Joe", "_type": "external_agent"}
        ann = {"id": 2, "name": "Ann", "_type": "external_agent"}
        mirror.upsert_visitor(visitor("A4", sessions=[session_payload(8, "A4", agents=[joe, ann])]))
        joe2 = {**joe, "name": "Joseph"}
        mirror.upsert_visitor(visitor("A4", sessions=[session_payload(8, "A4", agents=[joe2])]))
        session = models.Session.objects.get(pk=8)
        assert [a.name for a in session.agents.all()] == ["Joseph"]
        assert models.Agent.objects.count() == 2  # Ann is kept: other sessions may name her


class TestQueryCounts:
    def _per_batch(self, n: int, batch_size: int) -> list[int]:
        counts = []
        batch = visitors(n, prefix=f"Q{n}-", base=n * 1000)
        for start in range(0, n, batch_size):
            with CaptureQueriesContext(connection) as ctx:
                mirror.upsert_visitors(batch[start : start + batch_size])
            counts.append(len(ctx.captured_queries))
        return counts

    def test_queries_per_batch_do_not_depend_on_the_number_of_visitors(self):
        one_batch = self._per_batch(10, 10)
        twenty_batches = self._per_batch(200, 10)
        assert len(twenty_batches) == 20
        assert set(twenty_batches) == set(one_batch)
        assert one_batch[0] <= 12

    def test_one_statement_of_each_kind_per_batch_whatever_its_size(self):
        from .helpers import statements_needed

        kinds = {}
        for n in (10, 200):
            with CaptureQueriesContext(connection) as ctx:
                mirror.upsert_visitors(visitors(n, prefix=f"K{n}-", base=n * 1000))
            kinds[n] = statement_kinds(ctx)
        selects = {n: {k: c for k, c in kinds[n].items() if k[0] == "SELECT"} for n in kinds}
        assert selects[10] == selects[200]
        # One SELECT per table, plus one for the ids of agents just inserted.
        assert selects[200][("SELECT", "django_upscope_visitor")] == 1
        assert selects[200][("SELECT", "django_upscope_session")] == 1
        assert selects[200][("SELECT", "django_upscope_agent")] == 2
        for n in (10, 200):
            assert kinds[n][("INSERT", "django_upscope_visitor")] == statements_needed(
                models.Visitor, n
            )
            assert kinds[n][("INSERT", "django_upscope_session")] == statements_needed(
                models.Session, 3 * n
            )
            assert kinds[n][("INSERT", "django_upscope_session_agents")] == statements_needed(
                models.Session.agents.through, 3 * n
            )
        assert set(kinds[10]) == set(kinds[200])

    def test_resync_of_unchanged_data_is_two_selects(self):
        mirror.upsert_visitors(visitors(50))
        with CaptureQueriesContext(connection) as ctx:
            mirror.upsert_visitors(visitors(50))
        kinds = statement_kinds(ctx)
        assert dict(kinds) == {
            ("SELECT", "django_upscope_visitor"): 1,
            ("SELECT", "django_upscope_session"): 1,
        }


def test_duplicate_short_ids_in_one_batch_last_wins():
    result = mirror.upsert_visitors([visitor("D1", is_online=True), visitor("D1", is_online=False)])
    assert result.created_ids == ["D1"]
    assert models.Visitor.objects.get(pk="D1").is_online is False


def test_empty_batch_runs_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        result = mirror.upsert_visitors([])
    assert result.summary() == "created=0 updated=0 unchanged=0 failed=0 skipped=0"


def test_summary_counts_every_kind_including_skipped():
    result = mirror.SyncResult()
    result.add(mirror.Outcome.CREATED, ["A"])
    result.add(mirror.Outcome.SKIPPED, ["B", "C"])
    result.add(mirror.Outcome.FAILED, ["D"])
    assert result.summary() == "created=1 updated=0 unchanged=0 failed=1 skipped=2"


def test_a_sync_result_in_words_names_failures_and_skips_only_when_there_are_any():
    result = mirror.SyncResult(keep_ids=False)
    result.add(mirror.Outcome.CREATED, ["A", "B"])
    result.add(mirror.Outcome.UNCHANGED, ["C"])
    assert result.in_words() == "2 new, 0 updated, 1 unchanged"
    result.add(mirror.Outcome.FAILED, ["D"])
    result.add(mirror.Outcome.SKIPPED, ["E", "F"])
    assert result.in_words() == "2 new, 0 updated, 1 unchanged, 1 failed, 2 skipped"
    # The machine-readable line keeps its shape for scripts.
    assert result.summary() == "created=2 updated=0 unchanged=1 failed=1 skipped=2"
