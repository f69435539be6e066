"""Settings of the worker processes the tests start (``db_worker``, ``rqworker``, ``shell``).

The test suite's settings, plus a task backend and a database of their own:

- ``UPSCOPE_WORKER_DB``: the database URL (a file SQLite, or a PostgreSQL database);
- ``UPSCOPE_WORKER_API_URL``: the fake Upscope the test serves (its live server);
- ``UPSCOPE_WORKER_BACKEND``: ``db`` (default) or ``rq``; ``UPSCOPE_WORKER_REDIS``: the
  Redis URL for ``rq``;
- ``UPSCOPE_WORKER_SYNC_INTERVAL``: ``UPSCOPE["SYNC_INTERVAL"]`` (unset: off);
- ``UPSCOPE_WORKER_SYNC_CONCURRENCY``: ``UPSCOPE["SYNC_CONCURRENCY"]`` (the test's own).
"""

import os

import environ

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS, UPSCOPE

DATABASES = {"default": environ.Env().db_url_config(os.environ["UPSCOPE_WORKER_DB"])}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Two workers and a shell write at once: wait for the lock instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}

BACKEND = os.environ.get("UPSCOPE_WORKER_BACKEND", "db")
INSTALLED_APPS = [*INSTALLED_APPS]  # the suite's already has the Tasks framework apps
if BACKEND == "rq":
    INSTALLED_APPS.append("django_rq")
    RQ_QUEUES = {"default": {"URL": os.environ["UPSCOPE_WORKER_REDIS"]}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Long enough for a listing the two-workers test holds back until it releases it.
UPSCOPE = {**UPSCOPE, "API_URL": os.environ["UPSCOPE_WORKER_API_URL"], "TIMEOUT": 60.0}
if os.environ.get("UPSCOPE_WORKER_SYNC_CONCURRENCY"):
    UPSCOPE["SYNC_CONCURRENCY"] = int(os.environ["UPSCOPE_WORKER_SYNC_CONCURRENCY"])
if os.environ.get("UPSCOPE_WORKER_SYNC_INTERVAL"):
    UPSCOPE["SYNC_INTERVAL"] = float(os.environ["UPSCOPE_WORKER_SYNC_INTERVAL"])
