"""URLs of django-upscope; mount them with ``path("upscope/", include("django_upscope.urls"))``."""

from django.urls import path  # noqa: F401

app_name = "django_upscope"

urlpatterns: list = []
