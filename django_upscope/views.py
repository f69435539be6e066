"""The pages of django-upscope that live outside the admin.

- ``screenshare_ended``: where Upscope sends the agent when a session ends. It is
  opened inside the watch iframe, so unlike the admin's pages it may be framed (by
  our own origin), and agents of the REST API, who need not be staff, may see it.
- ``screenshare``: the old address of the screen-share page
  (``upscope/visitors/<short_id>/screenshare/``), kept for links in tickets and
  e-mails; it redirects to the page inside the default admin site.

The screen-share page itself and its stop endpoint are views of
:class:`django_upscope.admin.VisitorAdmin`.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.sites import AdminSite, all_sites
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods

from .models import Visitor

#: The query parameter naming the admin site the ended page links back to.
ADMIN_SITE_PARAM = "admin_site"


def _admin_site(name: str | None) -> AdminSite:
    """The admin site called ``name`` that has the visitor admin, else the default site."""
    for site in all_sites:
        if name and site.name == name and site.is_registered(Visitor):
            return site
    return admin.site


def _site_url(site: AdminSite, page: str, *args: str) -> str | None:
    """A URL of ``site`` (``login``, ``django_upscope_visitor_change``...), None if unmounted."""
    try:
        return reverse(f"{site.name}:{page}", args=args, current_app=site.name)
    except NoReverseMatch:
        return None


@require_GET
@xframe_options_sameorigin
def screenshare_ended(request: HttpRequest, short_id: str) -> HttpResponse:
    """Where Upscope sends the agent when a session ends (``branding.on_end_url``).

    The watch page navigates *inside the iframe*, so this page may be framed by
    our own origin (the admin's pages may not), and its links open in the top
    window. It reveals nothing, so any logged-in agent may see it (agents of the
    REST API need not be staff); the links into the admin (of the site named by
    ``?admin_site=``, else the default site) are for staff only.
    """
    site = _admin_site(request.GET.get(ADMIN_SITE_PARAM))
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), _site_url(site, "login"))
    staff = request.user.is_active and request.user.is_staff
    context = {"short_id": short_id, "visitor_admin_url": None, "screenshare_url": None}
    if staff:
        context["visitor_admin_url"] = _site_url(site, "django_upscope_visitor_change", short_id)
        context["screenshare_url"] = _site_url(site, "django_upscope_visitor_screenshare", short_id)
    response = render(request, "django_upscope/screenshare_ended.html", context)
    add_never_cache_headers(response)
    response["Referrer-Policy"] = "no-referrer"
    response["Content-Security-Policy"] = "frame-ancestors 'self'"
    return response


@require_http_methods(["GET", "HEAD"])
def screenshare(request: HttpRequest, short_id: str) -> HttpResponse:
    """The old address of the screen-share page: a redirect to the default admin site's page.

    The browser keeps ``Sec-Fetch-Site`` across the redirect, so a link from another
    site still gets the confirmation button there.
    """
    url = _site_url(admin.site, "django_upscope_visitor_screenshare", short_id)
    if url is None:
        raise Http404("The admin's screen-share page is not mounted.")
    return HttpResponseRedirect(url)
