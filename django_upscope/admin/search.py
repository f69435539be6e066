"""The visitor list's search: Upscope's syntax on the mirror, and "Search Upscope live".

:class:`UpscopeSearchMixin` goes on the visitor ModelAdmin. Its search box reads
Upscope's tokens (``online``, ``#tag``, ``ip:…``; see
:mod:`django_upscope.mirror.search`) and leaves the free text to the admin's own
search over ``search_fields``. Its live-search page sends the same query to Upscope
through :func:`django_upscope.services.search_visitors` (which mirrors what Upscope
found) and sends the agent back to the list, showing exactly those visitors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import services
from ..conf import upscope_settings
from ..exceptions import UpscopeError
from ..mirror import search
from ..models import Visitor
from .common import admin_url, error_text

#: The admin's search parameter (``django.contrib.admin.views.main.SEARCH_VAR``).
SEARCH_VAR = "q"


def _with_params(url: str, params: dict[str, str]) -> str:
    return f"{url}?{urlencode(params)}" if params else url


if TYPE_CHECKING:
    _Base = admin.ModelAdmin
else:
    _Base = object


class UpscopeSearchMixin(_Base):
    """Upscope's search syntax in the changelist, and the live-search page."""

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Visitor], search_term: str
    ) -> tuple[QuerySet[Visitor], bool]:
        """Upscope's tokens filter the mirror; the free text left over is searched in
        ``search_fields`` as the admin always did."""
        parsed = search.parse(search_term)
        queryset = queryset.filter(parsed.token_filter())
        return super().get_search_results(request, queryset, parsed.free_text())

    def search_live_url(self, request: HttpRequest) -> str:
        """The "Search Upscope live" link for the changelist's current query."""
        query = request.GET.get(SEARCH_VAR, "")
        return _with_params(admin_url(self, "search_live"), {SEARCH_VAR: query} if query else {})

    def search_live_view(self, request: HttpRequest) -> HttpResponse:
        """Run the query against Upscope, mirror the answer, list what it found."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        query = request.GET.get(SEARCH_VAR, "").strip()
        changelist = admin_url(self, "changelist")
        back = _with_params(changelist, {SEARCH_VAR: query} if query else {})
        try:
            found = services.search_visitors(query or None)
        except UpscopeError as exc:
            self.message_user(
                request, _("The live search failed. %s") % error_text(exc), messages.ERROR
            )
            return HttpResponseRedirect(back)
        if not found:
            self.message_user(
                request, _("Upscope found no visitor for this search."), messages.INFO
            )
            return HttpResponseRedirect(back)
        text = ngettext(
            "Upscope found %(count)d visitor; it is listed here.",
            "Upscope found %(count)d visitors; they are listed here.",
            len(found),
        ) % {"count": len(found)}
        if not upscope_settings.MIRROR_READ_THROUGH:
            text += " " + _(
                "MIRROR_READ_THROUGH is off, so only those already in the mirror are shown."
            )
        self.message_user(request, text, messages.SUCCESS)
        ids = ",".join(visitor.short_id for visitor in found)
        return HttpResponseRedirect(_with_params(changelist, {"short_id__in": ids}))
