"""The OpenAPI 3 schema of django-upscope's API alone (drf-spectacular, an optional extra).

:mod:`.urls` mounts ``schema/`` (:class:`UpscopeSchemaView`) when drf-spectacular
is installed, and its pages ``schema/swagger-ui/`` and ``schema/redoc/`` when
drf-spectacular-sidecar is installed too: Swagger UI and Redoc from the sidecar's
static files, never from a CDN (the servers this runs on may have no internet).
Who may read them is ``UPSCOPE["SCHEMA_PERMISSION"]`` (:class:`SchemaReaders`).
A project can also run ``manage.py spectacular --generator-class
django_upscope.api.openapi.UpscopeSchemaGenerator``.
"""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any

from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from .. import __version__
from ..conf import import_callable
from ._spectacular import HAS_SPECTACULAR
from .views import UpscopeAPIView

#: Swagger UI and Redoc are served only from drf-spectacular-sidecar's static files.
HAS_SIDECAR = HAS_SPECTACULAR and find_spec("drf_spectacular_sidecar") is not None

#: The Content-Security-Policy of the Swagger UI and Redoc pages: this site only (their
#: inline start-up scripts and styles, and Redoc's blob: worker, included). Redoc's
#: bundle shows a logo from cdn.redoc.ly that no option turns off; this keeps it out.
LOCAL_ONLY_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' blob:; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'self'"
)

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


class SchemaReaders(BasePermission):
    """Who may read the schema and its pages: the DRF permission class named by
    ``UPSCOPE["SCHEMA_PERMISSION"]`` (read on each request; ``None``: anyone)."""

    def _permission(self) -> BasePermission:
        permission_class = import_callable("SCHEMA_PERMISSION") or AllowAny
        permission: BasePermission = permission_class()
        return permission

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(self._permission().has_permission(request, view))


if HAS_SPECTACULAR:
    from drf_spectacular.views import SpectacularAPIView

    class UpscopeSchemaView(SpectacularAPIView):
        """``schema/``: the schema of this API, for :class:`SchemaReaders`."""

        permission_classes = [SchemaReaders]
        generator_class = UpscopeSchemaGenerator
        custom_settings = SCHEMA_SETTINGS


if HAS_SIDECAR:
    from django.templatetags.static import static
    from drf_spectacular.settings import spectacular_settings
    from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

    def sidecar(path: str) -> str:
        """The static URL of one of drf-spectacular-sidecar's files."""
        return static(f"drf_spectacular_sidecar/{path}")

    class UpscopeSwaggerView(SpectacularSwaggerView):
        """``schema/swagger-ui/``: Swagger UI from the sidecar, whatever the project's
        ``SPECTACULAR_SETTINGS`` say about CDNs."""

        permission_classes = [SchemaReaders]
        url_name = "django_upscope:api:schema"
        title = str(SCHEMA_SETTINGS["TITLE"])

        @staticmethod
        def _swagger_ui_resource(filename: str) -> str:
            return sidecar(f"swagger-ui-dist/{filename}")

        @staticmethod
        def _swagger_ui_favicon() -> str:
            return sidecar("swagger-ui-dist/favicon-32x32.png")

        def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:
            response = super().get(request, *args, **kwargs)
            # Swagger UI's default validator is an image from validator.swagger.io.
            ui_settings = spectacular_settings.SWAGGER_UI_SETTINGS
            if isinstance(ui_settings, dict):
                response.data["settings"] = self._dump({**ui_settings, "validatorUrl": None})
            response["Content-Security-Policy"] = LOCAL_ONLY_CSP
            return response

    class UpscopeRedocView(SpectacularRedocView):
        """``schema/redoc/``: Redoc from the sidecar, without the web fonts of
        drf-spectacular's template (they come from Google)."""

        permission_classes = [SchemaReaders]
        url_name = "django_upscope:api:schema"
        title = str(SCHEMA_SETTINGS["TITLE"])
        template_name = "django_upscope/api/redoc.html"

        @staticmethod
        def _redoc_standalone() -> str:
            return sidecar("redoc/bundles/redoc.standalone.js")

        def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:
            response = super().get(request, *args, **kwargs)
            response["Content-Security-Policy"] = LOCAL_ONLY_CSP
            return response
