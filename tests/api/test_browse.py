"""An API you can browse: the root listing the endpoints, Swagger UI and Redoc served locally."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from ..helpers import make_user
from .conftest import READER, api

pytestmark = pytest.mark.django_db

BASE = "http://testserver/upscope/api"


def as_user(user=None):
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def test_the_root_lists_every_endpoint():
    response = as_user(make_user("reader", READER, staff=False)).get(api("api-root"))
    assert response.status_code == 200
    assert response.json() == {
        "visitors": f"{BASE}/visitors/",
        "server": f"{BASE}/server/",
        "visitor": f"{BASE}/visitors/{{short_id}}/",
        "watch_url": f"{BASE}/visitors/{{short_id}}/watch-url/",
        "session": f"{BASE}/visitors/{{short_id}}/session/",
        "purge": f"{BASE}/visitors/purge/",
        "sessions": f"{BASE}/sessions/",
        "usage": f"{BASE}/usage/",
        "usage_history": f"{BASE}/usage/history/",
        "schema": f"{BASE}/schema/",
        "swagger_ui": f"{BASE}/schema/swagger-ui/",
        "redoc": f"{BASE}/schema/redoc/",
    }


def test_the_root_is_at_api_and_needs_a_login():
    assert api("api-root") == "/upscope/api/"
    response = as_user().get(api("api-root"))
    assert response.status_code == 403
    assert response.json()["error"] == "not_authenticated"


def test_the_root_only_reads():
    client = as_user(make_user("reader", READER))
    assert client.post(api("api-root")).json()["error"] == "method_not_allowed"
    assert client.delete(api("api-root")).status_code == 405


def test_the_root_is_browsable():
    response = as_user(make_user("reader", READER)).get(api("api-root"), HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert "text/html" in response["Content-Type"]
    assert f"{BASE}/visitors/" in response.content.decode()


PAGES = ["schema", "schema-swagger-ui", "schema-redoc"]


@pytest.mark.parametrize("page", PAGES)
def test_schema_pages_are_for_staff_by_default(page):
    assert as_user().get(api(page)).status_code == 403
    assert as_user(make_user("reader", READER, staff=False)).get(api(page)).status_code == 403
    assert as_user(make_user("staff", (), staff=True)).get(api(page)).status_code == 200


@pytest.mark.parametrize("page", PAGES)
def test_who_may_read_the_schema_is_a_setting(settings, page):
    settings.UPSCOPE = {
        **settings.UPSCOPE,
        "SCHEMA_PERMISSION": "rest_framework.permissions.IsAuthenticated",
    }
    assert as_user(make_user("reader", READER, staff=False)).get(api(page)).status_code == 200
    assert as_user().get(api(page)).status_code == 403
    settings.UPSCOPE = {**settings.UPSCOPE, "SCHEMA_PERMISSION": None}
    assert as_user().get(api(page)).status_code == 200


def external_references(html):
    return re.findall(r'(?:src|href)="(https?://[^"]*)"', html) + re.findall(
        r"url\(['\"]?(https?://[^)'\"]*)", html
    )


def test_swagger_ui_is_served_from_the_sidecar():
    response = as_user(make_user("staff")).get(api("schema-swagger-ui"))
    html = response.content.decode()
    sidecar = "/static/drf_spectacular_sidecar/swagger-ui-dist"
    assert f'<script src="{sidecar}/swagger-ui-bundle.js"' in html
    assert f'href="{sidecar}/swagger-ui.css"' in html
    assert '"/upscope/api/schema/"' in html
    assert '"validatorUrl": null' in html
    assert external_references(html) == []
    assert response["Content-Security-Policy"].startswith("default-src 'self';")


def test_redoc_is_served_from_the_sidecar_without_web_fonts():
    response = as_user(make_user("staff")).get(api("schema-redoc"))
    html = response.content.decode()
    assert (
        '<script src="/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js">' in html
    )
    assert "/upscope/api/schema/" in html
    assert "googleapis" not in html
    assert external_references(html) == []
    assert "img-src 'self' data: blob:;" in response["Content-Security-Policy"]
