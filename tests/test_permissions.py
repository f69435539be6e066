"""Django permissions -> Upscope session permissions (django_upscope.permissions)."""

from __future__ import annotations

import itertools
import json

import pytest
import responses
from django.contrib.auth.models import Group, Permission, User
from django.test import RequestFactory

from django_upscope import permissions as perms
from django_upscope import services
from django_upscope.exceptions import UpscopeConfigurationError
from django_upscope.models import AuditEvent

from .helpers import make_user

ALL_KEYS = {
    "allow_console",
    "allow_click",
    "allow_draw",
    "allow_scroll",
    "allow_audio",
    "allow_type",
    "allow_agent_redirect",
}
# The documented matrix, written out independently of the implementation.
GRANTS = {
    "screenshare_visitor": set(),
    "remote_control_visitor": {"allow_click", "allow_type", "allow_scroll", "allow_draw"},
    "remote_console_visitor": {"allow_console"},
    "agent_redirect_visitor": {"allow_agent_redirect"},
    "audio_visitor": {"allow_audio"},
}
EXTRAS = sorted(set(GRANTS) - {"screenshare_visitor"})
ROLES = [
    frozenset(combo)
    for size in range(len(EXTRAS) + 1)
    for combo in itertools.combinations(EXTRAS, size)
]


def expected_for(codenames: set[str]) -> dict[str, bool]:
    if "screenshare_visitor" not in codenames:
        return dict.fromkeys(ALL_KEYS, False)
    on = set().union(*(GRANTS[c] for c in codenames))
    return {key: key in on for key in ALL_KEYS}


@pytest.mark.django_db
@pytest.mark.parametrize("with_screenshare", [True, False], ids=["screenshare", "no-screenshare"])
@pytest.mark.parametrize("extras", ROLES, ids=lambda r: "+".join(sorted(r)) or "none")
def test_every_role_combination(extras, with_screenshare):
    codenames = set(extras) | ({"screenshare_visitor"} if with_screenshare else set())
    user = make_user("agent", codenames)
    result = perms.session_permissions_for(user)
    assert set(result) == ALL_KEYS
    assert all(isinstance(v, bool) for v in result.values())
    assert result == expected_for(codenames)
    assert perms.can_screenshare(user) is with_screenshare


@pytest.mark.django_db
@pytest.mark.parametrize("console_setting", [False, True])
def test_superuser_gets_console_only_by_setting(settings, console_setting):
    settings.UPSCOPE = {**settings.UPSCOPE, "SUPERUSER_CONSOLE": console_setting}
    user = make_user("agent", [], superuser=True)
    result = perms.session_permissions_for(user)
    assert result == {**dict.fromkeys(ALL_KEYS, True), "allow_console": console_setting}


@pytest.mark.django_db
def test_superuser_console_stays_off_even_with_explicit_permission(settings):
    settings.UPSCOPE = {**settings.UPSCOPE, "SUPERUSER_CONSOLE": False}
    user = make_user("agent", ["remote_console_visitor", "screenshare_visitor"], superuser=True)
    assert perms.session_permissions_for(user)["allow_console"] is False


@pytest.mark.django_db
def test_inactive_user_may_do_nothing():
    user = make_user("agent", list(GRANTS), is_active=False)
    assert perms.can_screenshare(user) is False
    assert perms.session_permissions_for(user) == dict.fromkeys(ALL_KEYS, False)


@pytest.mark.django_db
def test_group_permissions_count():
    group = Group.objects.create(name="support")
    group.permissions.set(
        Permission.objects.filter(codename__in=["screenshare_visitor", "audio_visitor"])
    )
    user = make_user("agent", [])
    user.groups.add(group)
    user = User.objects.get(pk=user.pk)
    assert perms.session_permissions_for(user) == expected_for(
        {"screenshare_visitor", "audio_visitor"}
    )


def only_draw(user):
    return {"allow_draw": True}


@pytest.mark.django_db
@pytest.mark.parametrize("mapper", [only_draw, "tests.test_permissions.only_draw"])
def test_custom_mapper_replaces_mapping(settings, mapper):
    settings.UPSCOPE = {**settings.UPSCOPE, "PERMISSIONS_MAPPER": mapper}
    user = make_user("agent", list(GRANTS))
    assert perms.session_permissions_for(user) == {
        **dict.fromkeys(ALL_KEYS, False),
        "allow_draw": True,
    }


