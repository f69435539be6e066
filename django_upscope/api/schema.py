"""Deprecated: the schema generator is in :mod:`django_upscope.api.openapi`.

Kept so that ``--generator-class django_upscope.api.schema.UpscopeSchemaGenerator``
(as documented before) keeps working. Nothing in django_upscope imports this module.
"""

from __future__ import annotations

from ._spectacular import HAS_SPECTACULAR
from .openapi import SCHEMA_SETTINGS

__all__ = ["HAS_SPECTACULAR", "SCHEMA_SETTINGS"]

if HAS_SPECTACULAR:
    from .openapi import UpscopeEndpointEnumerator, UpscopeSchemaGenerator

    __all__ += ["UpscopeEndpointEnumerator", "UpscopeSchemaGenerator"]
