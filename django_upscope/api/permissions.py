"""DRF permission classes on the same Django permissions as the admin.

The API is for agents working in a single-page app, who need not have admin
access: it requires an authenticated user holding the Django permission of each
operation, and not ``is_staff``. Projects wanting staff only add
``rest_framework.permissions.IsAdminUser`` in a subclass of the views.

=========================================  ==========================================
operation                                  Django permission
=========================================  ==========================================
read visitors (live and mirror)            ``django_upscope.view_visitor``
mint a watch URL, stop a session           ``django_upscope.screenshare_visitor``
delete a visitor                           ``django_upscope.delete_visitor``
purge offline visitors                     ``django_upscope.purge_offline_visitors``
usage (current and history)                ``django_upscope.view_usagesnapshot``
sessions                                   ``django_upscope.view_session``
=========================================  ==========================================

The names are the constants of :mod:`django_upscope.permissions` (``VIEW_VISITOR``,
``SCREENSHARE``, ``DELETE``, ``PURGE``, ``VIEW_USAGE``, ``VIEW_SESSION``).
The Upscope *session* permissions of a minted watch URL (remote control, console,
audio...) come from :func:`django_upscope.permissions.session_permissions_for`.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission


class HasUpscopePermission(BasePermission):
    """An authenticated user holding the view's ``required_permissions[method]``.

    Views declare ``required_permissions = {"GET": (VIEW_VISITOR,), ...}``; HEAD
    follows GET. A method the view does not declare is let through for an
    authenticated user, so DRF answers 405 rather than a misleading 403.
    """

    message = "You do not have permission to perform this action."
    code = "permission_denied"

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        required: dict[str, tuple[str, ...]] = getattr(view, "required_permissions", {})
        method = "GET" if request.method == "HEAD" else request.method
        if method not in required:
            return True
        return user.has_perms(required[method])
