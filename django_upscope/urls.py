"""URLs of django-upscope; mount them with ``path("upscope/", include("django_upscope.urls"))``.

The DRF endpoints are added under ``api/`` when djangorestframework is installed.
"""

from importlib.util import find_spec

from django.urls import include, path

app_name = "django_upscope"

urlpatterns: list = []

if find_spec("rest_framework") is not None:
    urlpatterns.append(path("api/", include("django_upscope.api.urls")))
