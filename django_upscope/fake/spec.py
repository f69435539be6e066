"""What Upscope documents, as the fake Upscope's own statement (``docs/upscope-api.md``).

The fake is the tests' model of Upscope. Its facts are written out here
independently of :mod:`django_upscope.vocabulary` and of the client, and the
fake never imports those: if the product's table of keys or defaults were
wrong, a fake that read it would agree with the mistake instead of catching it.
Keep the two in step by reading Upscope's documents, not each other.
"""

from __future__ import annotations

#: The ``permissions`` of ``POST /visitors/:short_id/watch_url.json``
#: (docs/upscope-api.md, "Watch URLs").
PERMISSION_KEYS: tuple[str, ...] = (
    "allow_click",
    "allow_type",
    "allow_scroll",
    "allow_draw",
    "allow_audio",
    "allow_agent_redirect",
    "allow_console",
)

#: What Upscope grants when a permission is not sent: ``allow_console`` defaults to
#: false, every other permission to true ("Watch URLs").
DEFAULT_PERMISSIONS: dict[str, bool] = {
    "allow_click": True,
    "allow_type": True,
    "allow_scroll": True,
    "allow_draw": True,
    "allow_audio": True,
    "allow_agent_redirect": True,
    "allow_console": False,
}

#: The ``branding`` options of the same request ("Watch URLs").
BRANDING_KEYS: tuple[str, ...] = ("naked", "no_bottom_bar", "retry_url", "on_end_url")

#: Cloud 401 codes ("Errors"); ``invalid_api_key`` is the answer to a missing or unknown key.
INVALID_API_KEY = "invalid_api_key"
AUTHENTICATION_ERROR_CODES: tuple[str, ...] = (
    INVALID_API_KEY,
    "subscription_expired",
    "api_not_enabled",
    "no_subscription",
    "please_contact_team",
)
