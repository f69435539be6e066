"""Arguments checked before any request is sent to Upscope.

Each ``validate_*`` returns the value to send or raises
:class:`~django_upscope.exceptions.UpscopeInvalidInput` (a ``ValueError``) whose
message names what is wrong but never echoes more than a short excerpt of the
value. The rules come from :mod:`django_upscope.vocabulary`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from ..exceptions import UpscopeInvalidInput
from ..vocabulary import (
    BRANDING_KEYS,
    MAX_METADATA_BYTES,
    MAX_METADATA_KEYS,
    MAX_QUERY_LENGTH,
    PERMISSION_KEYS,
    SHORT_ID_RE,
)

__all__ = [
    "validate_agent",
    "validate_branding",
    "validate_metadata",
    "validate_permissions",
    "validate_query",
    "validate_short_id",
]


def validate_short_id(short_id: Any) -> str:
    """Return ``short_id`` if it is a safe token, else raise ``UpscopeInvalidInput``."""
    if not isinstance(short_id, str) or not SHORT_ID_RE.fullmatch(short_id):
        raise UpscopeInvalidInput(
            "short_id must be 1-128 letters, digits, '-' or '_' (Upscope's visitor id), "
            f"got {short_id!r:.60}",
            code="invalid_short_id",
        )
    return short_id


def validate_query(query: Any) -> str | None:
    """A search query to send: printable text of at most ``MAX_QUERY_LENGTH``, or None."""
    if query is None:
        return None
    if not isinstance(query, str):
        raise UpscopeInvalidInput("search query must be a string", code="invalid_query")
    if len(query) > MAX_QUERY_LENGTH:
        raise UpscopeInvalidInput(
            f"search query is longer than {MAX_QUERY_LENGTH} characters", code="invalid_query"
        )
    if not _encodable(query):
        raise UpscopeInvalidInput("search query is not valid Unicode text", code="invalid_query")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in query):
        raise UpscopeInvalidInput("search query contains control characters", code="invalid_query")
    return query.strip() or None


def _encodable(text: str) -> bool:
    """False for lone surrogates, which cannot be sent as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _flat_value(value: Any) -> bool:
    if isinstance(value, float) and not math.isfinite(value):
        return False
    if isinstance(value, str):
        return _encodable(value)
    return isinstance(value, (str, int, float, bool))


def validate_metadata(metadata: Any) -> dict[str, str | int | float | bool]:
    """Metadata must be flat: string keys, values str, int, float (finite) or bool;
    at most ``MAX_METADATA_KEYS`` keys and ``MAX_METADATA_BYTES`` bytes as JSON."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise UpscopeInvalidInput("metadata must be a dict", code="invalid_metadata")
    if len(metadata) > MAX_METADATA_KEYS:
        raise UpscopeInvalidInput(
            f"metadata has more than {MAX_METADATA_KEYS} keys", code="invalid_metadata"
        )
    bad = [
        key
        for key, value in metadata.items()
        if not (isinstance(key, str) and key != "" and _encodable(key) and _flat_value(value))
    ]
    if bad:
        names = ", ".join(sorted(repr(k)[:40] for k in bad))
        raise UpscopeInvalidInput(
            "metadata must be flat (string keys; str, int, float or bool values); "
            f"offending keys: {names}",
            code="invalid_metadata",
        )
    # Flat and encodable by now, so this cannot fail; the size is what is sent and audited.
    if len(json.dumps(dict(metadata)).encode("utf-8")) > MAX_METADATA_BYTES:
        raise UpscopeInvalidInput(
            f"metadata is larger than {MAX_METADATA_BYTES} bytes as JSON", code="invalid_metadata"
        )
    return dict(metadata)


def _validate_options(
    value: Any, known: tuple[str, ...], what: str, check: Callable[[str, Any], bool]
) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise UpscopeInvalidInput(f"{what} must be a dict", code=f"invalid_{what}")
    unknown = [k for k in value if k not in known]
    if unknown:
        raise UpscopeInvalidInput(
            f"unknown {what} keys: {', '.join(sorted(repr(k)[:40] for k in unknown))}; "
            f"known keys: {', '.join(known)}",
            code=f"invalid_{what}",
        )
    wrong = [k for k, v in value.items() if not check(k, v)]
    if wrong:
        raise UpscopeInvalidInput(
            f"{what} values of the wrong type: {', '.join(sorted(wrong))}",
            code=f"invalid_{what}",
        )
    return dict(value)


def _branding_ok(key: str, value: Any) -> bool:
    if key == "naked":
        return isinstance(value, bool) or value == "page_only"
    if key == "no_bottom_bar":
        return value is None or isinstance(value, bool)
    # retry_url / on_end_url: absolute http(s) URLs or None.
    if value is None:
        return True
    if not isinstance(value, str) or not value.isprintable():
        return False
    try:
        parts = urlsplit(value)
        # .port raises ValueError for a port that is not a number in 0-65535.
        parts.port  # noqa: B018
    except ValueError:  # e.g. "http://[::1" (an unclosed IPv6 bracket)
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def validate_branding(branding: Any) -> dict[str, Any]:
    """The ``branding`` options of a watch URL: known keys, each of its documented type."""
    return _validate_options(branding, BRANDING_KEYS, "branding", _branding_ok)


def validate_permissions(permissions: Any) -> dict[str, bool]:
    """The ``permissions`` of a watch URL: known keys, each a bool."""
    return _validate_options(
        permissions, PERMISSION_KEYS, "permissions", lambda _k, v: isinstance(v, bool)
    )


def validate_agent(value: Any, name: str) -> str:
    """An agent's id or name (``name`` says which): a non-empty printable string.

    An int id is accepted and sent as its decimal string.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or not value.isprintable():
        raise UpscopeInvalidInput(
            f"{name} is required: a non-empty printable string", code=f"invalid_{name}"
        )
    return value
