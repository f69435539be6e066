"""``manage.py demo_setup``: the demo's users, with their passwords printed.

Creates (or resets) three users for clicking through the example project:

- ``admin`` / ``admin``: a superuser;
- ``agent`` / ``agent``: a staff support agent who may view the mirror and the audit trail and
  start a screen share with remote control and audio (no remote console, no redirect, no
  deleting);
- ``visitor`` / ``visitor``: an ordinary, non-staff user (refused by the admin and by the
  screen-share page).

Running it again resets the passwords and the agent's permissions. It refuses to run with
``DEBUG`` off unless ``--force`` is given: these are well-known passwords.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

# (app_label, codename) of what the demo agent is granted.
AGENT_PERMISSIONS = [
    ("django_upscope", "view_visitor"),
    ("django_upscope", "screenshare_visitor"),
    ("django_upscope", "remote_control_visitor"),
    ("django_upscope", "audio_visitor"),
    ("django_upscope", "view_session"),
    ("django_upscope", "view_usagesnapshot"),
    ("django_upscope", "view_auditevent"),
]

# username, password, is_staff, is_superuser, first name, last name
DEMO_USERS = [
    ("admin", "admin", True, True, "Ada", "Admin"),
    ("agent", "agent", True, False, "Sam", "Support"),
    ("visitor", "visitor", False, False, "Vic", "Visitor"),
]


class Command(BaseCommand):
    help = "Create or reset the demo users admin/admin, agent/agent and visitor/visitor."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="Where the project is served, for the URLs printed (default: %(default)s).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off (the passwords are public: never on a real site).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "demo_setup creates users with well-known passwords and runs only with "
                "DEBUG on (or with --force)."
            )
        permissions = self._agent_permissions()
        with transaction.atomic():
            for username, password, is_staff, is_superuser, first, last in DEMO_USERS:
                user = self._upsert_user(username, password, is_staff, is_superuser, first, last)
                if username == "agent":
                    user.user_permissions.set(permissions)
        self._print_summary(options["base_url"].rstrip("/"))

    def _agent_permissions(self) -> list[Permission]:
        wanted = {codename for _app, codename in AGENT_PERMISSIONS}
        found = list(
            Permission.objects.filter(content_type__app_label="django_upscope", codename__in=wanted)
        )
        missing = sorted(wanted - {p.codename for p in found})
        if missing:
            raise CommandError(
                "These django_upscope permissions do not exist (run 'manage.py migrate' "
                f"first): {', '.join(missing)}"
            )
        return found

    def _upsert_user(
        self,
        username: str,
        password: str,
        is_staff: bool,
        is_superuser: bool,
        first_name: str,
        last_name: str,
    ) -> Any:
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            **{user_model.USERNAME_FIELD: username},
            defaults={"email": f"{username}@example.com"},
        )
        user.is_active = True
        user.is_staff = is_staff
        user.is_superuser = is_superuser
        user.first_name = first_name
        user.last_name = last_name
        user.set_password(password)
        user.save()
        verb = "created" if created else "reset"
        self.stdout.write(f"  {verb} user {username!r}")
        return user

    def _print_summary(self, base: str) -> None:
        out = self.stdout.write
        out("")
        out(self.style.SUCCESS("Demo users (DEMO ONLY: well-known passwords)"))
        out("  admin   / admin     superuser")
        out("  agent   / agent     staff support agent: view visitors, sessions, usage and")
        out("                      the audit trail; screen share with remote control and audio")
        out("  visitor / visitor   not staff: refused by the admin and the screen-share page")
        out("")
        out(self.style.SUCCESS("URLs"))
        out(f"  Admin:           {base}/admin/")
        out(f"  Visitors:        {base}/admin/django_upscope/visitor/")
        out(f"  Sessions:        {base}/admin/django_upscope/session/")
        out(f"  Audit trail:     {base}/admin/django_upscope/auditevent/")
        out(f"  Agent console:   {base}/console/")
        if getattr(settings, "USE_FAKE_UPSCOPE", False):
            # The fake's own page (its addresses and counts), where the client is pointed.
            api_url = settings.UPSCOPE["API_URL"]
            out(f"  Fake Upscope:    {api_url.removesuffix('/v1.1')}/")
            out(f"    its cloud API: {api_url}  (key: {settings.UPSCOPE['API_KEY']})")
