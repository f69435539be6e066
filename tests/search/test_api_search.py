"""The REST API's source=local search reads Upscope's syntax on the mirror."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from ..helpers import make_user
from .conftest import CASE_IDS, CASES

pytestmark = pytest.mark.drf


@pytest.fixture
def reader(db):
    client = APIClient()
    client.force_authenticate(make_user("reader", ["view_visitor"]))
    return client


def local(reader, **params):
    response = reader.get(reverse("django_upscope:api:visitor-list"), {"source": "local", **params})
    assert response.status_code == 200, response.content
    return {row["short_id"] for row in response.json()["results"]}


@pytest.mark.parametrize(("query", "expected"), CASES, ids=CASE_IDS)
def test_local_search_reads_upscope_tokens(mirror, reader, rsps, query, expected):
    assert local(reader, search=query) == expected
    assert len(rsps.calls) == 0


def test_local_search_combines_with_the_local_filters(mirror, reader, rsps):
    assert local(reader, search="#trial") == {"V1", "V2"}
    assert local(reader, search="#trial", online="false") == {"V2"}
    assert local(reader, search="ada", tag="#vip") == {"V1"}
    assert len(rsps.calls) == 0
