"""A small mirror whose rows each token tells apart (tests/search)."""

from __future__ import annotations

import pytest

from django_upscope.testing.factories import VisitorFactory

#: Every field a token or the free text reads is given: nothing is left to the factory's
#: random defaults.
ROWS = {
    "V1": {
        "identities": ["Ada Lovelace", "ada@example.com"],
        "unique_id": "u-ada",
        "lookup_code": "1234",
        "ip_address": "10.0.0.1",
        "tags": ["#vip", "#trial"],
        "integration": "intercom",
        "is_online": True,
    },
    "V2": {
        "identities": ["Bob Stone", "bob@example.com"],
        # Contains V1's lookup code: free text "1234" would find it, the token does not.
        "unique_id": "bob-1234",
        "lookup_code": "5678",
        "ip_address": "10.0.0.2",
        "tags": ["#trial"],
        "integration": "drift",
        "is_online": False,
    },
    "V3": {
        # Contains V1's address: an e-mail token matches a whole identity only.
        "identities": ["bada@example.com"],
        "unique_id": "u-ada-2",
        "lookup_code": "4321",
        "ip_address": "10.0.0.11",
        "tags": ["#vip-gold"],
        "integration": "intercom",
        "is_online": True,
    },
    "V4": {
        "identities": ["Dora"],
        "unique_id": "",
        "lookup_code": "",
        "ip_address": "",
        "tags": [],
        "integration": "",
        "is_online": False,
    },
}

#: (query, the short_ids it finds on the mirror): each token alone, then combined.
CASES = [
    ("", {"V1", "V2", "V3", "V4"}),
    ("online", {"V1", "V3"}),
    ("ONLINE", {"V1", "V3"}),
    ("-online", {"V2", "V4"}),
    ("#vip", {"V1"}),
    ("#VIP", {"V1"}),
    ("#trial", {"V1", "V2"}),
    ("#vip-gold", {"V3"}),
    ("ip:10.0.0.1", {"V1"}),
    ("ip:10.0.0.11", {"V3"}),
    ("id:u-ada", {"V1"}),
    ("id:bob-1234", {"V2"}),
    ("1234", {"V1"}),
    ("4321", {"V3"}),
    ("ada@example.com", {"V1"}),
    ("BOB@example.com", {"V2"}),
    ("bada@example.com", {"V3"}),
    ("integration_id:intercom:42", {"V1", "V3"}),
    ("integration_id:drift:7", {"V2"}),
    # Free text keeps the admin's fields: identities, unique_id, short_id, lookup code, IP.
    ("ada", {"V1", "V3"}),
    ("lovelace", {"V1"}),
    ("V4", {"V4"}),
    ("10.0.0.1", {"V1", "V3"}),
    ('"Ada Lovelace"', {"V1"}),
    ("Ada Lovelace", {"V1"}),
    # Combined: every word must match.
    ("online #vip", {"V1"}),
    ("-online #trial", {"V2"}),
    ("online ada", {"V1", "V3"}),
    ("#trial ada", {"V1"}),
    ("bob -online", {"V2"}),
    ("online integration_id:intercom:1 4321", {"V3"}),
    ("id:u-ada ip:10.0.0.1 1234 ada@example.com #vip online", {"V1"}),
    ("ada -online", set()),
    ("#vip #trial", {"V1"}),
]
CASE_IDS = [query or "(empty)" for query, _ in CASES]


@pytest.fixture
def mirror(db):
    """The four rows of :data:`ROWS` in the mirror."""
    for short_id, fields in ROWS.items():
        VisitorFactory(short_id=short_id, **fields)
    return ROWS
