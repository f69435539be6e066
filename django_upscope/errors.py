"""Deprecated: the error presentation lives in :mod:`django_upscope.presentation`.

Kept so that ``from django_upscope.errors import describe`` keeps working.
"""

from __future__ import annotations

from .presentation import ErrorDescription, describe, explain, whole_seconds

__all__ = ["ErrorDescription", "describe", "explain", "whole_seconds"]
