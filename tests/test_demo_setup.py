"""The example project's ``demo_setup`` command (users for ``make demo``)."""

import datetime as dt
import importlib
import itertools
import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import clear_url_caches
from django.utils import timezone

from example_project.demo_env import set_variables
from example_project.management.commands.demo_setup import Command

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db

AGENT_CODENAMES = {
    "view_visitor",
    "screenshare_visitor",
    "remote_control_visitor",
    "audio_visitor",
    "view_session",
    "view_usagesnapshot",
    "view_auditevent",
    "view_user",  # to find a customer in the User admin ('Screen share')
}


def run(*args: str) -> str:
    out = StringIO()
    call_command(Command(), *args, stdout=out)
    return out.getvalue()


def test_creates_the_demo_users(settings):
    settings.DEBUG = True
    output = run("--base-url", "http://127.0.0.1:8123/")
    users = {u.username: u for u in get_user_model().objects.all()}
    assert set(users) == {"admin", "agent", "visitor", "customer"}

    admin, agent, visitor = users["admin"], users["agent"], users["visitor"]
    assert admin.is_superuser and admin.is_staff and admin.check_password("admin")
    assert agent.is_staff and not agent.is_superuser and agent.check_password("agent")
    assert not visitor.is_staff and not visitor.is_superuser
    assert visitor.check_password("visitor")

    granted = set(agent.user_permissions.values_list("codename", flat=True))
    assert granted == AGENT_CODENAMES
    assert agent.has_perm("django_upscope.screenshare_visitor")
    assert agent.has_perm("django_upscope.remote_control_visitor")
    assert not agent.has_perm("django_upscope.remote_console_visitor")
    assert not agent.has_perm("django_upscope.delete_visitor")
    assert not visitor.has_perm("django_upscope.screenshare_visitor")
    customer = users["customer"]
    assert not customer.is_staff and customer.check_password("customer")
    assert customer.get_full_name() == "Carla Customer"

    assert "http://127.0.0.1:8123/admin/" in output
    assert "agent   / agent" in output


def test_running_again_resets_instead_of_duplicating(settings):
    settings.DEBUG = True
    run()
    user_model = get_user_model()
    agent = user_model.objects.get(username="agent")
    agent.set_password("changed")
    agent.is_staff = False
    agent.save()
    agent.user_permissions.clear()

    output = run()

    assert user_model.objects.count() == 4
    agent.refresh_from_db()
    assert agent.check_password("agent") and agent.is_staff
    assert set(agent.user_permissions.values_list("codename", flat=True)) == AGENT_CODENAMES
    assert "reset user 'agent'" in output


def test_refuses_with_debug_off_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        run()
    assert not get_user_model().objects.exists()

    run("--force")
    assert get_user_model().objects.filter(username="admin", is_superuser=True).exists()


def test_on_the_fake_it_stores_a_week_of_usage_history_once(settings):
    from django_upscope.models import UsageSnapshot

    settings.DEBUG = True
    settings.USE_FAKE_UPSCOPE = False
    run()
    assert not UsageSnapshot.objects.exists()  # never against a real Upscope

    settings.USE_FAKE_UPSCOPE = True
    output = run()
    assert "stored 28 usage snapshots of the past week" in output
    rows = list(UsageSnapshot.objects.order_by("taken_at"))
    assert len(rows) == 28
    gaps = {b.taken_at - a.taken_at for a, b in itertools.pairwise(rows)}
    assert gaps == {dt.timedelta(hours=6)}
    assert timezone.now() - rows[-1].taken_at >= dt.timedelta(hours=1)
    assert [r.visitors_online_now for r in rows[:5]] == [4, 7, 10, 13, 5]
    assert [r.sessions_today for r in rows[:5]] == [2, 4, 6, 8, 2]

    again = run()  # the history is there: nothing more is stored
    assert "usage snapshots" not in again
    assert UsageSnapshot.objects.count() == 28


# -- the links it prints lead somewhere ----------------------------------------------------


@pytest.fixture
def example_urls(settings):
    """The example project's URLconf, with the fake mounted as `make demo` has it."""
    import example_project.urls

    settings.USE_FAKE_UPSCOPE = True
    settings.ROOT_URLCONF = "example_project.urls"
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [ROOT / "example_project" / "templates"]}
    ]
    importlib.reload(example_project.urls)
    clear_url_caches()
    yield
    settings.USE_FAKE_UPSCOPE = False
    importlib.reload(example_project.urls)
    clear_url_caches()


def printed_urls(output: str) -> dict[str, str]:
    """``label: url`` of each URL line that demo_setup printed."""
    found = re.findall(r"^\s+([A-Za-z][\w ]*?):\s+(http://\S+)", output, flags=re.MULTILINE)
    return dict(found)


