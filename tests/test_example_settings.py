"""The example project's settings (example_project/settings.py), run as a user runs them.

Each test starts ``manage.py`` or a script in a subprocess with DJANGO_SETTINGS_MODULE set to
``example_project.settings``, an environment of its own (no Upscope variable, DEBUG or .env
leaking in from the machine) and a throwaway SQLite file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# The example project installs DRF (its API and console): no test here runs without it.
pytestmark = pytest.mark.drf

ROOT = Path(__file__).resolve().parent.parent
LEAKY = ("DEBUG", "DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ENV_FILE", "SECRET_KEY")


def example_env(tmp_path: Path, **variables: str) -> dict[str, str]:
    """The process environment for the example project, with only ``variables`` set."""
    env = {k: v for k, v in os.environ.items() if k not in LEAKY and not k.startswith("UPSCOPE_")}
    env.update(
        DJANGO_SETTINGS_MODULE="example_project.settings",
        DJANGO_ENV_FILE=str(tmp_path / "no.env"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        PYTHONPATH=str(ROOT),
    )
    env.update(variables)
    return env


def manage(tmp_path: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=example_env(tmp_path, **variables),
        capture_output=True,
        text=True,
        timeout=120,
    )


# -- manage.py check sees what the environment gave ---------------------------------------

MISCONFIGURED = {
    # DEBUG off and no key: not configured (W001), not a quiet fallback to the fake.
    "debug-off-no-key": ({"DEBUG": "False"}, "django_upscope.W001"),
    "cloud-and-on-premise": (
        {
            "UPSCOPE_API_KEY": "cloud-key",
            "UPSCOPE_BASE_ENDPOINT": "https://support.example.com/cobrowsing",
            "UPSCOPE_REST_KEY": "rest-key",
        },
        "django_upscope.E001",
    ),
    "cloud-url-and-on-premise": (
        {
            "UPSCOPE_API_URL": "https://eu.api.upscope.io/v1.1",
            "UPSCOPE_BASE_ENDPOINT": "https://support.example.com/cobrowsing",
            "UPSCOPE_REST_KEY": "rest-key",
        },
        "django_upscope.E001",
    ),
    "rest-key-without-base-endpoint": ({"UPSCOPE_REST_KEY": "rest-key"}, "django_upscope.E006"),
}


@pytest.mark.parametrize("case", sorted(MISCONFIGURED))
def test_check_fails_on_a_misconfiguration(tmp_path, case):
    variables, check_id = MISCONFIGURED[case]
    # W001 is a warning: --fail-level WARNING makes it fail the command, as a CI would.
    result = manage(tmp_path, "check", "--fail-level", "WARNING", **variables)
    assert result.returncode != 0, result.stdout + result.stderr
    assert check_id in result.stderr


@pytest.mark.parametrize("case", ["cloud-and-on-premise", "rest-key-without-base-endpoint"])
def test_errors_fail_check_without_a_fail_level(tmp_path, case):
    variables, check_id = MISCONFIGURED[case]
    result = manage(tmp_path, "check", **variables)
    assert result.returncode != 0
    assert check_id in result.stderr


# The example's account page uses {% upscope_snippet %}: a complete configuration gives the
# public key and the installation's script URL too (else W020 says the tag renders nothing).
SNIPPET = {
    "UPSCOPE_PUBLIC_API_KEY": "public-key",
    "UPSCOPE_SNIPPET_URL": "https://code.upscope.example/installation.js",
}
POSITIVE = {
    "the-demo": {},  # DEBUG on, nothing given: the embedded fake
    "cloud": {"DEBUG": "False", "UPSCOPE_API_KEY": "cloud-key", **SNIPPET},
    "on-premise": {
        "DEBUG": "False",
        "UPSCOPE_BASE_ENDPOINT": "https://support.example.com/cobrowsing",
        "UPSCOPE_REST_KEY": "rest-key",
        **SNIPPET,
    },
}


def test_a_configuration_without_the_snippet_keys_is_warned_about(tmp_path):
    # Control for SNIPPET above: the same cloud configuration without them gets W020.
    result = manage(
        tmp_path, "check", "--fail-level", "WARNING", DEBUG="False", UPSCOPE_API_KEY="cloud-key"
    )
    assert result.returncode != 0
    assert "django_upscope.W020" in result.stdout + result.stderr


@pytest.mark.parametrize("case", sorted(POSITIVE))
def test_check_passes_a_complete_configuration(tmp_path, case):
    result = manage(tmp_path, "check", "--fail-level", "WARNING", **POSITIVE[case])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


SHOW_UPSCOPE = (
    "import json; from django.conf import settings; "
    "print(json.dumps({'upscope': settings.UPSCOPE, 'fake': settings.USE_FAKE_UPSCOPE}))"
)


def upscope_of(tmp_path: Path, **variables: str) -> dict:
    result = manage(tmp_path, "shell", "--no-imports", "-c", SHOW_UPSCOPE, **variables)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    if "upscope" in shown:
        # The example's own choices for its worker, not variables handed over: a sync every
        # minute, and (on the fake, which purges after 2 s) a purge reconciled soon after.
        assert shown["upscope"].pop("SYNC_INTERVAL") == 60
        if shown["fake"]:
            assert shown["upscope"].pop("PURGE_RECONCILE_DELAY") == 5
    return shown


def test_the_variables_are_handed_over_as_given(tmp_path):
    given = MISCONFIGURED["cloud-and-on-premise"][0]
    assert upscope_of(tmp_path, **given) == {
        "upscope": {
            "API_KEY": "cloud-key",
            "BASE_ENDPOINT": "https://support.example.com/cobrowsing",
            "REST_KEY": "rest-key",
        },
        "fake": False,
    }


def test_the_fake_only_with_debug_on_and_nothing_given(tmp_path):
    assert upscope_of(tmp_path) == {
        "upscope": {
            "API_KEY": "fake_demo_key",
            "API_URL": "http://127.0.0.1:8000/__upscope__/v1.1",
            # The account page's snippet, on the fake's stand-in loader.
            "PUBLIC_API_KEY": "fake_public_key",
            "SNIPPET_URL": "http://127.0.0.1:8000/__upscope__/sdk/loader.js",
        },
        "fake": True,
    }
    assert upscope_of(tmp_path, DEBUG="False") == {"upscope": {}, "fake": False}


# -- SQLite with two writers at once -------------------------------------------------------

WRITERS = r"""
import json, sys, threading

