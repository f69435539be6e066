"""Schemathesis against the live API, with the embedded fake Upscope behind it.

Every generated request must get a documented status with a body matching the
schema; no 500 ever, and 5xx only where the schema documents an upstream mapping.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.test import Client
from drf_spectacular.settings import patched_settings
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from django_upscope.api.openapi import SCHEMA_SETTINGS, UpscopeSchemaGenerator
from django_upscope.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)

CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 25
CSRF = "Abcdefghijklmnopqrstuvwxyz012345"


def login_cookies() -> dict[str, str]:
    """A superuser's session cookie and a CSRF cookie (sent back as X-CSRFToken)."""
    user = User.objects.create_superuser("schemathesis", password="pw")
    django_client = Client()
    django_client.force_login(user)
    return {"sessionid": django_client.cookies["sessionid"].value, "csrftoken": CSRF}


def run_operation(operation, base_url, cookies, documented, **fixed):
    seen: list[int] = []

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    # The schema's cookieAuth names the session cookie: fix it rather than fuzz it.
    @given(case=operation.as_strategy(cookies=cookies, **fixed))
    def check(case):
        response = case.call(base_url=base_url, headers={"X-CSRFToken": CSRF})
        assert response.status_code != 500, response.text
        if response.status_code >= 500:
            assert response.status_code in documented, response.text
            assert set(response.json()) >= {"error", "detail"}
        case.validate_response(response, checks=CHECKS)
        seen.append(response.status_code)

    check()
    return seen


def test_schemathesis_finds_no_undocumented_failure(upscope_fake, live_server, settings):
    # Enough minting to exercise the endpoint rather than its throttle.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"upscope_watch_url": "1000/min"},
    }
    upscope_fake.seed(8, seed=1)
    with patched_settings(SCHEMA_SETTINGS):
        raw = UpscopeSchemaGenerator().get_schema(request=None, public=True)
    schema = schemathesis.openapi.from_dict(raw)
    cookies = login_cookies()

    statuses: dict[str, list[int]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        documented = {int(code) for code in operation.definition.raw["responses"]}
        statuses[operation.label] = run_operation(operation, live_server.url, cookies, documented)
        if "{short_id}" in operation.path:
            # Random ids are unknown to Upscope; also aim at a visitor it has (a fresh
            # one per operation: DELETE removes it).
            known = upscope_fake.add_visitor(identities=["ada@example.com"], is_online=True)
            statuses[operation.label + " (known visitor)"] = run_operation(
                operation,
                live_server.url,
                cookies,
                documented,
                path_parameters={"short_id": known},
            )

    # 11 operations (the two lookups of api/lookup.py included), 4 of them on a known visitor.
    assert len(statuses) == 11 + 4
    assert 200 in statuses["GET /upscope/api/lookup/code/{code}/"]
    # The runs reached the real work, not just validation errors.
    assert 201 in statuses["POST /upscope/api/visitors/{short_id}/watch-url/ (known visitor)"]
    assert 200 in statuses["GET /upscope/api/visitors/{short_id}/ (known visitor)"]
    assert 202 in statuses["POST /upscope/api/visitors/purge/"]
    assert AuditEvent.objects.filter(action="watch_url", outcome="success").exists()
