from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("upscope/", include("django_upscope.urls")),
    # The example agent console (example_project/templates/console.html).
    path("console/", views.console, name="console"),
    path("console/login/", views.ConsoleLoginView.as_view(), name="console-login"),
    path("console/logout/", views.ConsoleLogoutView.as_view(), name="console-logout"),
    # The customer side: a fake account page with {% upscope_snippet %} (views.account).
    path("account/", views.account, name="account"),
    path("account/login/", views.AccountLoginView.as_view(), name="account-login"),
    path("account/logout/", views.AccountLogoutView.as_view(), name="account-logout"),
]

if getattr(settings, "USE_FAKE_UPSCOPE", False):
    urlpatterns.append(path("__upscope__/", include("django_upscope.fake.urls")))
