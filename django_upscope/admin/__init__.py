"""The Django admin for the mirror, the audit trail and Upscope's usage.

Mirror rows are written only by :mod:`django_upscope.sync`, so every model here
is read-only; what changes Upscope (delete, purge, refresh, stop a session)
goes through :mod:`django_upscope.services` in admin actions, each audited.
A local-only delete is never offered: a visitor leaves the mirror only once
Upscope confirmed.

The ModelAdmins are registered on Django's default site here; a project with its
own :class:`~django.contrib.admin.AdminSite` may register them there too: every
page, link and login redirect (the screen-share page included) follows the site
it is registered on.
"""

from django.contrib import admin

from ..models import Agent, AuditEvent, Session, UsageSnapshot, Visitor
from .audit import AuditEventAdmin
from .charts import usage_chart
from .common import ReadOnlyMixin
from .session import AgentAdmin, SessionAdmin, SessionInline
from .usage import UsageSnapshotAdmin
from .visitor import VisitorAdmin

__all__ = [
    "AgentAdmin",
    "AuditEventAdmin",
    "ReadOnlyMixin",
    "SessionAdmin",
    "SessionInline",
    "UsageSnapshotAdmin",
    "VisitorAdmin",
    "usage_chart",
]

admin.site.register(Visitor, VisitorAdmin)
admin.site.register(Session, SessionAdmin)
admin.site.register(Agent, AgentAdmin)
admin.site.register(UsageSnapshot, UsageSnapshotAdmin)
admin.site.register(AuditEvent, AuditEventAdmin)
