"""Keep the fake's watch tokens out of the development server's access log.

A watch URL is a bearer secret, and ``runserver`` logs every request line on the
``django.server`` logger: the watch page and the status it polls each second
would print ``/__upscope__/watch/<token>/status.json`` to the console. The
fake's AppConfig installs :class:`RedactWatchTokens` on that logger.
"""

from __future__ import annotations

import logging
import re

# Tokens are secrets.token_urlsafe(32): 43 URL-safe characters. Shorter path parts
# after /watch/ (a project's own URLs) are left alone.
WATCH_TOKEN_RE = re.compile(r"(/watch/)[A-Za-z0-9_-]{20,}")
REDACTED = r"\1[redacted]"


def redact(text: str) -> str:
    return WATCH_TOKEN_RE.sub(REDACTED, text)


class RedactWatchTokens(logging.Filter):
    """Replace watch tokens in a record's message and arguments with ``[redacted]``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


def install() -> None:
    """Add the filter to ``django.server`` once (ready() may run more than once in tests)."""
    server_logger = logging.getLogger("django.server")
    if not any(isinstance(f, RedactWatchTokens) for f in server_logger.filters):
        server_logger.addFilter(RedactWatchTokens())