@pytest.mark.drf  # drives the DRF API or the example project (which installs DRF)
def test_every_printed_link_answers(settings, example_urls, client):
    settings.DEBUG = True
    output = run("--base-url", "http://127.0.0.1:8123")
    urls = printed_urls(output)
    assert set(urls) == {
        "Admin",
        "Visitors",
        "Sessions",
        "Audit trail",
        "Agent console",
        "Customer page",
        "Users",
        "Fake Upscope",
        "its cloud API",
    }
    assert urls["Agent console"] == "http://127.0.0.1:8123/console/"
    # The fake's page is where the client is pointed (UPSCOPE["API_URL"] without /v1.1).
    assert urls["Fake Upscope"] == "http://127.0.0.1:1/__upscope__/"

    client.force_login(get_user_model().objects.get(username="admin"))
    pages = {label: url for label, url in urls.items() if label != "its cloud API"}
    for label, url in pages.items():
        response = client.get(urlsplit(url).path)
        assert response.status_code == 200, (label, url, response.status_code)


def test_a_wrong_fake_link_would_be_caught(settings, example_urls, client):
    # Positive control for the test above: the old link (the API's root) is a 404.
    settings.DEBUG = True
    assert client.get("/__upscope__/v1.1/").status_code == 404
    assert client.get("/__upscope__/").status_code == 200


# -- make demo's .env: manage.py commands run by hand reach the demo's port ---------------


def test_set_variables_replaces_appends_and_keeps_the_rest(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# mine\nSECRET_KEY=abc\nUPSCOPE_FAKE_URL=http://127.0.0.1:8000/__upscope__\n"
        "export UPSCOPE_FAKE_URL=http://old\n"
    )
    set_variables(env_file, {"UPSCOPE_FAKE_URL": "http://127.0.0.1:8123/__upscope__", "X": "1"})
    assert env_file.read_text() == (
        "# mine\nSECRET_KEY=abc\nUPSCOPE_FAKE_URL=http://127.0.0.1:8123/__upscope__\nX=1\n"
    )


def test_set_variables_creates_the_file_with_a_header(tmp_path):
    env_file = tmp_path / ".env"
    set_variables(env_file, {"UPSCOPE_FAKE_URL": "http://127.0.0.1:8123/__upscope__"})
    text = env_file.read_text()
    assert text.startswith("# The example project's settings")
    assert text.endswith("\nUPSCOPE_FAKE_URL=http://127.0.0.1:8123/__upscope__\n")


def test_set_variables_refuses_a_value_on_two_lines(tmp_path):
    with pytest.raises(ValueError, match="spans lines"):
        set_variables(tmp_path / ".env", {"UPSCOPE_FAKE_URL": "http://x\nDEBUG=False"})
    assert not (tmp_path / ".env").exists()


def example_api_url(env_file: Path, **variables: str) -> str:
    """UPSCOPE["API_URL"] of the example project in a fresh process, reading ``env_file``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("UPSCOPE_") and k not in ("DEBUG", "DJANGO_SETTINGS_MODULE")
    }
    env.update(DJANGO_ENV_FILE=str(env_file), PYTHONPATH=str(ROOT), **variables)
    code = "from django.conf import settings; print(settings.UPSCOPE['API_URL'])"
    result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.drf  # drives the DRF API or the example project (which installs DRF)
def test_a_manual_command_after_the_demo_uses_the_demo_port(tmp_path):
    env_file = tmp_path / ".env"
    # What scripts/demo.sh runs for `make demo DEMO_PORT=8123`.
    subprocess.run(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "example_project.demo_env",
            str(env_file),
            "UPSCOPE_FAKE_URL=http://127.0.0.1:8123/__upscope__",
        ],
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    assert example_api_url(env_file) == "http://127.0.0.1:8123/__upscope__/v1.1"
    # The environment still wins over the file.
    assert (
        example_api_url(env_file, UPSCOPE_FAKE_URL="http://127.0.0.1:9000/__upscope__")
        == "http://127.0.0.1:9000/__upscope__/v1.1"
    )
    # Positive control: without the file, the default port.
    assert example_api_url(tmp_path / "none.env") == "http://127.0.0.1:8000/__upscope__/v1.1"


def test_demo_script_writes_the_env_file_before_anything_else():
    # The one line of scripts/demo.sh the test above stands for.
    script = (ROOT / "scripts" / "demo.sh").read_text()
    call = '"$PY" -m example_project.demo_env "$ENV_FILE" "UPSCOPE_FAKE_URL=$UPSCOPE_FAKE_URL"'
    assert call in script
    assert script.index(call) < script.index("manage migrate")
