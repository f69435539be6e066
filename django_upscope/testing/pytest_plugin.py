"""pytest fixtures for testing a project's Upscope integration against the embedded fake.

Enable it in your ``conftest.py``::

    pytest_plugins = ["django_upscope.testing.pytest_plugin"]

Your test settings need ``"django_upscope.fake"`` in ``INSTALLED_APPS`` and your
URLconf must mount ``path("__upscope__/", include("django_upscope.fake.urls"))``.
Then::

    def test_lists_visitors(upscope_fake):
        short_id = upscope_fake.add_visitor(identities=["Ada Lovelace"])
        assert [v.short_id for v in upscope_fake.client().search_visitors("Ada")] == [short_id]
        assert upscope_fake.requests()[-1].path.endswith("/v1.1/list.json")

The fixtures start pytest-django's ``live_server`` (so the test uses
``transactional_db``), point ``settings.UPSCOPE`` at the fake, and reset the
fake's state before the test.
"""

from __future__ import annotations

import gc
import importlib
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from ..client import UpscopeClient, close_clients
from ..conf import import_callable
from . import retry


def _fake(module: str) -> ModuleType:
    """``django_upscope.fake.<module>``, imported on first use.

    Imported late so that loading the plugin does not import the fake's models
    before Django's app registry is ready.
    """
    return importlib.import_module(f"django_upscope.fake.{module}")


class FakeUpscope:
    """A handle on the fake Upscope served by the live server, as fixtures return it.

    - ``url``: where the fake is mounted (``<live_server>/__upscope__``);
    - ``api_url``: the API base the client uses (cloud ``<url>/v1.1``; on-premise
      ``<url>/onprem/api``), ``base_endpoint`` the on-premise ``BASE_ENDPOINT``;
    - ``api_key``: the ``fake_`` key (cloud) or REST key (on-premise) configured.
    """

    def __init__(self, url: str, *, on_premise: bool, api_key: str) -> None:
        self._clients: list[UpscopeClient] = []
        self.url = url
        self.on_premise = on_premise
        self.api_key = api_key
        self.base_endpoint = f"{url}/onprem" if on_premise else None
        self.api_url = f"{url}/onprem/api" if on_premise else f"{url}/v1.1"

    def __repr__(self) -> str:
        mode = "on-premise" if self.on_premise else "cloud"
        return f"<FakeUpscope {mode} {self.url}>"

    def settings(self) -> dict[str, Any]:
        """The ``UPSCOPE`` entries that point a project at this fake."""
        if self.on_premise:
            return {"BASE_ENDPOINT": self.base_endpoint, "REST_KEY": self.api_key}
        return {"API_KEY": self.api_key, "API_URL": self.api_url}

    def seed(self, n: int, seed: int = 0) -> list[str]:
        """Create ``n`` realistic visitors (deterministic for ``seed``); return short_ids."""
        return _fake("state").seed(visitors=n, seed=seed)

    def add_visitor(self, **fields: Any) -> str:
        """Create one visitor (see :func:`django_upscope.fake.state.create_visitor`)."""
        return _fake("state").create_visitor(**fields).short_id

    def fail(self, endpoint: str, **fault: Any) -> None:
        """Inject a fault (see :func:`django_upscope.fake.state.inject_fault`)."""
        _fake("state").inject_fault(endpoint, **fault)

    def requests(self, endpoint: str | None = None) -> list[Any]:
        """What the fake received, oldest first (``RecordedRequest`` objects)."""
        return list(_fake("state").received_requests(endpoint))

    def client(self, **options: Any) -> UpscopeClient:
        """An :class:`UpscopeClient` pointed at the fake (options as its constructor's).

        Unless ``sleep`` is given, it waits between retries as ``get_client()``'s
        clients do, with ``UPSCOPE["RETRY_SLEEP"]``.
        """
        options.setdefault("sleep", import_callable("RETRY_SLEEP") or time.sleep)
        if self.on_premise:
            client = UpscopeClient(
                rest_key=self.api_key, base_endpoint=self.base_endpoint, **options
            )
        else:
            client = UpscopeClient(api_key=self.api_key, api_url=self.api_url, **options)
        self._clients.append(client)
        return client

    def close(self) -> None:
        """Finish with the live server (done after each test).

        Cuts injected delays short and waits for requests whose client gave up,
        then closes the clients' keep-alive connections: a server thread still
        running after the test would touch a database the test no longer owns.
        """
        _fake("wire").settle()
        for client in self._clients:
            client.close()
        self._clients.clear()
        # get_client()'s clients, in this thread and the live server's.
        close_clients()
        # A response kept alive by an exception's traceback cycle holds its
        # connection (and a server thread) open until the garbage collector runs.
        gc.collect()


