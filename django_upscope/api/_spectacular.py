"""drf-spectacular, an optional extra: whether it is installed, and stand-ins when not.

This module imports nothing from django_upscope, so the serializers, the
documentation decorators (:mod:`.docs`) and the schema generator
(:mod:`.openapi`) can all build on it without an import circle.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.util import find_spec
from typing import Any, TypeVar, cast

F = TypeVar("F")

HAS_SPECTACULAR = find_spec("drf_spectacular") is not None

#: The JSON schema of session metadata: a flat object of strings, numbers and booleans.
METADATA_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": {
        "oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]
    },
}

#: The schema class of django-upscope's views (None without drf-spectacular).
schema_class: Any = None

if HAS_SPECTACULAR:
    from drf_spectacular.openapi import AutoSchema
    from drf_spectacular.utils import extend_schema_field

    schema_class = AutoSchema


def metadata_field(cls: F) -> F:
    """Document a serializer field class as :data:`METADATA_SCHEMA` (a no-op without the extra)."""
    if not HAS_SPECTACULAR:  # pragma: no cover - exercised only without the extra installed
        return cls
    decorate: Callable[[Any], Any] = extend_schema_field(METADATA_SCHEMA)
    return cast("F", decorate(cls))