import example_project.settings as example

if sys.argv[1] == "deferred":  # the negative control: Django's default transaction mode
    del example.DATABASES["default"]["OPTIONS"]["transaction_mode"]

import django
django.setup()
from django.db import OperationalError, connection, transaction

with connection.cursor() as c:
    c.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
    c.execute("INSERT INTO counter VALUES (1, 0)")
    journal = c.execute("PRAGMA journal_mode").fetchone()[0]
    busy = c.execute("PRAGMA busy_timeout").fetchone()[0]
connection.close()
errors = []


def increment():
    # Read, then write, in one transaction: what get_or_create and the mirror's upserts do.
    with transaction.atomic(), connection.cursor() as c:
        (n,) = c.execute("SELECT n FROM counter WHERE id = 1").fetchone()
        c.execute("UPDATE counter SET n = %s WHERE id = 1", [n + 1])


def stress(start):
    start.wait()
    try:
        for _ in range(100):
            increment()
    except OperationalError as exc:
        errors.append(str(exc))
    finally:
        connection.close()


def stale_reader(read, written):
    # Reads (a snapshot), lets the other thread write and commit, then writes itself.
    try:
        with transaction.atomic(), connection.cursor() as c:
            c.execute("SELECT n FROM counter WHERE id = 1").fetchone()
            read.set()
            written.wait()
            c.execute("UPDATE counter SET n = n + 1 WHERE id = 1")
    except OperationalError as exc:
        errors.append(str(exc))
    finally:
        connection.close()


def writer(read, written):
    read.wait()
    try:
        increment()
    finally:
        written.set()
        connection.close()


if sys.argv[1] == "stress":
    start = threading.Barrier(2)
    threads = [threading.Thread(target=stress, args=(start,)) for _ in range(2)]
else:
    read, written = threading.Event(), threading.Event()
    threads = [
        threading.Thread(target=stale_reader, args=(read, written)),
        threading.Thread(target=writer, args=(read, written)),
    ]
for t in threads:
    t.start()
for t in threads:
    t.join()
with connection.cursor() as c:
    (n,) = c.execute("SELECT n FROM counter WHERE id = 1").fetchone()
print(json.dumps({"errors": errors, "n": n, "journal": journal, "busy_timeout": busy}))
"""


def run_writers(tmp_path: Path, mode: str) -> dict:
    script = tmp_path / "writers.py"
    script.write_text(WRITERS)
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(script), mode],
        cwd=ROOT,
        env=example_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    if "upscope" in shown:
        # The example's own choices for its worker, not variables handed over: a sync every
        # minute, and (on the fake, which purges after 2 s) a purge reconciled soon after.
        assert shown["upscope"].pop("SYNC_INTERVAL") == 60
        if shown["fake"]:
            assert shown["upscope"].pop("PURGE_RECONCILE_DELAY") == 5
    return shown


def test_two_writers_at_once_never_see_database_is_locked(tmp_path):
    outcome = run_writers(tmp_path, "stress")
    assert outcome["errors"] == []
    assert outcome["n"] == 200  # and no update was lost
    assert outcome["journal"] == "wal"
    assert outcome["busy_timeout"] == 20_000


def test_negative_control_deferred_transactions_are_locked_out(tmp_path):
    # Without transaction_mode IMMEDIATE, a transaction that read before another one wrote
    # cannot write at all: SQLite refuses at once, whatever the busy timeout.
    outcome = run_writers(tmp_path, "deferred")
    assert outcome["errors"] == ["database is locked"]
    assert outcome["n"] == 1  # only the other thread's write went through
