"""How the screen-share page frames Upscope's watch page: the iframe's ``sandbox`` and
``allow`` sets, and the origin the page expects the frame's ``postMessage`` events from.

The watch page and its events are described in ``docs/upscope-api.md`` ("Watch URLs",
"Embedded session events").
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

import idna

#: The iframe's ``sandbox`` tokens: the narrowest set the watch page needs.
#: Left out on purpose: ``allow-forms`` (the page's "Retry now" is a link, not a form),
#: ``allow-popups`` and ``allow-modals`` (it opens no window or dialog), ``allow-downloads``,
#: and ``allow-top-navigation`` without a click (a frame may never move the agent away).
WATCH_FRAME_SANDBOX = (
    # The watch page is a script: it draws the visitor's screen and posts its events.
    "allow-scripts",
    # Keeps the page its own origin, so its requests, websocket and storage reach its host,
    # and its events arrive from that origin rather than "null" (which we could not check).
    "allow-same-origin",
    # "Retry now" and the session-ended page's links open in the top window, on a click.
    "allow-top-navigation-by-user-activation",
)

#: Permissions-policy features for an agent granted ``allow_audio``: speaking to the
#: visitor (``microphone``) and hearing them without a further click (``autoplay``).
AUDIO_FEATURES = ("microphone", "autoplay")

DEFAULT_PORTS = {"http": 80, "https": 443}


def frame_allow(permissions: Mapping[str, bool]) -> str:
    """The iframe's ``allow`` attribute: audio features with ``allow_audio``, else none."""
    return "; ".join(AUDIO_FEATURES) if permissions.get("allow_audio") else ""


def _host(hostname: str) -> str:
    """The host as a browser serializes it: IPv6 compressed in brackets, names in punycode."""
    try:
        address = ipaddress.ip_address(hostname)
    except ValueError:
        # UTS 46 without transitional mapping, as the WHATWG URL standard does ("faß" keeps ß).
        return idna.encode(hostname, uts46=True, transitional=False).decode("ascii")
    return f"[{address.compressed}]" if address.version == 6 else address.compressed


def web_origin(url: str) -> str:
    """The origin of ``url`` as a browser serializes it (``MessageEvent.origin``).

    Lower-case scheme and host, the default port dropped, the host in punycode; ``"null"``
    (an opaque origin, which a watch page never posts from) for what is not an http(s) URL
    with a host.
    """
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        port = parts.port
        if scheme not in DEFAULT_PORTS or not parts.hostname:
            return "null"
        host = _host(parts.hostname)
    except (ValueError, idna.IDNAError):
        return "null"
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"
