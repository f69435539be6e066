"""Compatibility re-exports: the mirror code lives in :mod:`django_upscope.mirror`.

``django_upscope.sync.sync_from_upscope``, ``upsert_visitors`` and the other names
imported from here before the split keep working. New code imports from
:mod:`django_upscope.mirror` (or its modules ``columns``, ``upsert``, ``run``).
"""

from __future__ import annotations

from .mirror import *  # noqa: F403
from .mirror import __all__ as __all__
