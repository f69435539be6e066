"""Settings for the test suite. DATABASE_URL selects the database (default: SQLite)."""

import os
from importlib.util import find_spec

import environ

SECRET_KEY = "tests-only-secret-key"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Left out when djangorestframework is not installed (tox -e nodrf).
    *(["rest_framework"] if find_spec("rest_framework") else []),
    # Swagger UI and Redoc (api/schema/swagger-ui/, redoc/): templates and local assets.
    *(
        ["drf_spectacular", "drf_spectacular_sidecar"]
        if find_spec("drf_spectacular") and find_spec("drf_spectacular_sidecar")
        else []
    ),
    "django_upscope",
    "django_upscope.fake",
    # The Tasks framework's database backend, for the tests of django_upscope.tasks (they
    # choose it with override_settings(TASKS=...); the default stays ImmediateBackend).
    *(["django_tasks"] if find_spec("django_tasks") and not find_spec("django.tasks") else []),
    *(["django_tasks_db"] if find_spec("django_tasks_db") else []),
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tests.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": environ.Env().db_url_config(os.environ.get("DATABASE_URL", "sqlite:///:memory:"))
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "static/"
LOGIN_URL = "admin:login"

# The fake accepts keys beginning with "fake_"; tests point the client at a live server.
UPSCOPE = {
    "API_KEY": "fake_test_key",
    "API_URL": "http://127.0.0.1:1/__upscope__/v1.1",
    "FAKE_ENABLED": True,
    "RETRY_BACKOFF": 0.0,
    "TIMEOUT": 5.0,
    # Retries through get_client() (live_server threads included) record their
    # waits instead of sleeping: no test waits for real time.
    "RETRY_SLEEP": "django_upscope.testing.retry.record_sleep",
}
# The fake is deliberately on with DEBUG off here: tests are its purpose.
SILENCED_SYSTEM_CHECKS = ["django_upscope.E010"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
