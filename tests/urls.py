from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("upscope/", include("django_upscope.urls")),
    path("__upscope__/", include("django_upscope.fake.urls")),
]
