"""The test URLs plus an admin site whose User admin has ScreenShareMixin."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.urls import path

from django_upscope.admin import VisitorAdmin
from django_upscope.admin.identity import ScreenShareMixin
from django_upscope.models import Visitor

from ..urls import urlpatterns as base_patterns


class IdentityUserAdmin(ScreenShareMixin, UserAdmin):
    pass


site = admin.AdminSite(name="identity_admin")
site.register(User, IdentityUserAdmin)
site.register(Visitor, VisitorAdmin)

urlpatterns = [path("identity-admin/", site.urls), *base_patterns]
