"""Identify your visitors, the whole loop, in two browsers on the example project and its fake.

A customer logs in and opens the account page: ``{% upscope_snippet %}`` identifies her
visitor to the fake (through its stand-in loader) and the page shows her lookup code. In
another browser the agent finds her in the User admin and presses 'Screen share' (one
match: the watch frame, with her name), or types her code on 'Screen share by code'. A
second browser of the same customer makes two matches (the chooser); once her pages are
gone there are none ('not on the site right now'). A user whose name holds ``</script>``
gets a page whose scripts are only the snippet's. Screenshots go to ``artifacts/browser/``;
the two-browser picture is ``identify-loop.png`` there (the README's copy is in
``docs/screenshots/``).
"""

from __future__ import annotations

import base64
import re

import pytest
from playwright.sync_api import expect

from .conftest import SCREENSHOTS, log_in, session_cookie

pytestmark = pytest.mark.browser

CUSTOMER = "Carla Customer"
EVIL_NAME = "</script><script>window.pwned = 1</script><!--"
SHARE_PAGE = r"/admin/django_upscope/visitor/([^/]+)/screenshare/$"
#: Bounded: the fake registers a page's visitor within one round trip of the loader.
POLLS = 20
CAPTIONS = ("The customer's browser", "The agent's browser")


@pytest.fixture
def contexts(chromium, demo_server):
    """``open_page()`` opens a page in a new browser context (its own cookies and storage)."""
    opened = []

    def open_page():
        context = chromium.new_context(viewport={"width": 1100, "height": 720})
        context.set_default_timeout(15_000)
        opened.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.on("console", lambda message: _console_error(page, message))
        return page

    yield open_page
    for context in opened:
        # Leave the pages first: closing a context sends no "page hidden" beacon, and the
        # customer's visitor would stay online in the fake for the next test.
        for open_ in context.pages:
            open_.goto("about:blank")
        context.close()


def _console_error(page, message):
    # Chromium asks every site for /favicon.ico, which the example project does not serve.
    url = (message.location or {}).get("url") or ""
    if message.type == "error" and not url.endswith("/favicon.ico"):
        page.errors.append(f"{message.text} [{url}]")


def customer_logs_in(page, server):
    page.goto(server.url("/account/"))
    expect(page).to_have_url(re.compile(r"/account/login/"))
    page.locator("#id_username").fill("customer")
    page.locator("#id_password").fill("customer")
    page.locator("#account-login [type=submit]").click()
    expect(page).to_have_url(server.url("/account/"))
    code = page.locator("#upscope-lookup-code")
    expect(code).to_have_text(re.compile(r"^[0-9]{4}$"))
    return code.inner_text()


def online_visitors_of(server, username):
    """The fake's online visitors identified as ``username`` (short_id, identities, code)."""
    return server.query(
        "import json\n"
        "from django.contrib.auth import get_user_model\n"
        "from django_upscope.identity import unique_id_for\n"
        "from django_upscope.fake.models import FakeVisitor\n"
        f"user = get_user_model().objects.get(username={username!r})\n"
        "rows = FakeVisitor.objects.filter(unique_id=unique_id_for(user), is_online=True)\n"
        "print(json.dumps([[v.short_id, v.identities, v.lookup_code] "
        "for v in rows.order_by('short_id')]))"
    )


def wait_for_online_count(server, username, count):
    for _ in range(POLLS):
        visitors = online_visitors_of(server, username)
        if len(visitors) == count:
            return visitors
    pytest.fail(f"{username} never had {count} online visitor(s): {visitors}")


def open_users_screen_share(agent, server, name):
    agent.goto(server.url("/admin/auth/user/"))
    agent.locator("#searchbar").fill(name.split()[0])
    agent.locator("#changelist-search [type=submit]").click()
    agent.locator("#result_list tbody tr").filter(has_text=name.split()[0]).locator("th a").click()
    button = agent.locator(".object-tools a.upscope-identity-screenshare")
    expect(button).to_have_text("Screen share")
    button.click()


def expect_watching(agent, server, name):
    expect(agent).to_have_url(re.compile(re.escape(server.base_url) + SHARE_PAGE))
    expect(agent.locator("h1")).to_contain_text(name)
    frame = agent.frame_locator("iframe#upscope-watch-frame")
    expect(frame.locator(".topbar .who")).to_contain_text(f"Sam Support watching {name}")


def side_by_side(page, left, right, path):
    """One picture of the two browsers (no image library: the browser lays it out)."""
    images = [base64.b64encode(p.read_bytes()).decode() for p in (left, right)]
    page.set_viewport_size({"width": 2240, "height": 800})
    page.set_content(
        "<body style='margin:0;background:#d0d7de;display:flex;gap:16px;padding:16px'>"
        + "".join(
            f"<figure style='margin:0'><figcaption style='font:600 18px sans-serif;"
            f"padding:4px 0'>{caption}</figcaption><img style='width:1096px;border:1px solid "
            f"#888' src='data:image/png;base64,{data}'></figure>"
            for caption, data in zip(CAPTIONS, images, strict=True)
        )
        + "</body>"
    )
    page.screenshot(path=str(path), full_page=True)


