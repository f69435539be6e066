"""Views whose upstream side effects must be recorded one by one, whatever ``ATOMIC_REQUESTS``.

With ``ATOMIC_REQUESTS`` a view runs in one transaction committed when it returns: a worker
killed part-way (gunicorn at its timeout) would lose the mirror removals and audit rows of
the deletions Upscope already made. :func:`outside_request_transaction` opts a view out on
every database, so each service call commits its own record as it goes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import transaction

View = TypeVar("View", bound=Callable[..., object])


def outside_request_transaction(view: View) -> View:
    """``transaction.non_atomic_requests`` for every database in ``settings.DATABASES``."""
    for alias in settings.DATABASES:
        view = transaction.non_atomic_requests(alias)(view)
    return view
