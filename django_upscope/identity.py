"""Who a visitor is, the same on both sides: the page's snippet and the agent's lookup.

The snippet (``{% upscope_snippet %}``) sends Upscope a logged-in user's identity in
``Upscope('init', {...})`` (docs/upscope-api.md, "The visitor side: the JavaScript SDK").
The agent side finds that visitor again with the ``id:<uniqueId>`` search token, so both
must derive ``uniqueId`` from the same function, :func:`unique_id_for`.

- By default ``uniqueId`` is an HMAC-SHA256 of the user's primary key under a key derived
  from ``SECRET_KEY`` (:func:`django.utils.crypto.salted_hmac`): the raw database id never
  reaches Upscope. ``UPSCOPE["VISITOR_UNIQUE_ID"] = "pk"`` sends the raw key instead.
- Any object maps to a user's identity through an :class:`IdentityAdapter` (a Customer
  whose account is ``customer.user``, say); users need none.
- ``UPSCOPE["VISITOR_IDENTITY"]``, a callable or dotted path ``(request) -> dict | None``,
  replaces :func:`default_identity`. What it returns passes :func:`clean_identity`: values
  that break Upscope's documented rules are dropped with a warning in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from django.utils.crypto import salted_hmac

from .conf import import_callable, upscope_settings
from .exceptions import UpscopeConfigurationError
from .vocabulary import IDENTITY_KEYS, INTEGRATION_ID_RE, TAG_RE

logger = logging.getLogger("django_upscope.identity")

#: The salt of the key :func:`derive_unique_id` derives from ``SECRET_KEY``: changing it
#: changes every visitor's ``uniqueId``.
UNIQUE_ID_SALT = "django_upscope.identity.unique_id"
#: Hex characters kept of the HMAC (128 bits): unguessable, and short enough to read.
UNIQUE_ID_LENGTH = 32
UNIQUE_ID_MODES = ("hmac", "pk")


class IdentityAdapter(Protocol):
    """How an object of the project (a Customer...) maps to the identity the snippet sends.

    ``identity_key`` returns the key the snippet derives ``uniqueId`` from (for the
    default snippet, the primary key of the object's *user*), or ``None`` when the
    object has no account. ``display_name`` is what agents see.
    """

    def identity_key(self, obj: Any) -> Any: ...

    def display_name(self, obj: Any) -> str: ...


class UserAdapter:
    """The adapter of a Django user: its primary key, its full name (else username)."""

    def identity_key(self, obj: Any) -> Any:
        return getattr(obj, "pk", None)

    def display_name(self, obj: Any) -> str:
        full_name = (getattr(obj, "get_full_name", lambda: "")() or "").strip()
        return full_name or str(obj.get_username())


@dataclass(frozen=True)
class RelatedUserAdapter:
    """The adapter of an object whose account is one of its attributes (``customer.user``)."""

    attribute: str = "user"

    def identity_key(self, obj: Any) -> Any:
        user = getattr(obj, self.attribute, None)
        return None if user is None else UserAdapter().identity_key(user)

    def display_name(self, obj: Any) -> str:
        user = getattr(obj, self.attribute, None)
        return str(obj) if user is None else UserAdapter().display_name(user)


def derive_unique_id(key: Any) -> str:
    """The ``uniqueId`` sent for the identity key ``key`` (a user's pk).

    ``"hmac"`` mode (the default): the first :data:`UNIQUE_ID_LENGTH` hex characters of
    HMAC-SHA256 of ``str(key)`` under a key derived from ``SECRET_KEY``: stable, and it
    differs per ``SECRET_KEY``. ``"pk"`` mode: ``str(key)``.
    """
    mode = upscope_settings.VISITOR_UNIQUE_ID
    if mode not in UNIQUE_ID_MODES:
        raise UpscopeConfigurationError(
            f"UPSCOPE['VISITOR_UNIQUE_ID'] must be one of {', '.join(UNIQUE_ID_MODES)}.",
            code="invalid_visitor_unique_id",
        )
    if mode == "pk":
        return str(key)
    digest = salted_hmac(UNIQUE_ID_SALT, str(key), algorithm="sha256").hexdigest()
    return digest[:UNIQUE_ID_LENGTH]


def unique_id_for(obj: Any, adapter: IdentityAdapter | None = None) -> str | None:
    """The ``uniqueId`` the snippet sends for ``obj`` (a user, or any object via ``adapter``).

    ``None`` when the object has no identity key (an unsaved user, a customer without
    an account).
    """
    key = (adapter or UserAdapter()).identity_key(obj)
    if key is None or key == "":
        return None
    return derive_unique_id(key)


def default_identity(request: Any) -> dict[str, Any] | None:
    """The identity of ``request.user``: ``uniqueId`` and ``identities`` (its full name,
    and its e-mail address only with ``UPSCOPE["VISITOR_EMAIL"]``). ``None`` when anonymous.

    A ``VISITOR_IDENTITY`` hook may call this and add ``tags`` or ``integrationIds``.
    """
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    identities = [UserAdapter().display_name(user)]
    email = getattr(user, "email", "") or ""
    if upscope_settings.VISITOR_EMAIL and email:
        identities.append(email)
    return {"uniqueId": unique_id_for(user), "identities": identities}


def visitor_identity(request: Any) -> dict[str, Any] | None:
    """The identity the snippet sends for this request, cleaned (``None``: anonymous)."""
    hook = import_callable("VISITOR_IDENTITY") or default_identity
    identity = hook(request)
    if identity is None:
        return None
    if not isinstance(identity, Mapping):
        raise UpscopeConfigurationError(
            "UPSCOPE['VISITOR_IDENTITY'] must return a dict or None.",
            code="invalid_visitor_identity",
        )
    return clean_identity(identity)


# -- Upscope's rules (docs/upscope-api.md, "The visitor side: the JavaScript SDK") --


def _drop(key: str, reason: str) -> None:
    # Identities are names and addresses: the log says what was wrong, never the value.
    logger.warning("Upscope identity: dropped %s (%s).", key, reason)


def _strings(key: str, value: Any, rule: Any = None, what: str = "") -> list[str] | None:
    """The strings of a list that pass ``rule``; ``None`` when ``value`` is not a list."""
    if not isinstance(value, (list, tuple)):
        _drop(key, "not a list")
        return None
    kept = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            _drop(f"{key}[{index}]", "not a non-empty string")
        elif rule is not None and not rule.fullmatch(item):
            _drop(f"{key}[{index}]", f"does not match {what}")
        else:
            kept.append(item)
    return kept


def _clean_value(key: str, value: Any) -> tuple[bool, Any]:
    """``(keep, value)`` for one identity key whose value is not ``None``."""
    if key == "uniqueId":
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            _drop(key, "not a non-empty string")
            return False, None
        return True, value
    if key == "identities":
        kept = _strings(key, value)
    elif key == "tags":
        kept = _strings(key, value, TAG_RE, TAG_RE.pattern)
    else:
        kept = _strings(key, value, INTEGRATION_ID_RE, INTEGRATION_ID_RE.pattern)
    return kept is not None, kept


def clean_identity(identity: Mapping[str, Any]) -> dict[str, Any]:
    """``identity`` with Upscope's documented rules applied.

    Keys: ``uniqueId`` (a string; an int is turned into one), ``identities`` (strings),
    ``tags`` (each ``/^#[A-Z-]+$/``, any case), ``integrationIds`` (each
    ``/^[a-z]{3,}:.+$/``). ``None`` is kept (it clears the field upstream); an absent
    key stays absent (it leaves the field). Unknown keys, and values that break a
    rule, are dropped with a warning in the ``django_upscope.identity`` log.
    """
    cleaned: dict[str, Any] = {}
    for key, value in identity.items():
        if key not in IDENTITY_KEYS:
            _drop(str(key), "not an identity key Upscope documents")
            continue
        if value is None:
            cleaned[key] = None
            continue
        keep, value = _clean_value(key, value)
        if keep:
            cleaned[key] = value
    return cleaned
