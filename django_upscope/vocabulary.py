"""Upscope's documented vocabulary: keys, rules and limits, in one place.

Everything here is a fact about Upscope's API, not about this library, and the
module imports nothing from ``django_upscope`` so that every layer (client,
mirror, admin, API, factories) can use it without pulling in HTTP code. Where a
value comes from Upscope's later documentation rather than the v1.1 / on-premise
reference, the comment says so; ``docs/upscope-api.md`` lists the sources.

The embedded fake (``django_upscope.fake.spec``) keeps its own, independent
statement of these facts: it is the tests' model of Upscope, so it must not
agree with the product by construction.
"""

from __future__ import annotations

import re

#: The cloud API this library speaks (Upscope REST API v1.1).
DEFAULT_API_URL = "https://api.upscope.io/v1.1"

#: A visitor's ``short_id`` as it may appear in a URL path. Upscope's ids are short
#: alphanumeric tokens; the rule is wider than what Upscope sends, but never lets a
#: ``/``, ``.``, ``?`` or ``%`` reach a path.
SHORT_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,128}")

#: The ``branding`` options of ``POST /visitors/:short_id/watch_url.json``.
BRANDING_KEYS: tuple[str, ...] = ("naked", "retry_url", "no_bottom_bar", "on_end_url")

#: The ``permissions`` options of the same request.
PERMISSION_KEYS: tuple[str, ...] = (
    "allow_console",
    "allow_click",
    "allow_draw",
    "allow_scroll",
    "allow_audio",
    "allow_type",
    "allow_agent_redirect",
)

#: What Upscope grants when a permission is not sent: everything but the console.
PERMISSION_DEFAULTS: dict[str, bool] = {key: key != "allow_console" for key in PERMISSION_KEYS}

#: The longest search query this library sends (Upscope documents no limit; a search
#: box query longer than this is a mistake, not a search).
MAX_QUERY_LENGTH = 1000

#: The shape of Upscope's ``{"status": "error", "error": "<code>"}`` codes.
ERROR_CODE_RE = re.compile(r"[a-z0-9_]{1,64}")

#: Upscope's 401 codes and what each means, in words (for messages and pages).
AUTHENTICATION_REASONS: dict[str, str] = {
    "invalid_api_key": "Upscope did not recognise the API key",
    "subscription_expired": "The Upscope subscription has expired",
    "api_not_enabled": "The Upscope subscription does not include REST API access",
    # From Upscope's newer documentation (docs/upscope-api.md, "Errors").
    "no_subscription": "The Upscope team has no active subscription",
    "please_contact_team": "Upscope has restricted API access for this team; contact Upscope",
}
AUTHENTICATION_CODES = frozenset(AUTHENTICATION_REASONS)

# -- the visitor side: the JavaScript SDK (docs/upscope-api.md, "The visitor side: the
# JavaScript SDK"; newer docs) --

#: A tag sent in ``Upscope('init', {tags: [...]})``. Upscope writes the rule in upper
#: case but its own examples are lower case, so it is applied without regard to case.
TAG_RE = re.compile(r"^#[A-Z-]+$", re.IGNORECASE)

#: An entry of ``integrationIds``: ``name:id``.
INTEGRATION_ID_RE = re.compile(r"[a-z]{3,}:.+")  # matched whole (fullmatch)

#: The identity keys ``init`` and ``updateConnection`` take (``apiKey`` aside).
IDENTITY_KEYS: tuple[str, ...] = ("uniqueId", "identities", "tags", "integrationIds")

#: The four-digit lookup code a visitor reads out; as a search token it finds the visitor
#: ("Search syntax").
LOOKUP_CODE_RE = re.compile(r"[0-9]{4}")  # matched whole (fullmatch)


# -- search syntax (docs/upscope-api.md, "Search syntax") --------------------------

#: The tokens for visitors connected now, and not.
SEARCH_ONLINE = "online"
SEARCH_OFFLINE = "-online"
#: Prefixes of the tokens that name one attribute.
SEARCH_IP_PREFIX = "ip:"
SEARCH_ID_PREFIX = "id:"  # matches a visitor's ``uniqueId``
SEARCH_INTEGRATION_PREFIX = "integration_id:"
SEARCH_TAG_PREFIX = "#"
#: A four-digit number is a lookup code (``LOOKUP_CODE_RE``), and ``integration_id:``
#: takes a ``name:id`` entry (``INTEGRATION_ID_RE``), both defined above.

#: An e-mail address, as a search token (a loose shape: an identity is matched exactly).
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

#: The hosts a cloud watch URL points to (the v1.1 example mints ``https://o.upscope.io?...``;
#: docs/upscope-api.md, "Creating a watch URL"). ``*.`` patterns match any subdomain.
WATCH_URL_HOSTS: tuple[str, ...] = ("o.upscope.io", "*.upscope.io")

# -- limits of this library (Upscope documents none) -----------------------------

#: The most keys, and the most bytes once serialized as JSON, of the metadata sent with
#: a watch URL: it is copied into the audit row and Upscope's session, so it stays small.
MAX_METADATA_KEYS = 50
MAX_METADATA_BYTES = 4096

#: The deepest nesting accepted in JSON from Upscope (a visitor payload, with its
#: sessions' metadata and its history) and in request bodies of the API. Upscope's
#: documented payloads nest about 5 deep; Python's JSON parser overflows the stack near 1000.
MAX_JSON_DEPTH = 32

#: The largest JSON values accepted from Upscope, in bytes once serialized: one session's
#: metadata, one visitor's history (pageviews and screenshots), and a whole visitor.
MAX_UPSTREAM_METADATA_BYTES = 64 * 1024
MAX_UPSTREAM_HISTORY_BYTES = 4 * 1024 * 1024
MAX_UPSTREAM_VISITOR_BYTES = 8 * 1024 * 1024

#: The operations (named as the client's methods) an on-premise server documents: only the
#: reads of docs/upscope-api.md, "On-premise endpoints" (latest visitors, search, visitor
#: details without history). Every other operation exists on Upscope's cloud only.
ON_PREMISE_OPERATIONS = frozenset({"latest_visitors", "search_visitors", "get_visitor"})