@pytest.mark.django_db
def test_custom_mapper_not_used_without_screenshare(settings):
    settings.UPSCOPE = {**settings.UPSCOPE, "PERMISSIONS_MAPPER": only_draw}
    user = make_user("agent", ["audio_visitor"])
    assert perms.session_permissions_for(user) == dict.fromkeys(ALL_KEYS, False)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("mapper", "message"),
    [
        (lambda user: {"allow_everything": True}, "unknown keys: 'allow_everything'"),
        (lambda user: {"allow_click": "yes"}, "not a bool: allow_click"),
        (lambda user: ["allow_click"], "must return a dict"),
        ("tests.test_permissions.no_such_thing", "cannot be imported"),
        (42, "must be a callable"),
    ],
)
def test_bad_mapper_is_a_clear_error(settings, mapper, message):
    settings.UPSCOPE = {**settings.UPSCOPE, "PERMISSIONS_MAPPER": mapper}
    user = make_user("agent", ["screenshare_visitor"])
    with pytest.raises(UpscopeConfigurationError, match=message) as info:
        perms.session_permissions_for(user)
    assert info.value.code == "invalid_permissions_mapper"


def test_narrow_never_widens():
    granted = {**dict.fromkeys(ALL_KEYS, False), "allow_click": True, "allow_scroll": True}
    narrowed = perms.narrow(granted, {"allow_click": False, "allow_console": True})
    assert narrowed == {**dict.fromkeys(ALL_KEYS, False), "allow_scroll": True}
    assert perms.narrow(granted, None) == granted


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "console_setting", "expected"),
    [
        *[
            (sorted(extras | {"screenshare_visitor"}), False,
             expected_for(set(extras) | {"screenshare_visitor"}))
            for extras in ROLES
        ],
        ("superuser", False, {**dict.fromkeys(ALL_KEYS, True), "allow_console": False}),
        ("superuser", True, dict.fromkeys(ALL_KEYS, True)),
        ("mapper", False, {**dict.fromkeys(ALL_KEYS, False), "allow_draw": True}),
    ],
    ids=lambda v: "+".join(v) if isinstance(v, list) else None,
)  # fmt: skip
def test_permissions_body_sent_to_upscope(settings, role, console_setting, expected):
    """What goes over the wire: all seven keys, ungranted ones false."""
    api = "http://upscope.test/v1.1"
    settings.UPSCOPE = {
        "API_KEY": "fake_key",
        "API_URL": api,
        "SUPERUSER_CONSOLE": console_setting,
        **({"PERMISSIONS_MAPPER": only_draw} if role == "mapper" else {}),
    }
    if role == "superuser":
        user = make_user("agent", [], superuser=True)
    elif role == "mapper":
        user = make_user("agent", ["screenshare_visitor", "audio_visitor"])
    else:
        user = make_user("agent", role)
    request = RequestFactory().get("/")
    request.user = user
    with responses.RequestsMock() as rsps:
        rsps.post(f"{api}/visitors/V1/watch_url.json", json={"watch_url": "https://o.upscope.io/x"})
        services.start_screenshare(services.actor_from_request(request, "admin"), "V1")
        body = json.loads(rsps.calls[0].request.body)
    assert body["permissions"] == expected


# -- migration 0004: purge_visitors -> purge_offline_visitors --------------------------------

BEFORE = [("django_upscope", "0003_visitor_recent_index")]
AFTER = [("django_upscope", "0004_purge_offline_visitors_and_audit_source")]


@pytest.mark.django_db(transaction=True)
def test_migration_renames_the_purge_permission_keeping_its_grants_and_audit_rows():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_apps = executor.loader.project_state(BEFORE).apps
    [old] = Permission.objects.filter(codename="purge_visitors")
    assert not Permission.objects.filter(codename="purge_offline_visitors").exists()
    user = User.objects.create_user("purger")
    user.user_permissions.add(old)
    group = Group.objects.create(name="cleaners")
    group.permissions.add(old)
    events = old_apps.get_model("django_upscope", "AuditEvent").objects
    events.create(action="purge_offline", outcome="success", source="admin")
    events.create(action="delete_visitor", outcome="success", source="api")

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)

    [renamed] = Permission.objects.filter(codename="purge_offline_visitors")
    assert renamed.pk == old.pk
    assert not Permission.objects.filter(codename="purge_visitors").exists()
    assert User.objects.get(pk=user.pk).has_perm(perms.PURGE)
    assert list(group.permissions.values_list("codename", flat=True)) == ["purge_offline_visitors"]
    actions = sorted(AuditEvent.objects.values_list("action", flat=True))
    assert actions == ["delete_visitor", "purge_offline_visitors"]
    # Leave the database as every later test expects it: all migrations applied (0005+ too).
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
