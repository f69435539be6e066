"""Helpers shared by the whole suite (not a test module)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Permission, User


def make_user(
    username: str = "agent",
    codenames: Iterable[str] = (),
    *,
    staff: bool = True,
    superuser: bool = False,
    **fields: Any,
) -> User:
    """A user holding ``codenames`` (permissions of the ``django_upscope`` app).

    The user is read back from the database, so Django's permission cache is empty
    and ``has_perm`` sees exactly what was granted.
    """
    user = User.objects.create_user(
        username, password="pw", is_staff=staff, is_superuser=superuser, **fields
    )
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="django_upscope", codename__in=list(codenames)
        )
    )
    return User.objects.get(pk=user.pk)
