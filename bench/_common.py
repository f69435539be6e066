"""Helpers shared by the ``bench/bench_*.py`` scripts (not a benchmark itself).

Databases: ``sqlite`` means a fresh file in a temporary folder (WAL, so servers in other
processes can read while one writes); a ``postgres://`` URL means a fresh database of the
given name on that server (dropped and re-created). ``scripts/bench.sh`` exports
``PG_DATABASE_URL`` (a throwaway cluster); the scripts use it when it is set.

Servers are gunicorn subprocesses with ``gthread`` workers, which keep HTTP/1.1 connections
alive, serving :func:`counting_app`: the Django project of ``bench/_settings.py`` wrapped so
that it counts the distinct TCP connections (client address and port) its requests came
over, readable at ``GET /__bench__/connections`` (per worker process).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
SETTINGS_MODULE = "_settings"
BENCH_PASSWORD = "bench-password-not-secret"  # noqa: S105 (a throwaway local user)


# -- arguments, databases, Django ------------------------------------------------


def parser(doc: str | None) -> argparse.ArgumentParser:
    """An argument parser with ``--quick`` (a small smoke run)."""
    first = (doc or "").strip().split("\n\n")[0]
    result = argparse.ArgumentParser(
        description=first, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    result.add_argument("--quick", action="store_true", help="a small smoke run")
    return result


def database_urls(given: Sequence[str] | None) -> list[str]:
    """The databases to measure: those given, else SQLite and $PG_DATABASE_URL if set."""
    if given:
        return list(given)
    urls = ["sqlite"]
    if os.environ.get("PG_DATABASE_URL"):
        urls.append(os.environ["PG_DATABASE_URL"])
    return urls


def preferred_database(given: str | None) -> str:
    """One database: the one given, else $PG_DATABASE_URL, else SQLite."""
    return given or os.environ.get("PG_DATABASE_URL") or "sqlite"


def prepare_database(url: str, name: str, workdir: str | Path) -> str:
    """A fresh, empty database; returns its DATABASE_URL."""
    if url == "sqlite":
        path = Path(workdir) / f"{name}.sqlite3"
        options = (
            "timeout=60&init_command=PRAGMA%20journal_mode%3DWAL%3BPRAGMA%20synchronous%3DNORMAL"
        )
        import django

        if django.VERSION >= (5, 1):
            options += "&transaction_mode=IMMEDIATE"
        return f"sqlite:///{path}?{options}"
    import psycopg

    _drop(url, name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    base, _, _ = url.partition("?")[0].rpartition("/")
    return f"{base}/{name}"


def drop_database(url: str, name: str) -> None:
    """Drop a PostgreSQL database made by :func:`prepare_database` (SQLite: nothing)."""
    if url == "sqlite":
        return
    try:
        _drop(url, name)
    except Exception as exc:  # cleaning up must not hide the figures
        print(f"note: could not drop database {name}: {exc}", file=sys.stderr)


def _drop(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        try:
            # Plain DROP waits for autovacuum to leave (FORCE may not end a superuser's worker).
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
        except psycopg.errors.ObjectInUse:
            # A server of an interrupted run still connected (as our own role): end it.
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def bench_env(db_url: str, fake_url: str = "http://127.0.0.1:1/__upscope__") -> dict[str, str]:
    """The environment of this process and the servers: database, settings, fake URL."""
    path = os.pathsep.join([str(ROOT), str(BENCH_DIR), os.environ.get("PYTHONPATH", "")])
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "BENCH_FAKE_URL": fake_url,
        "PYTHONPATH": path.rstrip(os.pathsep),
    }


def setup_django(env: dict[str, str], *, migrate: bool = True) -> None:
    """Set Django up in this process with ``env`` (once per process) and migrate."""
    os.environ.update(env)
    for folder in (str(ROOT), str(BENCH_DIR)):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def staff_user(username: str = "bench") -> Any:
    """A superuser (staff, every permission) for the admin and the API."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    if user is None:
        user = user_model.objects.create_superuser(
            username,
            f"{username}@example.com",
            BENCH_PASSWORD,
            first_name="Bench",
            last_name="Agent",
        )
    return user


