"""The JSON parser of django-upscope's endpoints: bounded in size and depth.

DRF's ``JSONParser`` reads the whole body from the request stream, so Django's
``DATA_UPLOAD_MAX_MEMORY_SIZE`` is never applied, and it lets a body of ``[``
nested thousands deep overflow the stack (``RecursionError``, a 500). This one
refuses both with the API's ``{"error", "detail"}`` shape: 413 ``request_too_large``
and 400 ``parse_error``.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json as drf_json

from ..resources import json_too_deep
from ..vocabulary import MAX_JSON_DEPTH


class RequestTooLarge(APIException):
    """A request body larger than ``settings.DATA_UPLOAD_MAX_MEMORY_SIZE``."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"

    @classmethod
    def over_limit(cls) -> RequestTooLarge:
        """The error naming the limit, whoever noticed it (this parser or Django)."""
        return cls(f"The request body is larger than {body_limit()} bytes.")


def body_limit() -> int | None:
    """The most bytes a body may have: Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``."""
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class UpscopeJSONParser(JSONParser):
    """``JSONParser`` that refuses bodies over :func:`body_limit` bytes (413) and JSON
    nested deeper than ``MAX_JSON_DEPTH`` (400)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = body_limit()
        # One byte more than allowed is enough to know the body is too large.
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise RequestTooLarge.over_limit()
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise ParseError(f"JSON parse error - the body is not {encoding} text") from None
        too_deep = ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels")
        try:
            parse_constant = drf_json.strict_constant if self.strict else None
            data = json.loads(text, parse_constant=parse_constant)
        except RecursionError:
            raise too_deep from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if json_too_deep(data):
            raise too_deep
        return data
