"""Payload -> columns is written once (django_upscope.mirror.columns): the column lists
follow the models, factory rows are what a sync writes, and django_upscope.sync still
exports every name it did."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import models as dj_models

from django_upscope import mirror, models, resources, sync
from django_upscope.mirror import columns
from django_upscope.testing import factories

from .helpers import visitor

#: Timestamps of the write itself (when the row was stored), and the agent's
#: database-assigned id: these differ between any two writes of the same payload.
NOT_COMPARED = {"synced_at", "history_synced_at"}


def row_values(row: dj_models.Model, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    row.refresh_from_db()
    return {
        f.attname: getattr(row, f.attname)
        for f in type(row)._meta.concrete_fields
        if f.attname not in NOT_COMPARED and f.attname not in skip
    }


def attnames(model: type[dj_models.Model]) -> set[str]:
    return {f.attname for f in model._meta.concrete_fields}


def test_the_column_lists_cover_every_model_column():
    assert {
        *columns.VISITOR_FIELDS,
        *columns.HISTORY_FIELDS,
        *columns.LISTING_FIELDS,
        "short_id",
    } == attnames(models.Visitor)
    assert {*columns.SESSION_FIELDS, "id"} == attnames(models.Session)
    assert {*columns.AGENT_FIELDS, "id", "key"} == attnames(models.Agent)


def test_column_builders_fill_exactly_the_payload_columns():
    payload = factories.visitor_payload("COL1", sessions=1)
    parsed = resources.VisitorData.from_payload(payload)
    values = columns.visitor_columns(parsed)
    assert set(values) == attnames(models.Visitor) - {
        *columns.HISTORY_FIELDS,
        *columns.LISTING_FIELDS,
        "synced_at",
        "removed_upstream_at",
    }
    assert values["display_name"] == "Joe Smith" and values["tags_text"] == " #customer "
    session = parsed.sessions[0]
    assert set(columns.session_columns(session, "COL1")) == attnames(models.Session) - {"synced_at"}
    assert set(columns.agent_columns(session.agents[0])) == attnames(models.Agent) - {
        "id",
        "synced_at",
    }


def test_text_columns_are_cut_to_their_length_but_the_payload_is_kept_whole():
    long_tag = "#" + "t" * 1100
    values = columns.visitor_columns(
        visitor("CUT1", device_type="x" * 100, tags=["#a b", long_tag], lookup_code=None)
    )
    assert values["device_type"] == "x" * models.Visitor._meta.get_field("device_type").max_length
    # A word with a space stays one token; a token that does not fit is left out whole.
    assert values["tags_text"] == " #a_b "
    assert values["lookup_code"] == ""
    assert values["raw"]["device_type"] == "x" * 100


@pytest.mark.django_db
def test_a_factory_visitor_is_what_a_sync_of_its_payload_writes():
    made = factories.VisitorFactory(
        identities=["Ada Lovelace", "ada@example.com"],
        tags=["#vip", "two words"],
        device_name="",
        history={"pageviews": [{"url": "/pricing"}]},
    )
    expected = row_values(made)
    assert expected["content_hash"] and expected["history_hash"]  # filled, as a sync fills them
    assert expected["tags_text"] == " #vip two_words "
    payload = {**made.raw, "history": made.history}
    models.Visitor.objects.all().delete()

    mirror.upsert_visitors([resources.VisitorData.from_payload(payload)])

    assert row_values(models.Visitor.objects.get()) == expected


@pytest.mark.django_db
def test_a_factory_session_and_its_agents_are_what_a_sync_writes():
    session = factories.SessionFactory(
        agents=2, metadata={"ticket": "T-1"}, features_used=["click", "co browse"]
    )
    made_visitor = row_values(session.visitor)
    made_session = row_values(session)
    made_agents = {a.key: row_values(a, skip=("id",)) for a in models.Agent.objects.all()}
    assert len(made_agents) == 2 and made_session["content_hash"]
    assert made_session["features_text"] == " click co_browse "
    payload = {**session.visitor.raw, "sessions": [session.raw]}
    models.Visitor.objects.all().delete()
    models.Agent.objects.all().delete()

    mirror.upsert_visitors([resources.VisitorData.from_payload(payload)])

    assert row_values(models.Visitor.objects.get()) == made_visitor
    synced = models.Session.objects.get()
    assert row_values(synced) == made_session
    assert {a.key: row_values(a, skip=("id",)) for a in models.Agent.objects.all()} == made_agents
    assert set(synced.agents.values_list("key", flat=True)) == set(made_agents)


@pytest.mark.django_db
def test_a_factory_row_synced_again_is_unchanged():
    """Same hash, so a sync of a factory row's own payload writes nothing."""
    made = factories.VisitorFactory()
    result = mirror.upsert_visitors([resources.VisitorData.from_payload(made.raw)])
    assert result.unchanged_ids == [made.short_id]
    changed = mirror.upsert_visitors(
        [resources.VisitorData.from_payload({**made.raw, "is_online": not made.is_online})]
    )
    assert changed.updated_ids == [made.short_id]


#: Every name imported from django_upscope.sync before the mirror package existed.
OLD_SYNC_NAMES = (
    "AGENT_FIELDS",
    "DEFAULT_BATCH_SIZE",
    "HASH_VERSION",
    "HISTORY_FIELDS",
    "MAX_CONSECUTIVE_UNAVAILABLE",
    "SESSION_FIELDS",
    "VISITOR_FIELDS",
    "ProgressCallback",
    "SyncReport",
    "SyncResult",
    "agent_key",
    "content_hash",
    "mark_removed_upstream",
    "prune_candidates",
    "record_usage",
    "remove_visitors",
    "sync_from_upscope",
    "upsert_visitor",
    "upsert_visitors",
    "visitor_raw",
)


@pytest.mark.parametrize("name", OLD_SYNC_NAMES)
def test_django_upscope_sync_still_exports(name):
    assert getattr(sync, name) is getattr(mirror, name)
