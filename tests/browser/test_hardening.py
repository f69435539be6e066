"""Issue 12 (hardening) in a real browser: a share page reached from another site, a watch
URL whose origin is spelt oddly, and the watch iframe's sandbox.

Django's test client sends no ``Origin`` header and runs no script, which is how these
slipped through; the test-client halves are in ``tests/security/test_hardening.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import DemoServer, _free_port, log_in

pytestmark = pytest.mark.browser

ELSEWHERE = "http://tickets.elsewhere.test"
SANDBOX = "allow-scripts allow-same-origin allow-top-navigation-by-user-activation"


def share_path(short_id: str) -> str:
    return f"/admin/django_upscope/visitor/{short_id}/screenshare/"


def test_a_link_from_another_site_starts_the_share_after_the_button(
    page, demo_server, online_visitors, shoot
):
    """Upscope's "Retry now" link and links in tickets come from another site: the
    confirmation's button must mint and show the frame (it was a CSRF 403, Origin: null)."""
    short_id = online_visitors[1]["short_id"]
    log_in(page, demo_server, "agent")
    expect(page.locator("#user-tools")).to_be_visible()
    target = demo_server.url(share_path(short_id))
    page.route(
        f"{ELSEWHERE}/**",
        lambda route: route.fulfill(
            status=200,
            content_type="text/html",
            body=f'<!DOCTYPE html><title>Ticket</title><a id="go" href="{target}">Watch</a>',
        ),
    )
    page.goto(f"{ELSEWHERE}/ticket/42")
    page.locator("#go").click()
    # Another site sent us here: a confirmation, not a session.
    expect(page.locator("#upscope-start-form")).to_be_visible()
    expect(page.locator("iframe")).to_have_count(0)
    shoot(page, "confirmation")

    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator("#upscope-start-form [type=submit]").click()
    response = posted.value
    assert response.request.header_value("origin") == demo_server.base_url
    assert response.status == 200
    # The share page itself, which holds the watch URL, keeps it out of referrers.
    assert response.header_value("referrer-policy") == "no-referrer"
    frame = page.frame_locator("iframe#upscope-watch-frame")
    expect(frame.locator("section.screen")).to_be_visible()
    expect(page.locator("#upscope-session-state")).to_have_attribute("data-state", "active")
    shoot(page, "share-after-confirmation")
    assert page.console_watch.ours() == []


def test_the_watch_frame_is_sandboxed_and_still_works(page, demo_server, online_visitors, shoot):
    short_id = online_visitors[0]["short_id"]
    log_in(page, demo_server, "agent", next_path=share_path(short_id))
    iframe = page.locator("iframe#upscope-watch-frame")
    expect(iframe).to_have_attribute("sandbox", SANDBOX)
    # The demo's agent may talk to the visitor: microphone and autoplay, nothing more.
    expect(iframe).to_have_attribute("allow", "microphone; autoplay")
    frame = page.frame_locator("iframe#upscope-watch-frame")
    # Scripts run in the frame (it polls its status) and its events reach the page.
    expect(frame.locator("body")).to_have_attribute("data-status", "active")
    state = page.locator("#upscope-session-state")
    expect(state).to_have_attribute("data-state", "active")
    shoot(page, "sandboxed-active")
    page.locator("#upscope-stop").click()
    expect(page.locator("#upscope-stop-message")).to_have_text("The session was stopped.")
    expect(state).to_have_attribute("data-state", "ended")
    # The frame saw the session end too (its own polling, inside the sandbox).
    expect(frame.locator("body")).to_have_attribute("data-status", "ended")
    assert page.console_watch.ours() == []


@pytest.fixture(scope="module")
def odd_host_server(demo_server: DemoServer) -> Iterator[DemoServer]:
    """A second server on the demo's database whose fake mints ``http://LOCALHOST:80/...``."""
    base_url = f"http://127.0.0.1:{_free_port()}"
    env = {
        **demo_server.env,
        "DJANGO_SETTINGS_MODULE": "tests.browser.upper_host_settings",
        "UPSCOPE_FAKE_URL": f"{base_url}/__upscope__",
    }
    server = DemoServer(
        base_url=base_url,
        env=env,
        root=demo_server.root,
        log_path=demo_server.root / "odd-host-server.log",
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()


def test_events_of_a_watch_url_with_an_upper_case_host_and_default_port_are_honoured(
    chromium, odd_host_server, online_visitors, shoot
):
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    served: list[str] = []

    def to_the_server(route: Any) -> None:
        # http://LOCALHOST:80/... is http://localhost/... to the browser: serve it from the
        # odd-host server, so that the frame's origin is "http://localhost".
        path = re.sub(r"^http://localhost", "", route.request.url)
        served.append(path)
        route.fulfill(response=route.fetch(url=odd_host_server.url(path)))

    try:
        page.route(re.compile(r"^http://localhost/"), to_the_server)
        short_id = online_visitors[2]["short_id"]
        log_in(page, odd_host_server, "agent", next_path=share_path(short_id))
        iframe = page.locator("iframe#upscope-watch-frame")
        expect(iframe).to_have_attribute(
            "src", re.compile(r"^http://LOCALHOST:80/__upscope__/watch/[^/?#]+$")
        )
        frame = page.frame_locator("iframe#upscope-watch-frame")
        expect(frame.locator("body")).to_have_attribute("data-status", "active")
        assert page.frames[1].url.startswith("http://localhost/__upscope__/watch/")
        # The page honoured the frame's events: the expected origin matched the browser's.
        expect(page.locator("#upscope-session-state")).to_have_attribute("data-state", "active")
        shoot(page, "odd-host-active")
        assert any(p.startswith("/__upscope__/watch/") for p in served)
    finally:
        context.close()
