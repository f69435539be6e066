"""Upscope's documented payloads, the secrets the unit tests guard, and client builders.

This module holds no tests: the client unit tests, the type tests and the
secret tests import from it. The payloads are the examples of
``docs/upscope-api.md`` (section named above each).
"""

from __future__ import annotations

import copy
from typing import Any

from django_upscope.client import UpscopeClient

CLOUD_URL = "https://api.upscope.test/v1.1"
BASE_ENDPOINT = "https://support.acmetech.test/cobrowsing"
ONPREM_API = BASE_ENDPOINT + "/api"

# Distinctive values, so that a leak is found by a plain substring search.
API_KEY = "sk_SECRET_API_KEY_7f3a9c"
REST_KEY = "rest_SECRET_REST_KEY_41d2e8"
WATCH_URL = "https://o.upscope.io/watch?token=SECRET_WATCH_TOKEN_99bb"
SECRETS = (API_KEY, REST_KEY, WATCH_URL, "SECRET_WATCH_TOKEN_99bb")

TIMEOUT = 7.5

# docs/upscope-api.md, "Retrieving usage statistics"
USAGE = {
    "usage": {
        "visitors": {"online_now": 100, "last_24_hrs": 1000, "last_30_days": 40000},
        "agents": {"today": 5, "last_30_days": 20},
        "session_counts": {"now": 3, "today": 30, "last_30_days": 100},
        "session_seconds": {"today": 400, "last_30_days": 10000},
    }
}

# docs/upscope-api.md, "Retrieving a visitor's information"
VISITOR: dict[str, Any] = {
    "api_key": "xyzxyzxyz",
    "browser_name": "Chrome 65",
    "device_name": None,
    "device_type": "desktop",
    "first_seen_at": "2018-03-16T15:25:59.000Z",
    "identities": ["Joe Smith"],
    "integration": "intercom",
    "ip_address": "8.8.8.8",
    "is_in_session": False,
    "is_online": True,
    "js_configuration": False,
    "last_seen_at": "2018-04-17T14:43:44.000Z",
    "last_url": "https://your-website.com/abc",
    "location_city": "New York, NY",
    "location_country": "US",
    "location_country_name": "united states",
    "lookup_code": None,
    "short_id": "ABCD1234",
    "tags": ["#customer"],
    "unique_id": "123",
    "sessions": [
        {
            "id": 1,
            "length_seconds": 91,
            "formatted_length": "1 minute",
            "call_length_seconds": 0,
            "formatted_call_length": "-",
            "started_at": "2018-07-05T11:53:38.000+01:00",
            "ended_at": "2018-07-05T11:55:09.000+01:00",
            "went_live": True,
            "features_used": ["click"],
            "visitor_id": "ABCD1234",
            "team": {"id": 1, "domain": "upscope.io", "_type": "team"},
            "agents": [
                {
                    "id": 1,
                    "name": "Joe Smith",
                    "agent_identifier": "ext-123",
                    "_type": "external_agent",
                }
            ],
            "_type": "session",
        }
    ],
    "_type": "visitor",
}


def visitor(**changes: Any) -> dict[str, Any]:
    """A deep copy of the documented visitor with ``changes`` applied."""
    body = copy.deepcopy(VISITOR)
    body.update(changes)
    return body


def visitor_detail(**changes: Any) -> dict[str, Any]:
    return {"status": "ok", "visitor": visitor(**changes)}


def visitor_list(*short_ids: str) -> dict[str, Any]:
    return {"status": "ok", "visitors": [visitor(short_id=s) for s in short_ids]}


def never_wait(seconds: float) -> None:
    """A retry sleep that returns at once: no test ever really waits."""


def cloud_client(**kwargs: Any) -> UpscopeClient:
    """A cloud client with the test key; retries never wait (pass ``sleep=`` to record)."""
    options: dict[str, Any] = {
        "api_key": API_KEY,
        "api_url": CLOUD_URL,
        "timeout": TIMEOUT,
        "max_retries": 2,
        "retry_max_time": 60.0,
        "retry_backoff": 0.5,
        "sleep": never_wait,
    }
    options.update(kwargs)
    return UpscopeClient(**options)


def onprem_client(**kwargs: Any) -> UpscopeClient:
    """An on-premise client with the test REST key; retries never wait."""
    options: dict[str, Any] = {
        "rest_key": REST_KEY,
        "base_endpoint": BASE_ENDPOINT,
        "timeout": TIMEOUT,
        "max_retries": 2,
        "retry_max_time": 60.0,
        "retry_backoff": 0.5,
        "sleep": never_wait,
    }
    options.update(kwargs)
    return UpscopeClient(**options)
