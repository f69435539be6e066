"""The README's screenshots, taken in the real browser from the demo as it is.

Each screen is checked before it is shot (the element the README describes is on it), at a
laptop's viewport (1366x768). The shots go to ``artifacts/browser/readme/``; with
``UPSCOPE_SCREENSHOTS=docs/screenshots`` (``make screenshots``) they replace the README's own
images, so the pictures follow the pages instead of going stale.
"""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import ARTIFACTS, REPO, log_in

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1366, "height": 768}
#: The screens the README shows, in its order.
SCREENS = ("visitor-list", "visitor-page", "screen-share", "usage", "console")


def target_dir() -> Path:
    chosen = os.environ.get("UPSCOPE_SCREENSHOTS")
    path = Path(chosen) if chosen else ARTIFACTS / "browser" / "readme"
    path = path if path.is_absolute() else REPO / path
    path.mkdir(parents=True, exist_ok=True)
    return path


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (no imaging library needed)."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_the_readme_shows_each_screen_from_docs_screenshots():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Screenshots\n", 1)[1].split("\n## ", 1)[0]
    shown = re.findall(r"\]\((docs/screenshots/[a-z-]+\.png)\)", section)
    assert shown == [f"docs/screenshots/{name}.png" for name in SCREENS]
    for path in shown:
        assert png_size(REPO / path) == (VIEWPORT["width"], VIEWPORT["height"]), path


def test_screenshots_of_the_main_screens(chromium, demo_server, online_visitors):
    context = chromium.new_context(viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    page = context.new_page()
    out = target_dir()
    shots: dict[str, Path] = {}

    def shoot(name: str) -> None:
        shots[name] = out / f"{name}.png"
        page.screenshot(path=str(shots[name]))

    try:
        visitor = online_visitors[2]
        short_id, name = visitor["short_id"], visitor["display_name"]
        log_in(page, demo_server, "agent", next_path="/admin/django_upscope/visitor/")
        expect(page.locator("#result_list tbody tr").first).to_be_visible()
        shoot("visitor-list")

        page.goto(demo_server.url(f"/admin/django_upscope/visitor/{short_id}/change/"))
        expect(page.locator("#content h2, #content h1").first).to_be_visible()
        expect(page.locator("#content")).to_contain_text(short_id)
        shoot("visitor-page")

        page.goto(demo_server.url(f"/admin/django_upscope/visitor/{short_id}/change/"))
        page.locator(".object-tools").get_by_role("link", name="Start screen share").click()
        frame = page.frame_locator("iframe#upscope-watch-frame")
        expect(frame.locator("body")).to_have_attribute("data-status", "active")
        expect(page.locator("#upscope-session-state")).to_have_attribute("data-state", "active")
        expect(page.locator("h1")).to_contain_text(name)
        shoot("screen-share")
        page.locator("#upscope-stop").click()
        expect(page.locator("#upscope-session-state")).to_have_attribute("data-state", "ended")

        # The usage page, reached as an agent does: from the admin index.
        page.goto(demo_server.url("/admin/"))
        page.get_by_role("link", name=re.compile("usage snapshots", re.I)).first.click()
        expect(page).to_have_url(demo_server.url("/admin/django_upscope/usagesnapshot/"))
        expect(page.locator("svg#upscope-usage-chart")).to_be_visible()
        shoot("usage")

        page.goto(demo_server.url("/console/"))
        expect(page.locator("#results li.visitor").first).to_be_visible()
        shoot("console")
    finally:
        context.close()
    assert sorted(shots) == sorted(SCREENS)
    for path in shots.values():
        assert png_size(path) == (VIEWPORT["width"], VIEWPORT["height"])
