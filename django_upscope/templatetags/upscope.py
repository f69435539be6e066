"""``{% load upscope %}{% upscope_snippet %}``: Upscope's JavaScript installation.

Renders, in this order (docs/upscope-api.md, "The visitor side: the JavaScript SDK"):

1. the data of ``Upscope('init', {...})`` as JSON in ``<script type="application/json"
   id="upscope-init">`` (escaped by :func:`django.utils.html.json_script`: no value can
   close the element or run as script): the **public** key ``UPSCOPE["PUBLIC_API_KEY"]``
   as ``apiKey`` and, for a logged-in user, the identity of
   :func:`django_upscope.identity.visitor_identity`;
2. ``django_upscope/snippet.js`` (static), which reads that JSON and calls
   ``Upscope('init', data)``;
3. the loader of the installation code, ``UPSCOPE["SNIPPET_URL"]``, ``async``.

No inline script: under a Content-Security-Policy the two scripts carry the request's
nonce (``{% upscope_snippet nonce=... %}``, else the context's ``csp_nonce``, else
``request.csp_nonce`` as django-csp sets it). Anonymous users get the plain installation,
or nothing with ``UPSCOPE["SNIPPET_FOR_ANONYMOUS"] = False``. Without ``PUBLIC_API_KEY``
or ``SNIPPET_URL`` the tag renders nothing (system check ``django_upscope.W020``).
"""

from __future__ import annotations

import logging
from typing import Any

from django import template
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.html import json_script
from django.utils.safestring import SafeString, mark_safe

from ..conf import upscope_settings
from ..identity import visitor_identity

register = template.Library()
logger = logging.getLogger("django_upscope.identity")

#: The id of the JSON block that ``snippet.js`` reads.
CONFIG_ELEMENT_ID = "upscope-init"


def _nonce(context: template.Context, explicit: Any) -> str | None:
    request = context.get("request")
    for candidate in (explicit, context.get("csp_nonce"), getattr(request, "csp_nonce", None)):
        if candidate:
            return str(candidate)
    return None


def init_config(request: Any) -> dict[str, Any] | None:
    """The data of ``Upscope('init', ...)`` for this request; ``None``: render nothing."""
    public_key = upscope_settings.PUBLIC_API_KEY
    if not public_key or not upscope_settings.SNIPPET_URL:
        logger.warning(
            "upscope_snippet rendered nothing: UPSCOPE['PUBLIC_API_KEY'] and "
            "UPSCOPE['SNIPPET_URL'] must both be set."
        )
        return None
    identity = visitor_identity(request) if request is not None else None
    if identity is None and not upscope_settings.SNIPPET_FOR_ANONYMOUS:
        return None
    return {"apiKey": str(public_key), **(identity or {})}


@register.simple_tag(takes_context=True)
def upscope_snippet(context: template.Context, nonce: Any = None) -> SafeString:
    """Upscope's installation for this page (see the module's documentation)."""
    config = init_config(context.get("request"))
    if config is None:
        return mark_safe("")
    html = render_to_string(
        "django_upscope/identity/snippet.html",
        {
            "config_script": json_script(config, CONFIG_ELEMENT_ID),
            "init_js": static("django_upscope/snippet.js"),
            "snippet_url": upscope_settings.SNIPPET_URL,
            "nonce": _nonce(context, nonce),
        },
    )
    return mark_safe(html)  # noqa: S308 - rendered by an autoescaping template
