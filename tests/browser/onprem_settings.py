"""The example project on the fake's on-premise API (``BASE_ENDPOINT`` and ``REST_KEY``).

For ``tests/browser/test_onprem_console.py``: the same database and fake as the demo, but
the configured Upscope server is on-premise, which documents only the read endpoints, so no
surface may offer a screen share, a stop, a delete or a purge.
"""

from __future__ import annotations

from example_project.settings import *  # noqa: F403
from example_project.settings import UPSCOPE, env

UPSCOPE = {
    **{key: value for key, value in UPSCOPE.items() if key not in ("API_KEY", "API_URL")},
    "BASE_ENDPOINT": env("UPSCOPE_FAKE_URL").rstrip("/") + "/onprem",
    "REST_KEY": "fake_rest_key",
}
