"""Visitor search, as Upscope's search box documents it (``docs/upscope-api.md``, "Search syntax").

Tokens are separated by spaces (double quotes keep a phrase together) and
all must match:

- ``online`` / ``-online``: connected now, or not;
- ``ip:1.2.3.4``: the IP address;
- ``id:<unique_id>``: the unique id set by the site;
- a four-digit number: the lookup code;
- ``#tag``: a tag;
- ``integration_id:<name>:<id>``: the visitor's id in a chat integration;
- anything else: free text over identities (names, e-mails), unique_id,
  short_id and last URL.

An empty query lists the latest visitors. Upscope has no pagination; the fake
answers at most :data:`MAX_RESULTS` visitors, latest first.
"""

from __future__ import annotations

import re

from django.db.models import Prefetch, Q, QuerySet

from .models import FakeSession, FakeVisitor

MAX_RESULTS = 100
TOKEN_RE = re.compile(r'"([^"]*)"|(\S+)')
LOOKUP_CODE_RE = re.compile(r"\d{4}")


def tokens(query: str | None) -> list[str]:
    """Split a query into tokens; ``"a phrase"`` stays one token."""
    if not query:
        return []
    found = []
    for quoted, bare in TOKEN_RE.findall(query):
        token = (quoted if quoted else bare).strip()
        if token:
            found.append(token)
    return found


def token_filter(token: str) -> Q:
    """The condition one token puts on visitors."""
    lowered = token.lower()
    if lowered == "online":
        return Q(is_online=True)
    if lowered == "-online":
        return Q(is_online=False)
    if lowered.startswith("ip:") and len(token) > 3:
        return Q(ip_address=token[3:])
    if lowered.startswith("id:") and len(token) > 3:
        return Q(unique_id=token[3:])
    if lowered.startswith("integration_id:"):
        name, _, value = token[len("integration_id:") :].partition(":")
        if name and value:
            return Q(integration_ids_text__contains=f" {name.lower()}:{value.lower()} ")
    if LOOKUP_CODE_RE.fullmatch(token):
        return Q(lookup_code=token)
    if token.startswith("#") and len(token) > 1:
        return Q(tags_text__contains=f" {lowered} ")
    return Q(search_text__contains=lowered)


def search(query: str | None, *, online_only: bool = False) -> QuerySet[FakeVisitor]:
    """Visitors matching ``query``, latest first, at most :data:`MAX_RESULTS`."""
    condition = Q()
    for token in tokens(query):
        condition &= token_filter(token)
    if online_only:
        condition &= Q(is_online=True)
    sessions = FakeSession.objects.order_by("-started_at", "-id").prefetch_related("agents")
    return (
        FakeVisitor.objects.filter(condition)
        .order_by("-last_seen_at", "short_id")
        .prefetch_related(Prefetch("sessions", queryset=sessions))[:MAX_RESULTS]
    )
