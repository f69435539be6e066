"""The OpenAPI 3 schema of django-upscope's API alone (drf-spectacular, an optional extra).

:mod:`.urls` mounts ``schema/`` with :class:`UpscopeSchemaGenerator` and
:data:`SCHEMA_SETTINGS` when drf-spectacular is installed; a project can also
run ``manage.py spectacular --generator-class
django_upscope.api.openapi.UpscopeSchemaGenerator``.
"""

from __future__ import annotations

from typing import Any

from .. import __version__
from ._spectacular import HAS_SPECTACULAR
from .views import UpscopeAPIView

#: Settings for the schema view, so the project's SPECTACULAR_SETTINGS are untouched.
SCHEMA_SETTINGS: dict[str, Any] = {
    "TITLE": "django-upscope API",
    "DESCRIPTION": "Upscope co-browsing for agents' single-page apps: visitors, watch "
    'URLs, sessions and usage. Every error is `{"error": code, "detail": text}`.',
    "VERSION": __version__,
}

if HAS_SPECTACULAR:
    from drf_spectacular.generators import EndpointEnumerator, SchemaGenerator

    class UpscopeEndpointEnumerator(EndpointEnumerator):
        """Only django-upscope's own API views."""

        def should_include_endpoint(self, path: str, callback: Any) -> bool:
            view_class = getattr(callback, "cls", None)
            if view_class is None or not issubclass(view_class, UpscopeAPIView):
                return False
            return super().should_include_endpoint(path, callback)

    class UpscopeSchemaGenerator(SchemaGenerator):
        """The schema of django-upscope's API alone, wherever the project mounts it."""

        endpoint_inspector_cls = UpscopeEndpointEnumerator
