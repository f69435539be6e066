"""The example project's User admin, with django-upscope's 'Screen share' button."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from django_upscope.admin.identity import ScreenShareMixin

User = get_user_model()

admin.site.unregister(User)


@admin.register(User)
class CustomerAwareUserAdmin(ScreenShareMixin, UserAdmin):
    """Django's User admin; a user's change page gets 'Screen share' (their visitors)."""
