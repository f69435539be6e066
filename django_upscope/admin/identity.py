"""From a customer to their screen: the 'Screen share' button and 'Screen share by code'.

- :class:`ScreenShareMixin` adds a 'Screen share' button to the change page of a
  project's own ModelAdmin (the User admin, a Customer admin...). It finds the visitors
  the page's snippet identified as that object (:func:`django_upscope.lookup.find_by_identity`):
  one online, the screen-share page; several, a chooser (online first, with last seen and
  last URL); none, "this customer is not on the site right now" with the last time they
  were seen.
- :func:`lookup_code_urls` gives the visitor admin a 'Screen share by code' page: the agent
  types the four-digit code the customer reads out and lands on that visitor's share page.

Every page is a view of the admin site the ModelAdmin is registered on; the share page is
that site's ``django_upscope_visitor_screenshare``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import select_template
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from .. import permissions as perms
from ..exceptions import UpscopeError
from ..identity import IdentityAdapter
from ..lookup import VisitorLookup, find_by_code, find_by_identity, valid_code
from ..presentation import describe
from .capabilities import SHARE, can_share, not_offered_page

SCREENSHARE_URL_NAME = "django_upscope_visitor_screenshare"
BY_CODE_URL_NAME = "django_upscope_visitor_screenshare_by_code"
CHOOSER_TEMPLATE = "django_upscope/identity/chooser.html"
BY_CODE_TEMPLATE = "django_upscope/identity/by_code.html"
CHANGE_FORM_TEMPLATE = "django_upscope/identity/change_form.html"


def share_url(site: admin.AdminSite, short_id: str) -> str:
    """The screen-share page of visitor ``short_id`` on ``site`` (else the default site)."""
    for name in dict.fromkeys((site.name, admin.site.name)):
        try:
            return reverse(f"{name}:{SCREENSHARE_URL_NAME}", args=[short_id], current_app=name)
        except NoReverseMatch:
            continue
    raise NoReverseMatch("The visitor admin (VisitorAdmin) is not registered on any admin site.")


def _may_lookup(request: HttpRequest) -> bool:
    user = request.user
    return perms.can_screenshare(user) and user.has_perm(perms.VIEW_VISITOR)


def _outcome_page(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    lookup: VisitorLookup | None = None,
    error: UpscopeError | None = None,
) -> HttpResponse:
    """One match: a redirect to its share page; otherwise ``template`` with the result."""
    site = model_admin.admin_site
    if lookup is not None and lookup.outcome == "one":
        return HttpResponseRedirect(share_url(site, lookup.matches[0].short_id))
    request.current_app = site.name
    full = {**site.each_context(request), "opts": model_admin.model._meta, **context}
    status = 200
    if lookup is not None:
        full["lookup"] = lookup
        full["choices"] = [
            {"visitor": visitor, "url": share_url(site, visitor.short_id)}
            for visitor in lookup.visitors
        ]
    if error is not None:
        description = describe(error)
        full["error"] = {"title": description.title, "text": description.explanation}
        full["error_code"] = error.code
        status = description.status
    return TemplateResponse(request, template, full, status=status)


class ScreenShareMixin:
    """Adds 'Screen share' to a ModelAdmin's change page (put it before ``ModelAdmin``).

    ``upscope_identity_adapter``: how an object maps to the identity the snippet sent
    (:class:`~django_upscope.identity.IdentityAdapter`); ``None`` for users. A Customer
    admin whose customers have a ``user`` uses
    :class:`~django_upscope.identity.RelatedUserAdapter`.
    """

    upscope_identity_adapter: IdentityAdapter | None = None

    def _upscope_info(self) -> str:
        opts = self.model._meta  # type: ignore[attr-defined]
        return f"{opts.app_label}_{opts.model_name}"

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view  # type: ignore[attr-defined]
        return [
            path(
                "<path:object_id>/upscope-screenshare/",
                wrap(never_cache(self.upscope_screenshare_view)),
                name=f"{self._upscope_info()}_upscope_screenshare",
            ),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> Any:
        response = super().render_change_form(  # type: ignore[misc]
            request, context, add=add, change=change, form_url=form_url, obj=obj
        )
        if obj is None or add or not _may_lookup(request) or not can_share():
            return response
        # The button goes into the change page the ModelAdmin would render anyway.
        names = response.template_name
        parent = select_template([names] if isinstance(names, str) else list(names))
        site = self.admin_site.name  # type: ignore[attr-defined]
        response.context_data["upscope_parent_template"] = parent.template
        response.context_data["upscope_screenshare_url"] = reverse(
            f"{site}:{self._upscope_info()}_upscope_screenshare",
            args=[obj.pk],
            current_app=site,
        )
        response.template_name = CHANGE_FORM_TEMPLATE
        return response

    def upscope_screenshare_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """One online match: its share page; several: a chooser; none: a message."""
        model_admin: Any = self
        obj = model_admin.get_object(request, unquote(object_id))
        if obj is None:
            return model_admin._get_obj_does_not_exist_redirect(
                request, model_admin.model._meta, object_id
            )
        if not model_admin.has_view_or_change_permission(request, obj) or not _may_lookup(request):
            raise PermissionDenied
        if not can_share():
            return not_offered_page(model_admin, request, SHARE)
        context = {
            "title": _("Screen share: %(name)s") % {"name": self._display_name(obj)},
            "subject": self._display_name(obj),
            "original": obj,
            "change_url": reverse(
                f"{model_admin.admin_site.name}:{self._upscope_info()}_change",
                args=[obj.pk],
                current_app=model_admin.admin_site.name,
            ),
        }
        try:
            lookup = find_by_identity(obj, self.upscope_identity_adapter)
        except UpscopeError as exc:
            return _outcome_page(model_admin, request, CHOOSER_TEMPLATE, context, error=exc)
        return _outcome_page(model_admin, request, CHOOSER_TEMPLATE, context, lookup)

    def _display_name(self, obj: Any) -> str:
        adapter = self.upscope_identity_adapter
        if adapter is not None:
            return adapter.display_name(obj)
        name = getattr(obj, "get_full_name", lambda: "")() or ""
        return name.strip() or str(obj)


def lookup_code_urls(model_admin: admin.ModelAdmin) -> list[Any]:
    """The 'Screen share by code' page, for the visitor admin's ``get_urls()``."""

    def view(request: HttpRequest) -> HttpResponse:
        return lookup_code_view(model_admin, request)

    wrap = model_admin.admin_site.admin_view
    return [path("screenshare-by-code/", wrap(never_cache(view)), name=BY_CODE_URL_NAME)]


def lookup_code_view(model_admin: admin.ModelAdmin, request: HttpRequest) -> HttpResponse:
    """The agent types the customer's four-digit code; one online match: its share page."""
    if not _may_lookup(request):
        raise PermissionDenied
    if not can_share():
        return not_offered_page(model_admin, request, SHARE)
    code = request.GET.get("code", "").strip()
    context: dict[str, Any] = {
        "title": _("Screen share by code"),
        "code": code,
        "changelist_url": reverse(
            f"{model_admin.admin_site.name}:django_upscope_visitor_changelist",
            current_app=model_admin.admin_site.name,
        ),
    }
    if not code:
        return _outcome_page(model_admin, request, BY_CODE_TEMPLATE, context)
    if not valid_code(code):
        context["invalid"] = True
        return _outcome_page(model_admin, request, BY_CODE_TEMPLATE, context)
    try:
        lookup = find_by_code(code)
    except UpscopeError as exc:
        return _outcome_page(model_admin, request, BY_CODE_TEMPLATE, context, error=exc)
    return _outcome_page(model_admin, request, BY_CODE_TEMPLATE, context, lookup)