def test_the_two_browser_loop(contexts, demo_server, shoot):
    customer = contexts()
    code = customer_logs_in(customer, demo_server)
    expect(customer.locator("#customer-name")).to_have_text(CUSTOMER)
    (visitor,) = wait_for_online_count(demo_server, "customer", 1)
    assert visitor[1] == [CUSTOMER] and visitor[2] == code
    html = customer.content()
    for secret in ("fake_demo_key", "customer@example.com", "django-insecure"):
        assert secret not in html
    assert "fake_public_key" in html  # positive control: the public key is on the page
    customer_shot = shoot(customer, "customer-account-page")

    # The agent finds her in the User admin: one match, the watch frame with her name.
    agent = contexts()
    log_in(agent, demo_server, "agent")
    open_users_screen_share(agent, demo_server, CUSTOMER)
    expect_watching(agent, demo_server, CUSTOMER)
    assert re.search(SHARE_PAGE, agent.url).group(1) == visitor[0]
    agent_shot = shoot(agent, "agent-watching-customer")
    side_by_side(contexts(), customer_shot, agent_shot, SCREENSHOTS / "identify-loop.png")

    # Or by the code she reads out.
    agent.goto(demo_server.url("/admin/django_upscope/visitor/"))
    agent.locator("#upscope-screenshare-by-code").click()
    agent.locator("#upscope-code").fill(code)
    shoot(agent, "screen-share-by-code")
    agent.locator("#upscope-by-code [type=submit]").click()
    expect_watching(agent, demo_server, CUSTOMER)
    assert re.search(SHARE_PAGE, agent.url).group(1) == visitor[0]
    assert customer.errors == [] and agent.errors == []

    # She leaves: the next test starts with nobody online.
    customer.goto("about:blank")
    wait_for_online_count(demo_server, "customer", 0)


def test_several_then_none(contexts, demo_server, shoot):
    first, second = contexts(), contexts()
    customer_logs_in(first, demo_server)
    customer_logs_in(second, demo_server)
    visitors = wait_for_online_count(demo_server, "customer", 2)

    agent = contexts()
    log_in(agent, demo_server, "agent")
    open_users_screen_share(agent, demo_server, CUSTOMER)
    expect(agent.locator("#content-main")).to_have_attribute("data-outcome", "several")
    rows = agent.locator("#upscope-choices tr.upscope-choice.online")
    expect(rows).to_have_count(2)
    assert {rows.nth(i).get_attribute("data-short-id") for i in range(2)} == {
        v[0] for v in visitors
    }
    expect(rows.first).to_contain_text("/account/")
    shoot(agent, "chooser")
    chosen = rows.first.get_attribute("data-short-id")
    rows.first.locator("a.upscope-choose").click()
    expect_watching(agent, demo_server, CUSTOMER)
    assert re.search(SHARE_PAGE, agent.url).group(1) == chosen

    # Her pages go: the fake hears them leave, and nobody is on the site.
    first.goto("about:blank")
    second.goto("about:blank")
    wait_for_online_count(demo_server, "customer", 0)
    open_users_screen_share(agent, demo_server, CUSTOMER)
    outcome = agent.locator("#content-main")
    expect(outcome).to_have_attribute("data-outcome", "none")
    expect(outcome).to_contain_text("This customer is not on the site right now.")
    expect(agent.locator("#upscope-last-seen time")).to_have_attribute(
        "datetime", re.compile(r"^\d{4}-\d\d-\d\dT")
    )
    shoot(agent, "not-on-the-site")
    assert agent.errors == []


def test_a_name_with_script_tags_stays_data(contexts, demo_server):
    demo_server.query(
        "import json\n"
        "from django.contrib.auth import get_user_model\n"
        "user, _ = get_user_model().objects.get_or_create(username='eve')\n"
        f"user.first_name = {EVIL_NAME!r}\n"
        "user.save()\n"
        "print(json.dumps(user.pk))"
    )
    page = contexts()
    page.context.add_cookies([session_cookie(demo_server, "eve")])
    page.goto(demo_server.url("/account/"))
    expect(page.locator("#upscope-lookup-code")).to_have_text(re.compile(r"^[0-9]{4}$"))
    expect(page.locator("#customer-name")).to_have_text(EVIL_NAME)
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.title() == "Your account | Example Shop"
    scripts = page.evaluate("Array.from(document.scripts, s => s.type || s.src)")
    assert scripts[0] == "application/json" and len(scripts) == 4
    (visitor,) = wait_for_online_count(demo_server, "eve", 1)
    assert visitor[1] == [EVIL_NAME]
    assert page.errors == []
