"""Issue 12, item 13: search and filter inputs that reached a server error for staff.

Each of these was a 500 (on SQLite: "Expression tree is too large", "LIKE or GLOB pattern
too complex", "user-defined function raised exception"; in Python: "year 10000 is out of
range") or Django's misleading "Database error" page (``?e=1``). Each now answers with the
list and a message saying what was wrong.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages

from django_upscope.admin.list_inputs import (
    MAX_FILTER_LENGTH,
    MAX_SEARCH_TERM_LENGTH,
    MAX_SEARCH_TERMS,
)
from django_upscope.testing.factories import SessionFactory, VisitorFactory

VISITORS = "/admin/django_upscope/visitor/"
SESSIONS = "/admin/django_upscope/session/"
AUDIT = "/admin/django_upscope/auditevent/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(admin_client):
    # The errors must be answered, not raised out of the test client.
    admin_client.raise_request_exception = False
    visitor = VisitorFactory(short_id="V1", tags=["#vip"], display_name="Ada")
    SessionFactory(visitor=visitor)
    return admin_client


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def follow(client, url):
    """GET ``url``: the first answer must be a redirect to the list without the bad input;
    returns (that redirect's query, the list's response)."""
    first = client.get(url)
    assert first.status_code == 302, first.status_code
    location = first["Location"]
    assert "e=1" not in location
    final = client.get(location)
    assert final.status_code == 200
    return parse_qs(urlsplit(location).query), final


MANY_TERMS = "+".join(f"t{i}" for i in range(1000))


@pytest.mark.parametrize("changelist", [VISITORS, SESSIONS, AUDIT])
def test_a_search_of_a_thousand_terms_is_refused_with_a_message(staff, changelist):
    query, response = follow(staff, f"{changelist}?q={MANY_TERMS}&o=1")
    assert query == {"o": ["1"]}  # the other parameters are kept
    assert messages_of(response) == [
        f"Search for at most {MAX_SEARCH_TERMS} words at a time; the search was not run."
    ]


def test_one_very_long_search_term_is_refused_with_a_message(staff):
    _, response = follow(staff, f"{VISITORS}?q={'x' * 60000}")
    assert messages_of(response) == [
        f"Each search word may be at most {MAX_SEARCH_TERM_LENGTH} characters; "
        "the search was not run."
    ]


def test_a_search_within_the_limits_runs(staff):
    # The positive control: as many terms as allowed, each as long as allowed.
    response = staff.get(VISITORS, {"q": "V1"})
    assert response.status_code == 200
    assert ">Ada<" in response.content.decode()
    limit = " ".join(["x" * MAX_SEARCH_TERM_LENGTH] * MAX_SEARCH_TERMS)
    response = staff.get(VISITORS, {"q": limit})
    assert response.status_code == 200
    assert messages_of(response) == []


def test_a_very_long_tag_filter_is_dropped_with_a_message(staff):
    query, response = follow(staff, f"{VISITORS}?tag={'x' * 60000}&is_online__exact=1")
    assert query == {"is_online__exact": ["1"]}
    assert messages_of(response) == [
        f"The filter “tag” is longer than {MAX_FILTER_LENGTH} characters; it was removed."
    ]


def test_a_tag_filter_within_the_limit_runs(staff):
    response = staff.get(VISITORS, {"tag": "#vip"})
    assert response.status_code == 200
    assert ">Ada<" in response.content.decode()


@pytest.mark.parametrize(
    ("changelist", "params"),
    [
        (VISITORS, "short_id__nonsense=1"),
        (VISITORS, "nosuch=1"),
        (VISITORS, "last_seen_at__year=99999"),
        (VISITORS, "short_id__regex=("),
        (SESSIONS, "visitor__display_name__nonsense=1"),
        (SESSIONS, "started_at__year=abc"),
        (AUDIT, "nosuch__x=1"),
    ],
)
def test_an_unknown_or_unusable_lookup_is_dropped_with_a_message(staff, changelist, params):
    name = params.split("=")[0]
    query, response = follow(staff, f"{changelist}?{params}&o=1")
    assert query == {"o": ["1"]}
    assert messages_of(response) == [
        f"This list cannot be filtered by “{name}” with that value; the filter was removed."
    ]


@pytest.mark.parametrize(
    "params",
    [
        "started_at__year=9999",
        "started_at__year=9999&started_at__month=12",
        "started_at__year=9999&started_at__month=12&started_at__day=31",
        "started_at__year=99999999999999999999999",
    ],
)
def test_a_date_drill_down_to_year_9999_is_refused_with_a_message(staff, params):
    query, response = follow(staff, f"{SESSIONS}?{params}")
    assert query == {}
    assert messages_of(response) == [
        "Dates can be drilled down to the year 9998 at the latest; the date filter was removed."
    ]


def test_a_date_drill_down_within_range_runs(staff):
    response = staff.get(SESSIONS, {"started_at__year": "9998", "started_at__month": "12"})
    assert response.status_code == 200
    assert messages_of(response) == []


def test_a_nul_character_is_refused_before_the_database(staff):
    # PostgreSQL refuses a NUL in any string (a 500 there); SQLite searches it.
    _, response = follow(staff, f"{VISITORS}?q=a%00b")
    assert messages_of(response) == [
        "The search holds a character that cannot be searched; it was not run."
    ]
    query, response = follow(staff, f"{VISITORS}?tag=%23a%00&o=1")
    assert query == {"o": ["1"]}
    assert messages_of(response) == [
        "The filter “tag” holds a character that cannot be used; it was removed."
    ]
