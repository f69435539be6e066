"""The tasks run by real worker processes: ``manage.py db_worker`` (on SQLite, or on
PostgreSQL when DATABASE_URL names a cluster) and an RQ worker on a real ``redis-server``.

The workers get a database of their own (``worker_settings``); the fake Upscope they talk to
is the test's live server, so the test injects faults and reads what the fake received.
Every wait is a bounded poll of a process or of the database, never a fixed sleep.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 120.0


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-m", "django", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _shell(env: dict[str, str], code: str) -> Any:
    """Run ``code`` in the worker project; it prints one JSON value, returned here."""
    out = _run(["shell", "-c", code], env)
    return json.loads(out.strip().splitlines()[-1])


def _wait_for(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def worker_db(tmp_path_factory) -> Iterator[str]:
    """A migrated database for the worker processes: a file SQLite, or a fresh database on
    the PostgreSQL cluster of DATABASE_URL."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield f"sqlite:///{tmp_path_factory.mktemp('workers') / 'workers.sqlite3'}"
        return
    import environ
    import psycopg

    config = environ.Env.db_url_config(url)
    name = f"upscope_workers_{uuid.uuid4().hex[:8]}"
    admin = {
        "host": config["HOST"],
        "port": config["PORT"] or 5432,
        "user": config["USER"],
        "password": config["PASSWORD"],
        "dbname": "postgres",
    }
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def migrated(worker_db) -> str:
    env = {**os.environ, **_env(worker_db, "http://127.0.0.1:1/__upscope__/v1.1")}
    _run(["migrate", "--no-input", "-v", "0"], env)
    return worker_db


def _env(db: str, api_url: str, **extra: str) -> dict[str, str]:
    from django.conf import settings

    env = {
        "DJANGO_SETTINGS_MODULE": "tests.tasks.worker_settings",
        "UPSCOPE_WORKER_DB": db,
        "UPSCOPE_WORKER_API_URL": api_url,
        **extra,
    }
    # The workers sync from the fake on this test's live server: they fetch as concurrently
    # as it can serve (the upscope_fake fixture says 1 on an in-memory SQLite database).
    concurrency = settings.UPSCOPE.get("SYNC_CONCURRENCY")
    if concurrency is not None:
        env["UPSCOPE_WORKER_SYNC_CONCURRENCY"] = str(concurrency)
    return env


RESET = (
    "from django_upscope.models import Visitor, SyncState; "
    "from django_tasks_db.models import DBTaskResult; "
    "Visitor.objects.all().delete(); SyncState.objects.all().delete(); "
    "DBTaskResult.objects.all().delete(); print(0)"
)
COUNT = (
    "import json; from django_upscope.models import Visitor, SyncState; "
    "s = SyncState.objects.filter(name='sync_mirror').first(); "
    "print(json.dumps([sorted(Visitor.objects.values_list('short_id', flat=True)), "
    "s.ok if s else None]))"
)
RESULTS = (
    "import json; from django_tasks_db.models import DBTaskResult; "
    "print(json.dumps(sorted([r.status, (r.return_value or {}).get('status')] "
    "for r in DBTaskResult.objects.all())))"
)


@pytest.fixture
def worker(migrated, upscope_fake) -> dict[str, str]:
    """The environment of a worker process pointed at this test's fake, its db emptied."""
    env = {**os.environ, **_env(migrated, upscope_fake.api_url)}
    _shell(env, RESET)
    return env


def _db_worker(env: dict[str, str]) -> subprocess.Popen:
    args = ["db_worker", "--batch", "--no-startup-delay", "--no-reload", "--interval", "0.1"]
    return subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-m", "django", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_enqueue_then_db_worker_batch_fills_the_mirror(worker, upscope_fake):
    ids = upscope_fake.seed(5, seed=7)
    _run(
        ["shell", "-c", "from django_upscope.tasks import sync_mirror; sync_mirror.enqueue()"],
        worker,
    )
    assert _shell(worker, COUNT) == [[], None]  # queued, not run
    _run(["db_worker", "--batch", "--no-startup-delay", "--no-reload"], worker)
    assert _shell(worker, COUNT) == [sorted(ids), True]
    assert _shell(worker, RESULTS) == [["SUCCESSFUL", "ok"]]


def test_two_workers_started_at_once_run_one_sync(worker, upscope_fake):
    from django_upscope.fake import wire

    ids = upscope_fake.seed(3, seed=8)
    # The first sync's listing is held back until this test lets it go.
    upscope_fake.fail("list", delay=DEADLINE, times=1)
    _shell(
        worker,
        "from django_upscope.tasks import sync_mirror; "
        "sync_mirror.enqueue(); sync_mirror.enqueue(); print(0)",
    )
    workers = [_db_worker(worker), _db_worker(worker)]
    try:
        # One worker holds the lease inside the held listing; the other finds the sync
        # already running, says so, and exits (nothing left to do).
        _wait_for(lambda: any(p.poll() is not None for p in workers), "one worker to finish")
        assert len(upscope_fake.requests("list")) == 1
        wire.settle()
        for process in workers:
            process.wait(timeout=DEADLINE)
    finally:
        for process in workers:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert [p.returncode for p in workers] == [0, 0]
    assert len(upscope_fake.requests("list")) == 1
    assert _shell(worker, RESULTS) == [["SUCCESSFUL", "already_running"], ["SUCCESSFUL", "ok"]]
    assert _shell(worker, COUNT) == [sorted(ids), True]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A private redis-server on 127.0.0.1 (free port, no persistence), stopped after."""
    binary = os.environ.get("REDIS_SERVER") or shutil.which("redis-server")
    if not binary:
        pytest.fail("redis-server not found: run scripts/ensure_redis.sh", pytrace=False)
    import redis

    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - Debian's redis-server, fixed arguments
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=port)

    def up() -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    try:
        _wait_for(up, "redis-server to answer")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=30)


def test_sync_mirror_on_rq(worker, upscope_fake, redis_url):
    ids = upscope_fake.seed(4, seed=9)
    env = {**worker, "UPSCOPE_WORKER_BACKEND": "rq", "UPSCOPE_WORKER_REDIS": redis_url}
    result_id = _shell(
        env,
        "import json; from django_upscope.tasks import sync_mirror; "
        "print(json.dumps(sync_mirror.enqueue().id))",
    )
    assert _shell(env, COUNT) == [[], None]
    _run(["rqworker", "default", "--burst", "--job-class", "django_tasks_rq.Job"], env)
    assert _shell(env, COUNT) == [sorted(ids), True]
    status = _shell(
        env,
        "import json; from django_upscope.tasks import sync_mirror; "
        f"r = sync_mirror.get_result({result_id!r}); "
        "print(json.dumps([r.status, r.return_value['created']]))",
    )
    assert status == ["SUCCESSFUL", 4]