def _start(live_server: Any, settings: Any, *, on_premise: bool) -> FakeUpscope:
    from django.apps import apps
    from django.urls import NoReverseMatch, reverse

    if not apps.is_installed("django_upscope.fake"):
        pytest.fail(
            "The upscope_fake fixtures need 'django_upscope.fake' in INSTALLED_APPS of your "
            "test settings.",
            pytrace=False,
        )
    try:
        mount = reverse("upscope_fake:index").rstrip("/")
    except NoReverseMatch:
        pytest.fail(
            "The upscope_fake fixtures need the fake in your URLconf: "
            'path("__upscope__/", include("django_upscope.fake.urls")).',
            pytrace=False,
        )
    current = dict(getattr(settings, "UPSCOPE", None) or {})
    for key in ("API_KEY", "API_URL", "BASE_ENDPOINT", "REST_KEY"):
        current.pop(key, None)
    rest_key = str(current.get("FAKE_REST_KEY") or "fake_rest_key")
    fake = FakeUpscope(
        live_server.url + mount,
        on_premise=on_premise,
        api_key=rest_key if on_premise else "fake_test_key",
    )
    current.update(fake.settings())
    current["FAKE_ENABLED"] = True
    if _shares_one_sqlite_connection() and "SYNC_CONCURRENCY" not in current:
        # With an in-memory SQLite test database, Django's live server and the test share
        # one connection, which cannot serve concurrent detail fetches ("SQL statements
        # in progress"): sync one visitor at a time unless the test settings say otherwise.
        current["SYNC_CONCURRENCY"] = 1
    settings.UPSCOPE = current
    _fake("state").reset()
    return fake


def _shares_one_sqlite_connection() -> bool:
    from django.db import connection

    # is_in_memory_db() exists only on SQLite's DatabaseWrapper.
    return connection.vendor == "sqlite" and bool(connection.is_in_memory_db())  # type: ignore[attr-defined]


# ``live_server`` is a parameter (not looked up later) so pytest-django also
# enables transactional_db and the live server's ALLOWED_HOSTS for the test.
@pytest.fixture
def upscope_fake(live_server: Any, settings: Any, transactional_db: None) -> Iterator[FakeUpscope]:
    """The fake Upscope (cloud API v1.1) on the live server, with ``settings.UPSCOPE`` at it."""
    fake = _start(live_server, settings, on_premise=False)
    yield fake
    fake.close()


@pytest.fixture
def upscope_fake_onprem(
    live_server: Any, settings: Any, transactional_db: None
) -> Iterator[FakeUpscope]:
    """The fake Upscope in on-premise mode (``BASE_ENDPOINT`` and ``REST_KEY``)."""
    fake = _start(live_server, settings, on_premise=True)
    yield fake
    fake.close()


@pytest.fixture
def upscope_retry_sleeps() -> Iterator[list[float]]:
    """The retry waits recorded by ``django_upscope.testing.retry.record_sleep``.

    Empty at the start of the test. Useful when ``UPSCOPE["RETRY_SLEEP"]`` points
    at the recorder, so retries through ``get_client()`` do not wait.
    """
    retry.reset()
    yield retry.sleeps
    retry.reset()
