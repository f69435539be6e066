"""Settings of the example project, read from the environment with django-environ.

With neither UPSCOPE_API_KEY nor UPSCOPE_BASE_ENDPOINT set, the project runs on
the embedded fake Upscope (django_upscope.fake), mounted at /__upscope__/.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env(
    DEBUG=(bool, True),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost"]),
    UPSCOPE_API_KEY=(str, ""),
    UPSCOPE_API_URL=(str, "https://api.upscope.io/v1.1"),
    UPSCOPE_BASE_ENDPOINT=(str, ""),
    UPSCOPE_REST_KEY=(str, ""),
    UPSCOPE_FAKE_URL=(str, "http://127.0.0.1:8000/__upscope__"),
    UPSCOPE_PUBLIC_API_KEY=(str, ""),
    UPSCOPE_SNIPPET_URL=(str, ""),
)
environ.Env.read_env(BASE_DIR / ".env") if (BASE_DIR / ".env").exists() else None

DEBUG = env("DEBUG")
SECRET_KEY = env("SECRET_KEY", default="django-insecure-example-project-only")
ALLOWED_HOSTS = env("ALLOWED_HOSTS")

USE_FAKE_UPSCOPE = not env("UPSCOPE_API_KEY") and not env("UPSCOPE_BASE_ENDPOINT")

if USE_FAKE_UPSCOPE:
    UPSCOPE = {
        "API_KEY": "fake_demo_key",
        "API_URL": env("UPSCOPE_FAKE_URL").rstrip("/") + "/v1.1",
    }
elif env("UPSCOPE_BASE_ENDPOINT"):
    UPSCOPE = {
        "BASE_ENDPOINT": env("UPSCOPE_BASE_ENDPOINT"),
        "REST_KEY": env("UPSCOPE_REST_KEY") or None,
    }
else:
    UPSCOPE = {"API_KEY": env("UPSCOPE_API_KEY"), "API_URL": env("UPSCOPE_API_URL")}

# The visitor side ({% upscope_snippet %} on the account page): the public key and the
# loader of the installation code. On the fake: its stand-in loader.
if USE_FAKE_UPSCOPE:
    UPSCOPE["PUBLIC_API_KEY"] = "fake_public_key"
    UPSCOPE["SNIPPET_URL"] = env("UPSCOPE_FAKE_URL").rstrip("/") + "/sdk/loader.js"
else:
    UPSCOPE["PUBLIC_API_KEY"] = env("UPSCOPE_PUBLIC_API_KEY") or None
    UPSCOPE["SNIPPET_URL"] = env("UPSCOPE_SNIPPET_URL") or None

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
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
