"""A retry wait that does not wait, for test settings.

Point ``UPSCOPE["RETRY_SLEEP"]`` at :func:`record_sleep` in your test settings::

    UPSCOPE = {..., "RETRY_SLEEP": "django_upscope.testing.retry.record_sleep"}

Every client :func:`~django_upscope.client.get_client` builds then records the
seconds it would have waited in :data:`sleeps` and goes on at once, in every
thread (a ``live_server`` thread included). The pytest plugin's
``upscope_retry_sleeps`` fixture empties the list and returns it.
"""

from __future__ import annotations

#: The waits asked for since the last :func:`reset`, oldest first.
sleeps: list[float] = []


def record_sleep(seconds: float) -> None:
    """Record a wait of ``seconds`` instead of sleeping."""
    sleeps.append(seconds)


def reset() -> None:
    """Forget the recorded waits."""
    sleeps.clear()
