"""``manage.py demo_setup``: the demo's users, with their passwords printed.

Creates (or resets) three users for clicking through the example project:

- ``admin`` / ``admin``: a superuser;
- ``agent`` / ``agent``: a staff support agent who may view the mirror and the audit trail and
  start a screen share with remote control and audio (no remote console, no redirect, no
  deleting);
- ``visitor`` / ``visitor``: an ordinary, non-staff user (refused by the admin and by the
  screen-share page);
- ``customer`` / ``customer``: a demo customer (Carla Customer, not staff) who logs in at
  ``/account/login/`` and opens the account page, which identifies her visitor to Upscope.
  The agent may view users, to find her in the User admin and press 'Screen share'.

On the embedded fake (``USE_FAKE_UPSCOPE``), it also stores a week of made-up usage snapshots
(every 6 hours, the same figures on every run), so the usage page's chart has a history on
day one; the fake's seeded sessions give the session reports theirs. It does so only while no
snapshot older than an hour exists, and never against a real Upscope.

Running it again resets the passwords and the agent's permissions. It refuses to run with
``DEBUG`` off unless ``--force`` is given: these are well-known passwords.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from django_upscope import mirror
from django_upscope.models import UsageSnapshot
from django_upscope.resources import Usage

# (app_label, codename) of what the demo agent is granted.
AGENT_PERMISSIONS = [
    ("django_upscope", "view_visitor"),
    ("django_upscope", "screenshare_visitor"),
    ("django_upscope", "remote_control_visitor"),
    ("django_upscope", "audio_visitor"),
    ("django_upscope", "view_session"),
    ("django_upscope", "view_usagesnapshot"),
    ("django_upscope", "view_auditevent"),
    # To find a customer in the User admin and press 'Screen share'.
    ("auth", "view_user"),
]

#: The made-up usage history: this many snapshots, this far apart, up to an hour ago.
USAGE_HISTORY_SNAPSHOTS = 28
USAGE_HISTORY_STEP = dt.timedelta(hours=6)

# username, password, is_staff, is_superuser, first name, last name
DEMO_USERS = [
    ("admin", "admin", True, True, "Ada", "Admin"),
    ("agent", "agent", True, False, "Sam", "Support"),
    ("visitor", "visitor", False, False, "Vic", "Visitor"),
    ("customer", "customer", False, False, "Carla", "Customer"),
]


class Command(BaseCommand):
    help = (
        "Create or reset the demo users admin/admin, agent/agent, visitor/visitor and "
        "customer/customer."
    )

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
            if getattr(settings, "USE_FAKE_UPSCOPE", False):
                self._seed_usage_history()
        self._print_summary(options["base_url"].rstrip("/"))

    def _agent_permissions(self) -> list[Permission]:
        wanted = set(AGENT_PERMISSIONS)
        candidates = Permission.objects.filter(
            content_type__app_label__in={app for app, _codename in wanted},
            codename__in={codename for _app, codename in wanted},
        ).select_related("content_type")
        found = [p for p in candidates if (p.content_type.app_label, p.codename) in wanted]
        missing = sorted(
            f"{app}.{codename}"
            for app, codename in wanted - {(p.content_type.app_label, p.codename) for p in found}
        )
        if missing:
            raise CommandError(
                "These permissions do not exist (run 'manage.py migrate' "
                f"first): {', '.join(missing)}"
            )
        return found

    def _seed_usage_history(self) -> None:
        """Store :data:`USAGE_HISTORY_SNAPSHOTS` snapshots (the same figures every time)."""
        latest = timezone.now().replace(minute=0, second=0, microsecond=0)
        if UsageSnapshot.objects.filter(taken_at__lt=latest - dt.timedelta(hours=1)).exists():
            return
        for i in range(USAGE_HISTORY_SNAPSHOTS):
            taken_at = latest - USAGE_HISTORY_STEP * (USAGE_HISTORY_SNAPSHOTS - i)
            mirror.record_usage(demo_usage(i), taken_at=taken_at)
        self.stdout.write(f"  stored {USAGE_HISTORY_SNAPSHOTS} usage snapshots of the past week")

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
        out("  customer / customer a demo customer: log in at /account/login/, open /account/")
        out("")
        out(self.style.SUCCESS("URLs"))
        out(f"  Admin:           {base}/admin/")
        out(f"  Visitors:        {base}/admin/django_upscope/visitor/")
        out(f"  Sessions:        {base}/admin/django_upscope/session/")
        out(f"  Audit trail:     {base}/admin/django_upscope/auditevent/")
        out(f"  Agent console:   {base}/console/")
        out(f"  Customer page:   {base}/account/  (log in as customer)")
        out(f"  Users:           {base}/admin/auth/user/  ('Screen share' on a user's page)")
        if getattr(settings, "USE_FAKE_UPSCOPE", False):
            # The fake's own page (its addresses and counts), where the client is pointed.
            api_url = settings.UPSCOPE["API_URL"]
            out(f"  Fake Upscope:    {api_url.removesuffix('/v1.1')}/")
            out(f"    its cloud API: {api_url}  (key: {settings.UPSCOPE['API_KEY']})")


def demo_usage(i: int) -> Usage:
    """The made-up usage figures of the ``i``-th snapshot: a daily rhythm, slowly growing."""
    online = 4 + (i % 4) * 3 + i // 4
    sessions = 2 + (i % 4) * 2 + i // 7
    agents = 1 + (i % 4 + i // 7) % 3
    return Usage.from_payload(
        {
            "usage": {
                "visitors": {
                    "online_now": online,
                    "last_24_hrs": online * 12,
                    "last_30_days": online * 250,
                },
                "agents": {"today": agents, "last_30_days": agents + 3},
                "session_counts": {
                    "now": i % 3,
                    "today": sessions,
                    "last_30_days": sessions * 20,
                },
                "session_seconds": {"today": sessions * 300, "last_30_days": sessions * 6000},
            }
        }
    )
