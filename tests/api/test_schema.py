"""The OpenAPI 3 schema (drf-spectacular): generated without warnings, valid, complete."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.settings import patched_settings
from drf_spectacular.validation import validate_schema

from django_upscope.api import schema as deprecated_schema
from django_upscope.api.openapi import SCHEMA_SETTINGS, UpscopeSchemaGenerator

from .conftest import api

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "/upscope/api"
#: operation -> the statuses it must document (besides its success).
EXPECTED_ERRORS = {
    ("get", "/visitors/"): {400, 401, 403, 404, 502, 503, 504},
    ("get", "/visitors/{short_id}/"): {400, 401, 403, 404, 501, 502, 503, 504},
    ("delete", "/visitors/{short_id}/"): {400, 401, 402, 403, 404, 501, 502, 503, 504},
    ("post", "/visitors/{short_id}/watch-url/"): {
        400,
        401,
        402,
        403,
        404,
        415,
        429,
        501,
        502,
        503,
        504,
    },
    ("delete", "/visitors/{short_id}/session/"): {400, 401, 402, 403, 404, 501, 502, 503, 504},
    ("post", "/visitors/purge/"): {401, 402, 403, 501, 502, 503, 504},
    ("get", "/usage/"): {401, 403, 501, 502, 503, 504},
    ("get", "/usage/history/"): {400, 401, 403, 404},
    ("get", "/sessions/"): {400, 401, 403, 404},
    ("get", "/lookup/users/{user_id}/"): {401, 403, 404, 502, 503, 504},
    ("get", "/lookup/code/{code}/"): {401, 403, 404, 502, 503, 504},
}
SUCCESS = {
    ("get", "/visitors/"): "200",
    ("get", "/visitors/{short_id}/"): "200",
    ("delete", "/visitors/{short_id}/"): "204",
    ("post", "/visitors/{short_id}/watch-url/"): "201",
    ("delete", "/visitors/{short_id}/session/"): "204",
    ("post", "/visitors/purge/"): "202",
    ("get", "/usage/"): "200",
    ("get", "/usage/history/"): "200",
    ("get", "/sessions/"): "200",
    ("get", "/lookup/users/{user_id}/"): "200",
    ("get", "/lookup/code/{code}/"): "200",
}


@pytest.fixture
def schema(db):
    GENERATOR_STATS.reset()
    with patched_settings(SCHEMA_SETTINGS):
        generated = UpscopeSchemaGenerator().get_schema(request=None, public=True)
    assert not GENERATOR_STATS, "drf-spectacular warned or erred while generating"
    return generated


def test_schema_is_valid_openapi_3(schema):
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")


def test_every_endpoint_and_its_errors_are_documented(schema):
    operations = {
        (method, path.removeprefix(PREFIX)): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }
    assert set(operations) == set(EXPECTED_ERRORS)
    for key, operation in operations.items():
        documented = {int(code) for code in operation["responses"] if code != SUCCESS[key]}
        assert documented == EXPECTED_ERRORS[key], key
        assert SUCCESS[key] in operation["responses"], key
        for code in documented:
            content = operation["responses"][str(code)]["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/Error"}
        assert operation["summary"] and operation["operationId"]


def test_short_id_parameter_has_the_route_pattern(schema):
    operation = schema["paths"][f"{PREFIX}/visitors/{{short_id}}/watch-url/"]["post"]
    (param,) = [p for p in operation["parameters"] if p["name"] == "short_id"]
    assert param["in"] == "path" and param["required"] is True
    assert param["schema"]["pattern"] == "^[A-Za-z0-9_-]{1,128}$"


def test_error_component_has_the_stable_shape(schema):
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"error", "detail"}


def test_management_command_validates_without_warnings(db, settings):
    assert "drf_spectacular" in settings.INSTALLED_APPS  # tests/settings.py, with the sidecar
    out = StringIO()
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--format=openapi-json",
        "--generator-class=django_upscope.api.openapi.UpscopeSchemaGenerator",
        stdout=out,
    )
    assert set(json.loads(out.getvalue())["paths"]) == {
        f"{PREFIX}{path}" for _method, path in EXPECTED_ERRORS
    }


def test_the_old_module_path_still_names_the_generator():
    # README users ran ``spectacular --generator-class django_upscope.api.schema...``.
    assert deprecated_schema.UpscopeSchemaGenerator is UpscopeSchemaGenerator
    assert deprecated_schema.SCHEMA_SETTINGS is SCHEMA_SETTINGS


def test_schema_url_serves_the_schema(admin_client):
    response = admin_client.get(api("schema"), HTTP_ACCEPT="application/vnd.oai.openapi")
    assert response.status_code == 200
    served = yaml.safe_load(response.content)
    assert served["info"]["title"] == "django-upscope API"
    assert f"{PREFIX}/visitors/{{short_id}}/watch-url/" in served["paths"]
    # Only this app's endpoints: not the schema view itself, nor the project's others.
    assert all(path.startswith(PREFIX) for path in served["paths"])
    assert f"{PREFIX}/schema/" not in served["paths"]


def test_endpoints_work_without_drf_spectacular():
    # A fresh interpreter in which drf_spectacular cannot be imported.
    script = textwrap.dedent(
        """
        import sys
        sys.modules["drf_spectacular"] = None  # import fails as if not installed
        import os
        os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
        import django
        django.setup()
        from django.core.management import call_command
        call_command("migrate", verbosity=0, run_syncdb=True)
        from django.contrib.auth.models import Permission, User
        from django.urls import NoReverseMatch, reverse
        from rest_framework.test import APIClient
        from django_upscope.api._spectacular import HAS_SPECTACULAR
        from django_upscope.testing.factories import VisitorFactory
        assert not HAS_SPECTACULAR
        try:
            reverse("django_upscope:api:schema")
        except NoReverseMatch:
            pass
        else:
            raise SystemExit("schema/ is routed without drf-spectacular")
        VisitorFactory(short_id="LOCAL1")
        user = User.objects.create_user("u")
        user.user_permissions.add(Permission.objects.get(codename="view_visitor"))
        client = APIClient()
        client.force_login(user)
        url = reverse("django_upscope:api:visitor-list")
        response = client.get(url, {"source": "local"}, HTTP_HOST="localhost")
        assert response.status_code == 200, response.content
        assert response.json()["results"][0]["short_id"] == "LOCAL1"
        response = client.get(url, {"source": "bogus"}, HTTP_HOST="localhost")
        assert response.json()["error"] == "invalid", response.content
        print("ok")
        """
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")


def test_watch_url_body_documents_ungranted_permissions_as_sent_false(schema):
    # As the README says: not an error, the permission is sent as false.
    body = json.dumps(schema["components"]["schemas"]["WatchURLRequest"])
    assert "sent as false" in body
    assert "permission_not_granted" not in body
