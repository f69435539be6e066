"""Check that Playwright can drive the system Chromium before the browser tests run.

Usage: python scripts/browser_smoke.py   (CHROMIUM overrides /usr/bin/chromium)

A failure here means the browser tests cannot run at all on this machine; it is reported as
such instead of as a wall of failing tests.
"""

from __future__ import annotations

import os
import sys

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# What Chromium needs on a headless machine with no network but the package registries.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGE = "<title>smoke</title><button onclick=\"this.textContent='ok'\">go</button>"


def main() -> int:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("browser smoke: playwright is not installed in this environment", file=sys.stderr)
        return 1
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page()
            page.set_content(PAGE)
            page.click("button")
            text = page.text_content("button")
            version = browser.version
        finally:
            browser.close()
    if text != "ok":
        print(f"browser smoke: unexpected page text {text!r}", file=sys.stderr)
        return 1
    print(f"    browser smoke: Playwright drove {CHROMIUM} (Chromium {version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
