"""A project with its own AdminSite beside the default one: the URLconf of test_custom_site."""

from django.contrib import admin
from django.contrib.admin import AdminSite
from django.urls import include, path

from django_upscope.admin import (
    AgentAdmin,
    AuditEventAdmin,
    SessionAdmin,
    UsageSnapshotAdmin,
    VisitorAdmin,
)
from django_upscope.models import Agent, AuditEvent, Session, UsageSnapshot, Visitor


class SupportSite(AdminSite):
    site_header = "Support desk of Example Ltd"
    site_title = "Support desk"


support_site = SupportSite(name="support")
support_site.register(Visitor, VisitorAdmin)
support_site.register(Session, SessionAdmin)
support_site.register(Agent, AgentAdmin)
support_site.register(UsageSnapshot, UsageSnapshotAdmin)
support_site.register(AuditEvent, AuditEventAdmin)

urlpatterns = [
    # The default site first: an unqualified "admin:" name would resolve to it, not ours.
    path("admin/", admin.site.urls),
    path("support/", support_site.urls),
    path("upscope/", include("django_upscope.urls")),
    path("__upscope__/", include("django_upscope.fake.urls")),
]
