"""Search and filter inputs of the admin's lists: capped and checked, so that staff get a
clear message, never a server error.

What used to fail, and where:

- a search of many words: Django ORs every word over every search field, and SQLite stops at
  an expression depth of 1000 ("Expression tree is too large"); PostgreSQL runs it, slowly;
- one very long word or filter value: SQLite refuses a ``LIKE`` pattern over 50,000 bytes
  ("LIKE or GLOB pattern too complex"); PostgreSQL refuses a NUL character in any string;
- a lookup the list does not offer, or a value it cannot use (``?short_id__regex=(``,
  ``?last_seen_at__year=99999``): Django's misleading "Database error" page, a 400, or a
  500 when the database (or Python's ``datetime``) refuses the value while the list is built;
- a date drill-down to the year 9999: Django computes the end of that year, which
  ``datetime`` cannot hold.

Each is answered by a redirect to the list without the offending parameters and a message
saying what was removed.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.contrib.admin.options import IS_POPUP_VAR, TO_FIELD_VAR
from django.contrib.admin.views.main import (
    ALL_VAR,
    ERROR_FLAG,
    ORDER_VAR,
    PAGE_VAR,
    SEARCH_VAR,
)
from django.db import DatabaseError, router, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.text import smart_split
from django.utils.translation import gettext as _

logger = logging.getLogger("django_upscope.admin")

#: At most this many words in one search (each is ORed over every search field).
MAX_SEARCH_TERMS = 20
#: At most this many characters in one search word.
MAX_SEARCH_TERM_LENGTH = 100
#: At most this many characters in one filter value.
MAX_FILTER_LENGTH = 500
#: The last year a date drill-down may show: Django computes the end of the chosen year.
MAX_DRILL_DOWN_YEAR = dt.MAXYEAR - 1
#: Django 5.0's facet switch (``IS_FACETS_VAR``, absent from Django 4.2).
IS_FACETS_VAR = "_facets"
#: Parameters of the list itself (not filters): kept when filters are removed.
LIST_PARAMS = frozenset(
    {ORDER_VAR, PAGE_VAR, ALL_VAR, IS_FACETS_VAR, IS_POPUP_VAR, TO_FIELD_VAR, ERROR_FLAG}
)

#: What building a list raises when a filter's value is unusable (see the module's doc).
UNUSABLE_INPUT_ERRORS = (DatabaseError, ValueError, OverflowError, DisallowedModelAdminLookup)


def _redirect_without(request: HttpRequest, drop: set[str]) -> HttpResponseRedirect:
    kept = [
        (key, value)
        for key, values in request.GET.lists()
        if key not in drop and key != ERROR_FLAG
        for value in values
    ]
    return HttpResponseRedirect(request.path + (f"?{urlencode(kept)}" if kept else ""))


def _search_problem(query: str) -> str | None:
    terms = list(smart_split(query))
    if len(terms) > MAX_SEARCH_TERMS:
        return _("Search for at most %(count)d words at a time; the search was not run.") % {
            "count": MAX_SEARCH_TERMS
        }
    if "\x00" in query:  # PostgreSQL refuses a NUL in any string
        return _("The search holds a character that cannot be searched; it was not run.")
    if any(len(term) > MAX_SEARCH_TERM_LENGTH for term in terms):
        return _(
            "Each search word may be at most %(count)d characters; the search was not run."
        ) % {"count": MAX_SEARCH_TERM_LENGTH}
    return None


def _drill_down_problem(date_field: str | None, request: HttpRequest) -> set[str]:
    """The drill-down parameters to remove when their year is past the last one shown."""
    if not date_field:
        return set()
    year = request.GET.get(f"{date_field}__year", "")
    if not (year.isascii() and year.isdigit()) or int(year) <= MAX_DRILL_DOWN_YEAR:
        return set()  # not a number: Django refuses it, and the guard below answers
    return {f"{date_field}__{part}" for part in ("year", "month", "day")}


class ListInputGuard:
    """Check a changelist's search and filters first; answer unusable ones with a message.

    Only GET requests are checked: an action's POST keeps the list's query string as it was.
    """

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        parent: Any = super()
        if request.method not in ("GET", "HEAD"):
            return parent.changelist_view(request, extra_context)
        refused = self._refuse_inputs(request)
        if refused is not None:
            return refused
        suspects = {key for key in request.GET if key not in LIST_PARAMS}
        if not suspects:
            return parent.changelist_view(request, extra_context)
        model = self.model  # type: ignore[attr-defined]
        try:
            # A savepoint, so a refused query leaves a request's transaction usable.
            with transaction.atomic(using=router.db_for_read(model)):
                response = parent.changelist_view(request, extra_context)
                if hasattr(response, "render"):
                    response.render()  # the list's queries run here, inside the savepoint
        except UNUSABLE_INPUT_ERRORS as exc:
            logger.warning("Filters %s of a list refused: %r", sorted(suspects), exc)
            return self._unusable(request, suspects)
        # Django's own answer to a lookup it refused: a redirect to its "Database error" page.
        if isinstance(response, HttpResponseRedirect) and response["Location"] == (
            f"{request.path}?{ERROR_FLAG}=1"
        ):
            return self._unusable(request, suspects)
        return response

    def _refuse_inputs(self, request: HttpRequest) -> HttpResponse | None:
        """A redirect (with a message) when a search or filter is over its limit, else None."""
        problem = _search_problem(request.GET.get(SEARCH_VAR, ""))
        if problem is not None:
            self._warn(request, problem)
            return _redirect_without(request, {SEARCH_VAR})
        filters = [(key, values) for key, values in request.GET.lists() if key != SEARCH_VAR]
        too_long = sorted(
            key for key, values in filters if any(len(v) > MAX_FILTER_LENGTH for v in values)
        )
        for key in too_long:
            self._warn(
                request,
                _("The filter “%(name)s” is longer than %(count)d characters; it was removed.")
                % {"name": key, "count": MAX_FILTER_LENGTH},
            )
        with_nul = sorted(key for key, values in filters if any("\x00" in v for v in values))
        for key in with_nul:
            self._warn(
                request,
                _("The filter “%(name)s” holds a character that cannot be used; it was removed.")
                % {"name": key},
            )
        if too_long or with_nul:
            return _redirect_without(request, {*too_long, *with_nul})
        drill_down = _drill_down_problem(getattr(self, "date_hierarchy", None), request)
        if drill_down:
            self._warn(
                request,
                _(
                    "Dates can be drilled down to the year %(year)d at the latest; the date "
                    "filter was removed."
                )
                % {"year": MAX_DRILL_DOWN_YEAR},
            )
            return _redirect_without(request, drill_down)
        return None

    def _unusable(self, request: HttpRequest, suspects: set[str]) -> HttpResponseRedirect:
        names = ", ".join(f"“{name}”" for name in sorted(suspects))
        self._warn(
            request,
            _("This list cannot be filtered by %(names)s with that value; the filter was removed.")
            % {"names": names},
        )
        return _redirect_without(request, suspects)

    def _warn(self, request: HttpRequest, text: str) -> None:
        self.message_user(request, text, messages.WARNING)  # type: ignore[attr-defined]
