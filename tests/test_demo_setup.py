"""The example project's ``demo_setup`` command (users for ``make demo``)."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from example_project.management.commands.demo_setup import Command

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
