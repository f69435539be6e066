"""Settings of the example project, read from the environment with django-environ.

The Upscope variables are handed to ``UPSCOPE`` exactly as given (an empty variable counts as
not given), so the library's system checks judge them: both cloud and on-premise variables are
``django_upscope.E001``, a REST key without a base endpoint ``django_upscope.E006``, and no
credentials at all the warning ``django_upscope.W001``.

With no Upscope variable set and DEBUG on, the project runs on the embedded fake Upscope
(django_upscope.fake), mounted at /__upscope__/. With DEBUG off the fake is never used.
"""

import os
from importlib.util import find_spec
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env(
    DEBUG=(bool, True),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost"]),
    UPSCOPE_API_KEY=(str, ""),
    UPSCOPE_API_URL=(str, ""),
    UPSCOPE_BASE_ENDPOINT=(str, ""),
    UPSCOPE_REST_KEY=(str, ""),
    UPSCOPE_FAKE_URL=(str, "http://127.0.0.1:8000/__upscope__"),
    UPSCOPE_PUBLIC_API_KEY=(str, ""),
    UPSCOPE_SNIPPET_URL=(str, ""),
)
# `make demo DEMO_PORT=...` writes UPSCOPE_FAKE_URL here, so that manage.py commands run by
# hand afterwards reach the demo's server. Variables set in the environment win over the file.
ENV_FILE = Path(os.environ.get("DJANGO_ENV_FILE", BASE_DIR / ".env"))
if ENV_FILE.is_file():
    environ.Env.read_env(ENV_FILE)

DEBUG = env("DEBUG")
SECRET_KEY = env("SECRET_KEY", default="django-insecure-example-project-only")
ALLOWED_HOSTS = env("ALLOWED_HOSTS")

# UPSCOPE key -> the environment variable it comes from.
UPSCOPE_VARIABLES = {
    "API_KEY": "UPSCOPE_API_KEY",
    "API_URL": "UPSCOPE_API_URL",
    "BASE_ENDPOINT": "UPSCOPE_BASE_ENDPOINT",
    "REST_KEY": "UPSCOPE_REST_KEY",
}
UPSCOPE_GIVEN = {key: env(name) for key, name in UPSCOPE_VARIABLES.items() if env(name)}

# The fake is for development only: with DEBUG off, nothing given means "not configured"
# (W001), never a quiet fallback to the fake's URL and key.
USE_FAKE_UPSCOPE = DEBUG and not UPSCOPE_GIVEN

if USE_FAKE_UPSCOPE:
    UPSCOPE = {
        "API_KEY": "fake_demo_key",
        "API_URL": env("UPSCOPE_FAKE_URL").rstrip("/") + "/v1.1",
    }
else:
    UPSCOPE = dict(UPSCOPE_GIVEN)

# The visitor side ({% upscope_snippet %} on the account page): the public key and the
# loader of the installation code. On the fake: its stand-in loader.
if USE_FAKE_UPSCOPE:
    UPSCOPE["PUBLIC_API_KEY"] = "fake_public_key"
    UPSCOPE["SNIPPET_URL"] = env("UPSCOPE_FAKE_URL").rstrip("/") + "/sdk/loader.js"
else:
    # Handed over as given, like the variables above (absent stays absent).
    for _key in ("PUBLIC_API_KEY", "SNIPPET_URL"):
        if env(f"UPSCOPE_{_key}"):
            UPSCOPE[_key] = env(f"UPSCOPE_{_key}")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    # /upscope/api/schema/swagger-ui/ and redoc/ (the spectacular extra): templates, local assets.
    *(
        ["drf_spectacular", "drf_spectacular_sidecar"]
        if find_spec("drf_spectacular") and find_spec("drf_spectacular_sidecar")
        else []
    ),
    "django_upscope",
    # The example project is an app of its own for its management commands (demo_setup).
    "example_project",
]
if USE_FAKE_UPSCOPE:
    INSTALLED_APPS.append("django_upscope.fake")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "example_project" / "templates"],
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

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# SQLite with several writers at once (the demo's threaded runserver: the fake's request log,
# the mirror, the audit trail, two agents): without these, a read-then-write transaction
# fails at once with "database is locked". IMMEDIATE takes the write lock at BEGIN, so a
# second writer waits (up to `timeout` seconds) instead of failing; WAL lets readers go on
# while one connection writes.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {**SQLITE_OPTIONS, **DATABASES["default"].get("OPTIONS", {})}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

LOGIN_URL = "admin:login"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django_upscope": {"handlers": ["console"], "level": "INFO"}},
}

# -- Background work (django_upscope.tasks) -----------------------------------------------
# The database backend of Django's Tasks framework; `make demo` runs `manage.py db_worker`
# beside the server. The mirror refreshes itself every UPSCOPE_SYNC_INTERVAL seconds.
INSTALLED_APPS += ["django_tasks", "django_tasks_db"]
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
UPSCOPE["SYNC_INTERVAL"] = env.float("UPSCOPE_SYNC_INTERVAL", default=60.0)
if USE_FAKE_UPSCOPE:
    # The fake purges after FAKE_PURGE_DELAY (2 s): reconcile soon after.
    UPSCOPE["PURGE_RECONCILE_DELAY"] = 5.0
# -- end of background work ----------------------------------------------------------------
