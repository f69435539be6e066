"""Upscope's search syntax on the mirror: each token alone and combined, exact rows."""

from __future__ import annotations

import pytest

from django_upscope.mirror import search
from django_upscope.models import Visitor
from django_upscope.testing.factories import VisitorFactory

from .conftest import CASE_IDS, CASES


@pytest.mark.parametrize(("query", "expected"), CASES, ids=CASE_IDS)
def test_query_finds_exactly(mirror, query, expected):
    found = search.search(Visitor.objects.all(), query)
    assert set(found.values_list("short_id", flat=True)) == expected


def test_search_narrows_the_queryset_it_is_given(mirror):
    # "online" alone finds V1 and V3; the given queryset already excludes V3.
    found = search.search(Visitor.objects.exclude(short_id="V3"), "online")
    assert list(found.values_list("short_id", flat=True)) == ["V1"]


def test_a_tag_matches_a_whole_tag_only(db):
    VisitorFactory(short_id="T1", tags=["#vip-gold"])
    VisitorFactory(short_id="T2", tags=["#vip"])
    found = search.search(Visitor.objects.all(), "#vip")
    assert list(found.values_list("short_id", flat=True)) == ["T2"]


def test_an_email_is_matched_in_any_position_of_the_identities(db):
    VisitorFactory(short_id="E1", identities=["ada@example.com"])
    VisitorFactory(short_id="E2", identities=["Ada", "ada@example.com"])
    VisitorFactory(short_id="E3", identities=["Ada", "ada@example.com", "Countess"])
    VisitorFactory(short_id="E4", identities=["ada@example.com.evil", "xada@example.com"])
    found = search.search(Visitor.objects.all(), "ada@example.com")
    assert set(found.values_list("short_id", flat=True)) == {"E1", "E2", "E3"}
