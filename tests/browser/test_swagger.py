"""Swagger UI and Redoc of the API, in Chromium: they render, and nothing leaves 127.0.0.1.

The servers our users deploy to may have no internet, so every asset comes from
drf-spectacular-sidecar through the project's static files: each request the pages make
is recorded (``page.on("request")``) and its host must be the demo server's.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from .conftest import log_in, session_cookie

pytestmark = pytest.mark.browser

LOCAL_HOSTS = {"127.0.0.1", "localhost"}


class Recorded:
    """Every request a page made, and those its Content-Security-Policy stopped unsent."""

    def __init__(self, page):
        self.urls: list[str] = []
        self.blocked: list[str] = []
        page.on("request", lambda request: self.urls.append(request.url))
        page.on("requestfailed", self._failed)

    def _failed(self, request):
        if request.failure == "csp":
            self.blocked.append(request.url)

    def sent(self):
        return [url for url in self.urls if url not in self.blocked]


def record_requests(page):
    return Recorded(page)


def host(url):
    # blob: and data: URLs never reach a network; a blob: URL names the origin that made it.
    if url.startswith("data:"):
        return "127.0.0.1"
    return urlsplit(url.removeprefix("blob:")).hostname


def assert_all_local(recorded):
    sent = recorded.sent()
    assert sent, "the page made no request at all"
    foreign = [url for url in sent if host(url) not in LOCAL_HOSTS]
    assert foreign == [], f"requests left 127.0.0.1: {foreign}"


def test_swagger_ui_renders_the_operations_from_local_assets(page, demo_server, shoot):
    urls = record_requests(page)
    log_in(page, demo_server, "admin")
    response = page.goto(demo_server.url("/upscope/api/schema/swagger-ui/"))
    assert "default-src 'self'" in response.headers["content-security-policy"]
    operations = page.locator(".opblock")
    operations.first.wait_for()
    assert (
        page.locator(".information-container .title").inner_text().startswith("django-upscope API")
    )
    summaries = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/upscope/api/visitors/{short_id}/watch-url/" in [s.strip() for s in summaries]
    assert operations.count() >= 9
    shoot(page, "swagger-ui")
    assert any(url.endswith("/swagger-ui-bundle.js") for url in urls.sent())
    assert any("/upscope/api/schema/" in u and "swagger-ui" not in u for u in urls.sent())
    assert urls.blocked == []
    assert_all_local(urls)
    assert page.console_watch.ours() == []


def test_redoc_renders_the_operations_from_local_assets(page, demo_server, shoot):
    urls = record_requests(page)
    log_in(page, demo_server, "admin")
    response = page.goto(demo_server.url("/upscope/api/schema/redoc/"))
    assert "default-src 'self'" in response.headers["content-security-policy"]
    page.locator("h2", has_text="Mint a watch URL for the requesting user").first.wait_for()
    shoot(page, "redoc")
    assert any(url.endswith("/redoc.standalone.js") for url in urls.sent())
    assert_all_local(urls)
    # Redoc's bundle always asks for a logo on cdn.redoc.ly: the page's CSP stops it unsent
    # (the browser says so on the console), and only it.
    assert set(urls.blocked) <= {"https://cdn.redoc.ly/redoc/logo-mini.svg"}
    errors = [e for e in page.console_watch.ours() if "cdn.redoc.ly/redoc/logo-mini.svg" not in e]
    assert errors == []


def test_the_schema_pages_refuse_an_agent_who_is_not_staff(page, demo_server):
    # The positive control is the admin above: the same page, rendered.
    page.context.add_cookies([session_cookie(demo_server, "visitor")])
    response = page.goto(demo_server.url("/upscope/api/schema/swagger-ui/"))
    assert response.status == 403
