from django.apps import AppConfig


class UpscopeConfig(AppConfig):
    name = "django_upscope"
    verbose_name = "Upscope"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, identity_checks  # noqa: F401  (registers the system checks)