def db_description() -> str:
    """``sqlite 3.40.1`` or ``postgresql 15.8`` for the current connection."""
    from django.db import connection

    connection.ensure_connection()
    if connection.vendor == "sqlite":
        return "sqlite " + ".".join(map(str, connection.Database.sqlite_version_info))
    version = connection.pg_version
    return f"postgresql {version // 10000}.{version % 10000}"


# -- servers --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A gunicorn subprocess on 127.0.0.1 serving :func:`counting_app`."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        workers: int = 1,
        threads: int = 4,
        port: int | None = None,
        keep_alive: int = 5,
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers, self.threads = workers, threads
        cmd = [
            sys.executable, "-m", "gunicorn",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads),
            "--keep-alive", str(keep_alive), "--timeout", "120", "--graceful-timeout", "5",
            "--log-level", "warning", "--chdir", str(ROOT),
            "--pythonpath", f"{ROOT},{BENCH_DIR}",
            "_common:counting_app()",
        ]  # fmt: skip
        self.process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        self._wait()

    def describe(self) -> str:
        return f"gunicorn gthread, {self.workers} worker(s) x {self.threads} threads"

    def _wait(self) -> None:
        import requests

        deadline = time.monotonic() + 90
        while True:
            try:
                requests.get(f"{self.url}/__bench__/connections", timeout=2)
                return
            except requests.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"gunicorn on port {self.port} did not start") from None
                time.sleep(0.2)  # waiting for a server to start, not timing anything

    def connections(self) -> dict[str, int]:
        """Distinct connections and requests seen (one worker's count)."""
        import requests

        return dict(requests.get(f"{self.url}/__bench__/connections", timeout=10).json())

    def reset_connections(self) -> None:
        import requests

        requests.post(f"{self.url}/__bench__/reset", timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ConnectionCounter:
    """WSGI middleware: counts distinct (address, port) peers, i.e. TCP connections."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.peers: set[tuple[str, str]] = set()
        self.requests = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if path == "/__bench__/connections":
            with self.lock:
                data = {"connections": len(self.peers), "requests": self.requests}
            body = json.dumps(data).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        if path == "/__bench__/reset":
            with self.lock:
                self.peers.clear()
                self.requests = 0
            start_response("204 No Content", [])
            return [b""]
        with self.lock:
            self.peers.add((environ.get("REMOTE_ADDR", ""), environ.get("REMOTE_PORT", "")))
            self.requests += 1
        return self.app(environ, start_response)


def counting_app() -> ConnectionCounter:
    """The gunicorn entry point: ``_common:counting_app()``."""
    from django.core.wsgi import get_wsgi_application

    return ConnectionCounter(get_wsgi_application())


def logged_in_session(base_url: str, username: str = "bench") -> Any:
    """A ``requests.Session`` logged into the admin (session and CSRF cookies set)."""
    import requests

    session = requests.Session()
    login = f"{base_url}/admin/login/"
    session.get(login, timeout=30).raise_for_status()
    answer = session.post(
        login,
        data={
            "username": username,
            "password": BENCH_PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
            "next": "/admin/",
        },
        timeout=30,
        allow_redirects=False,
    )
    if answer.status_code != 302 or "sessionid" not in session.cookies:
        raise RuntimeError(f"admin login failed ({answer.status_code})")
    session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
    return session


# -- figures --------------------------------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), math.ceil(pct / 100 * len(ordered))))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p95, p99 and mean of durations in seconds, as milliseconds."""
    return {
        "p50": percentile(seconds, 50) * 1000,
        "p95": percentile(seconds, 95) * 1000,
        "p99": percentile(seconds, 99) * 1000,
        "mean": statistics.fmean(seconds) * 1000 if seconds else float("nan"),
    }


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], align: str = "") -> str:
    """A markdown table; ``align`` is one letter per column, ``l`` or ``r`` (default ``l``)."""
    marks = [("---:" if (align[i : i + 1] == "r") else "---") for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(marks) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    """One line: date, CPUs, load, Python, Django (the database is reported per table)."""
    import django

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"{now}; {os.cpu_count()} CPUs, load average {load}; "
        f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"{platform.system()} {platform.machine()}"
    )
