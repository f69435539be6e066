"""The example project, with the fake's watch URLs spelt ``http://LOCALHOST:80/...``.

Only for ``tests/browser/test_hardening.py``: Upscope may answer a watch URL whose host is in
upper case or carries its default port, which the browser serializes to ``http://localhost``
as the frame's origin. Python's HTTP client lower-cases the host it calls and drops default
ports, so the fake cannot be asked that way; this middleware rewrites the fake's answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from example_project.settings import *  # noqa: F403
from example_project.settings import MIDDLEWARE

WATCH_URL_PATH = re.compile(r"^/__upscope__/v1\.1/visitors/[^/]+/watch_url\.json$")
ODD_ORIGIN = "http://LOCALHOST:80"


def odd_watch_host(get_response: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Rewrite the origin of the fake's minted watch URL to :data:`ODD_ORIGIN`."""

    def middleware(request: Any) -> Any:
        response = get_response(request)
        if WATCH_URL_PATH.match(request.path) and response.status_code == 200:
            body = json.loads(response.content)
            body["watch_url"] = re.sub(r"^https?://[^/]+", ODD_ORIGIN, body["watch_url"])
            response.content = json.dumps(body).encode()
            response["Content-Length"] = str(len(response.content))
        return response

    return middleware


MIDDLEWARE = ["tests.browser.upper_host_settings.odd_watch_host", *MIDDLEWARE]

# The rewritten watch URL points at ``localhost``, not the API's host: let it be framed.
from example_project.settings import UPSCOPE  # noqa: E402

UPSCOPE = {**UPSCOPE, "WATCH_URL_HOSTS": ["localhost", "127.0.0.1"]}
