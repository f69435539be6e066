"""URLs of django-upscope; mount them with ``path("upscope/", include("django_upscope.urls"))``.

The DRF endpoints are added under ``api/`` when djangorestframework is installed.
"""

from importlib.util import find_spec

from django.urls import include, path, register_converter

from . import views
from .vocabulary import SHORT_ID_RE


class ShortIdConverter:
    """A visitor's ``short_id``: anything else is a 404 before any view code runs."""

    regex = SHORT_ID_RE.pattern

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ShortIdConverter, "upscope_short_id")

app_name = "django_upscope"

urlpatterns: list = [
    # Old address of the admin's screen-share page, kept as a redirect for existing links.
    path(
        "visitors/<upscope_short_id:short_id>/screenshare/",
        views.screenshare,
        name="screenshare",
    ),
    path(
        "visitors/<upscope_short_id:short_id>/screenshare/ended/",
        views.screenshare_ended,
        name="screenshare_ended",
    ),
]

if find_spec("rest_framework") is not None:
    urlpatterns.append(path("api/", include("django_upscope.api.urls")))
