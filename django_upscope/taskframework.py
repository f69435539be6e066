"""Django's Tasks framework, wherever it comes from: ``django.tasks`` (Django 6.x) or the
``django_tasks`` backport (Django 5.2, ``pip install django-upscope[tasks]``).

Without either, :func:`task` makes a stand-in whose ``enqueue()`` runs the function at
once, as the framework's ``ImmediateBackend`` would: the app never needs a worker.
:func:`runs_later` says whether the configured backend hands work to a worker.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib.util import find_spec
from typing import Any

from django.utils import timezone

logger = logging.getLogger("django_upscope.tasks")

framework: Any
if find_spec("django.tasks"):
    import django.tasks as framework
elif find_spec("django_tasks"):
    import django_tasks as framework  # type: ignore[no-redef]
else:
    framework = None

#: Whether a Tasks framework is installed (``False``: the stand-in runs tasks at once).
AVAILABLE = framework is not None

#: ``TaskResult.status`` values, the framework's spelling.
READY, RUNNING, FAILED, SUCCESSFUL = "READY", "RUNNING", "FAILED", "SUCCESSFUL"


@dataclass
class ImmediateResult:
    """What the stand-in's ``enqueue()`` returns: the finished run (``TaskResult``'s shape)."""

    id: str
    status: str
    _return_value: Any = None
    errors: list[str] = field(default_factory=list)

    @property
    def is_finished(self) -> bool:
        return True

    @property
    def return_value(self) -> Any:
        if self.status != SUCCESSFUL:
            raise ValueError("Task failed")
        return self._return_value


@dataclass(frozen=True)
class ImmediateTask:
    """A task without a framework: ``call()`` runs it, ``enqueue()`` too (and records how)."""

    func: Callable[..., Any]
    run_after: datetime | None = None
    backend: str = "default"

    @property
    def name(self) -> str:
        return self.func.__name__

    def using(self, **options: Any) -> ImmediateTask:
        return ImmediateTask(self.func, options.get("run_after"))

    def call(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)

    def enqueue(self, *args: Any, **kwargs: Any) -> ImmediateResult:
        result_id = uuid.uuid4().hex
        try:
            value = self.func(*args, **kwargs)
        except Exception:
            logger.exception("Task %s failed", self.name)
            return ImmediateResult(result_id, FAILED, errors=[traceback.format_exc()])
        return ImmediateResult(result_id, SUCCESSFUL, value)


def task(function: Callable[..., Any]) -> Any:
    """The framework's ``@task`` (default backend and queue), else :class:`ImmediateTask`."""
    if framework is None:
        return ImmediateTask(function)
    return framework.task(function)


def backend(alias: str | None = None) -> Any:
    """The configured task backend (``None`` without a framework)."""
    if framework is None:
        return None
    return framework.task_backends[alias or framework.DEFAULT_TASK_BACKEND_ALIAS]


def runs_later(alias: str | None = None) -> bool:
    """Whether enqueued tasks run later, in a worker (not in the calling process).

    ``False`` without a framework, and with the framework's ``ImmediateBackend`` (its
    default when ``TASKS`` is not set) or ``DummyBackend`` (which never runs them).
    """
    configured = backend(alias)
    if configured is None:
        return False
    return type(configured).__name__ not in ("ImmediateBackend", "DummyBackend")


def supports_defer(alias: str | None = None) -> bool:
    """Whether the backend runs tasks at a later time (``run_after``) in a worker."""
    configured = backend(alias)
    return runs_later(alias) and bool(getattr(configured, "supports_defer", False))


def get_result(result_id: str, alias: str | None = None) -> Any:
    """The ``TaskResult`` of ``result_id``, or ``None`` when the backend cannot tell."""
    configured = backend(alias)
    if configured is None or not getattr(configured, "supports_get_result", False):
        return None
    try:
        return configured.get_result(result_id)
    except Exception:  # the framework's TaskResultDoesNotExist, a bad id, a backend down
        logger.warning("No result for task %s", result_id)
        return None


def in_seconds(seconds: float) -> datetime:
    """An aware datetime ``seconds`` from now, for ``run_after``."""
    return timezone.now() + timedelta(seconds=seconds)
