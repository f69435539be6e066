"""Upscope's search syntax on the mirror (``docs/upscope-api.md``, "Search syntax").

The admin's search box and the REST API's ``source=local`` search read a query as
Upscope's own search box does, and filter ``models.Visitor`` rows with it. Words are
split as the Django admin splits them (quotes keep a phrase together) and every
word must match:

========================== ==================================================
``online`` / ``-online``   ``is_online`` true / false
``#tag``                   a tag, without regard to case (``tags_text``)
``ip:1.2.3.4``             ``ip_address``, exactly
``id:<unique_id>``         ``unique_id``, exactly
a four-digit number        ``lookup_code``, exactly
an e-mail address          one of the ``identities``, without regard to case
``integration_id:name:id`` ``integration`` is ``name`` (see below)
anything else, or quoted   free text: contained in any of :data:`FREE_TEXT_FIELDS`
========================== ==================================================

Upscope's visitor object does not carry the visitor's integration ids (only the
``integration`` detected), so on the mirror ``integration_id:intercom:42`` finds
the visitors whose integration is ``intercom``, whatever their id there; a live
search (:func:`django_upscope.services.search_visitors`) matches the id too.
A token without its value (``ip:``, ``#``) is free text.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import and_, or_

from django.db.models import Q, QuerySet
from django.utils.text import smart_split, unescape_string_literal

from .. import models
from ..vocabulary import (
    EMAIL_RE,
    INTEGRATION_ID_RE,
    LOOKUP_CODE_RE,
    SEARCH_ID_PREFIX,
    SEARCH_INTEGRATION_PREFIX,
    SEARCH_IP_PREFIX,
    SEARCH_OFFLINE,
    SEARCH_ONLINE,
    SEARCH_TAG_PREFIX,
)

#: The columns free text is looked for in (``icontains``): the admin's ``search_fields``.
FREE_TEXT_FIELDS: tuple[str, ...] = (
    "short_id",
    "identities_text",
    "unique_id",
    "lookup_code",
    "ip_address",
)


@dataclass(frozen=True)
class Token:
    """One word of a query: its ``kind`` (``text`` for free text) and its value."""

    kind: str
    value: str


@dataclass(frozen=True)
class ParsedQuery:
    """A query split into Upscope's tokens and the free-text words left over."""

    tokens: tuple[Token, ...]
    words: tuple[str, ...]

    def token_filter(self) -> Q:
        """The condition of the tokens (not the free text); ``Q()`` when there are none."""
        return reduce(and_, (condition(token) for token in self.tokens), Q())

    def text_filter(self, fields: tuple[str, ...] = FREE_TEXT_FIELDS) -> Q:
        """Each free-text word contained in one of ``fields`` (as the admin searches)."""
        return reduce(and_, (_contained(word, fields) for word in self.words), Q())

    def free_text(self) -> str:
        """The free-text words as a search term again (phrases quoted), for the admin."""
        return " ".join(f'"{word}"' if " " in word else word for word in self.words)


def _words(query: str) -> list[tuple[str, bool]]:
    """``(word, was_quoted)`` pairs, split the way the Django admin splits its search."""
    found = []
    for bit in smart_split(query):
        quoted = bit[0] in "\"'" and len(bit) > 1 and bit[0] == bit[-1]
        word = unescape_string_literal(bit) if quoted else bit
        if word:
            found.append((word, quoted))
    return found


def token_of(word: str) -> Token:
    """The token ``word`` stands for (``kind="text"`` when it is free text)."""
    lowered = word.lower()
    if lowered == SEARCH_ONLINE:
        return Token("online", "")
    if lowered == SEARCH_OFFLINE:
        return Token("offline", "")
    for prefix, kind in ((SEARCH_IP_PREFIX, "ip"), (SEARCH_ID_PREFIX, "id")):
        if lowered.startswith(prefix) and len(word) > len(prefix):
            return Token(kind, word[len(prefix) :])
    if lowered.startswith(SEARCH_INTEGRATION_PREFIX):
        entry = word[len(SEARCH_INTEGRATION_PREFIX) :]
        # The SDK's rule is lower case; agents may type the name in any case.
        if INTEGRATION_ID_RE.fullmatch(entry.lower()):
            return Token("integration_id", entry)
    if word.startswith(SEARCH_TAG_PREFIX) and len(word) > len(SEARCH_TAG_PREFIX):
        return Token("tag", word)
    if LOOKUP_CODE_RE.fullmatch(word):
        return Token("lookup_code", word)
    if EMAIL_RE.fullmatch(word):
        return Token("email", word)
    return Token("text", word)


def parse(query: str | None) -> ParsedQuery:
    """Split ``query``; a quoted phrase is always free text."""
    tokens: list[Token] = []
    words: list[str] = []
    for word, quoted in _words(query or ""):
        token = Token("text", word) if quoted else token_of(word)
        if token.kind == "text":
            words.append(word)
        else:
            tokens.append(token)
    return ParsedQuery(tuple(tokens), tuple(words))


def _contained(word: str, fields: tuple[str, ...]) -> Q:
    return reduce(or_, (Q(**{f"{field}__icontains": word}) for field in fields))


def _identity(value: str) -> Q:
    # identities_text holds the identities one per line: match a whole line.
    return (
        Q(identities_text__iexact=value)
        | Q(identities_text__istartswith=f"{value}\n")
        | Q(identities_text__iendswith=f"\n{value}")
        | Q(identities_text__icontains=f"\n{value}\n")
    )


def condition(token: Token) -> Q:
    """The condition one token puts on ``Visitor`` rows."""
    kind, value = token.kind, token.value
    if kind == "online":
        return Q(is_online=True)
    if kind == "offline":
        return Q(is_online=False)
    if kind == "ip":
        return Q(ip_address=value)
    if kind == "id":
        return Q(unique_id=value)
    if kind == "lookup_code":
        return Q(lookup_code=value)
    if kind == "tag":
        # tags_text is " #a #b ": the spaces make it a whole tag.
        return Q(tags_text__icontains=f" {value} ")
    if kind == "email":
        return _identity(value)
    if kind == "integration_id":
        name = value.partition(":")[0]
        return Q(integration__iexact=name)
    return _contained(value, FREE_TEXT_FIELDS)


def visitor_filter(query: str | None) -> Q:
    """The whole condition of ``query``: its tokens and its free text."""
    parsed = parse(query)
    return parsed.token_filter() & parsed.text_filter()


def search(queryset: QuerySet[models.Visitor], query: str | None) -> QuerySet[models.Visitor]:
    """``queryset`` narrowed to the visitors ``query`` finds (all of them for no query)."""
    return queryset.filter(visitor_filter(query))
