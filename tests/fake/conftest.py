"""Helpers for the fake's own tests: an in-process HTTP client with a fake key."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client

from django_upscope.fake import state

CLOUD = "/__upscope__/v1.1"
ONPREM = "/__upscope__/onprem/api"


class FakeAPI:
    """Calls the fake through Django's test client with given credentials."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def call(
        self,
        method: str,
        path: str,
        *,
        key: str | None = "fake_test_key",
        authorization: str | None = None,
        body: Any = None,
        **params: str,
    ) -> Any:
        headers = {}
        if key is not None:
            headers["X-Api-Key"] = key
        if authorization is not None:
            headers["Authorization"] = authorization
        prefix = ONPREM if path.startswith("onprem:") else CLOUD
        url = prefix + path.removeprefix("onprem:")
        if method == "GET":
            return self.client.get(url, params, headers=headers)
        if params:
            url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
        data = body if isinstance(body, (str, bytes)) or body is None else json.dumps(body)
        return getattr(self.client, method.lower())(
            url, data=data or "", content_type="application/json", headers=headers
        )

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.call("GET", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.call("DELETE", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.call("POST", path, **kwargs)

    def onprem(self, path: str, **kwargs: Any) -> Any:
        kwargs.setdefault("key", None)
        kwargs.setdefault("authorization", "fake_rest_key")
        return self.call("GET", "onprem:" + path, **kwargs)

    def watch(self, short_id: str, **body: Any) -> Any:
        payload = {"agent": {"id": "agent-7", "name": "Ada Agent"}, **body}
        return self.post(f"/visitors/{short_id}/watch_url.json", body=payload)


@pytest.fixture
def api(db: None, client: Client) -> FakeAPI:
    return FakeAPI(client)


@pytest.fixture
def visitor(db: None) -> Any:
    return state.create_visitor(
        short_id="VIS00001",
        identities=["Grace Hopper", "grace@navy.example"],
        unique_id="user-42",
        is_online=True,
        last_url="https://shop.example.com/checkout",
        device_type="mobile",
        device_name="iPhone",
        browser_name="Mobile Safari 18",
        location_city="Arlington",
        location_country="US",
        utc_offset_minutes=60,
    )


class Clock:
    """The fake's clock (``state.now``), frozen until a test moves it forward."""

    def __init__(self, start: dt.datetime) -> None:
        self.moment = start

    def __call__(self) -> dt.datetime:
        return self.moment

    def advance(self, seconds: float) -> dt.datetime:
        self.moment += dt.timedelta(seconds=seconds)
        return self.moment


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Freeze the fake's clock at noon UTC today (so "today" holds a whole test)."""
    noon = dt.datetime.now(dt.timezone.utc).replace(hour=12, minute=0, second=0, microsecond=0)
    frozen = Clock(noon)
    monkeypatch.setattr(state, "now", frozen)
    return frozen
