from django.apps import AppConfig


class UpscopeFakeConfig(AppConfig):
    """The embedded fake Upscope (app label ``upscope_fake``)."""

    name = "django_upscope.fake"
    label = "upscope_fake"
    verbose_name = "Upscope (embedded fake)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import (
            checks,  # noqa: F401  (registers django_upscope.E010)
            log_filters,
        )

        # runserver's access log would print every watch token (a bearer secret).
        log_filters.install()
