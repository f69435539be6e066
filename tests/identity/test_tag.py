"""``{% upscope_snippet %}``: what it renders for anonymous visitors and users, safely."""

from __future__ import annotations

import json
import logging
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.test import RequestFactory

from django_upscope.identity import unique_id_for

from ..helpers import make_user

pytestmark = pytest.mark.django_db

PUBLIC_KEY = "fake_public_abc"
SECRET_KEY = "fake_secret_api_key_never_in_pages"
LOADER = "https://code.example.test/ABC123.js"
EVIL_NAME = '</script><script>alert("x")</script><!--'


class Scripts(HTMLParser):
    """Every ``<script>``: its attributes and its text, as a browser's tokenizer sees them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._open: dict[str, str | None] | None = None
        self._text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._open, self._text = dict(attrs), []

    def handle_data(self, data):
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._open is not None:
            self.scripts.append((self._open, "".join(self._text)))
            self._open = None


@pytest.fixture(autouse=True)
def snippet_settings(settings):
    settings.SECRET_KEY = "tests-only-secret-key"
    settings.UPSCOPE = {
        **settings.UPSCOPE,
        "API_KEY": SECRET_KEY,
        "PUBLIC_API_KEY": PUBLIC_KEY,
        "SNIPPET_URL": LOADER,
    }
    return settings


def render(user=None, template="{% load upscope %}{% upscope_snippet %}", **context):
    request = RequestFactory().get("/account/")
    request.user = user or AnonymousUser()
    for name, value in context.pop("request_attrs", {}).items():
        setattr(request, name, value)
    return Template(template).render(Context({"request": request, **context}))


def init_data(html):
    scripts = Scripts(html).scripts
    assert [attrs.get("type") for attrs, _text in scripts] == ["application/json", None, None]
    (attrs, text), init_js, loader = scripts
    assert attrs["id"] == "upscope-init"
    assert init_js[0]["src"] == "/static/django_upscope/snippet.js" and init_js[1] == ""
    assert loader[0]["src"] == LOADER and "async" in loader[0] and loader[1] == ""
    return json.loads(text)


def test_anonymous_visitor_gets_the_plain_installation():
    assert init_data(render()) == {"apiKey": PUBLIC_KEY}


def test_anonymous_visitor_gets_nothing_by_setting(settings):
    settings.UPSCOPE = {**settings.UPSCOPE, "SNIPPET_FOR_ANONYMOUS": False}
    assert render().strip() == ""
    user = make_user("carla", staff=False, first_name="Carla")
    assert init_data(render(user))["identities"] == ["Carla"]  # positive control


def test_user_gets_their_identity():
    user = make_user("carla", staff=False, first_name="Carla", last_name="Customer")
    assert init_data(render(user)) == {
        "apiKey": PUBLIC_KEY,
        "uniqueId": unique_id_for(user),
        "identities": ["Carla Customer"],
    }


def test_a_name_with_script_end_tags_cannot_break_out():
    user = make_user("eve", staff=False, first_name=EVIL_NAME)
    html = render(user)
    # The tokenizer still sees exactly the three scripts, and the name comes back intact.
    assert init_data(html)["identities"] == [EVIL_NAME]
    assert "</script><script>" not in html.split("</script>", 1)[0]
    assert "<!--" not in html


def test_no_secret_and_no_raw_email_or_pk_reach_the_page():
    user = make_user("carla", staff=False, first_name="Carla", email="carla@example.com")
    html = render(user)
    assert PUBLIC_KEY in html  # positive control: the public key is there
    for secret in (SECRET_KEY, "tests-only-secret-key", "carla@example.com"):
        assert secret not in html
    assert init_data(html)["uniqueId"] != str(user.pk)


def test_email_reaches_the_page_when_configured(settings):
    settings.UPSCOPE = {**settings.UPSCOPE, "VISITOR_EMAIL": True}
    user = make_user("carla", staff=False, first_name="Carla", email="carla@example.com")
    assert init_data(render(user))["identities"] == ["Carla", "carla@example.com"]


@pytest.mark.parametrize(
    ("template", "context"),
    [
        ("{% load upscope %}{% upscope_snippet %}", {"request_attrs": {"csp_nonce": "n0nce"}}),
        ("{% load upscope %}{% upscope_snippet %}", {"csp_nonce": "n0nce"}),
        ("{% load upscope %}{% upscope_snippet nonce=my_nonce %}", {"my_nonce": "n0nce"}),
    ],
    ids=["request.csp_nonce", "context csp_nonce", "argument"],
)
def test_both_scripts_carry_the_nonce(template, context):
    scripts = Scripts(render(template=template, **context)).scripts
    assert [attrs.get("nonce") for attrs, _text in scripts[1:]] == ["n0nce", "n0nce"]


def test_no_nonce_attribute_without_a_nonce():
    scripts = Scripts(render()).scripts
    assert len(scripts) == 3
    assert all("nonce" not in attrs for attrs, _text in scripts)


@pytest.mark.parametrize("missing", ["PUBLIC_API_KEY", "SNIPPET_URL"])
def test_renders_nothing_without_its_settings(settings, caplog, missing):
    settings.UPSCOPE = {**settings.UPSCOPE, missing: None}
    with caplog.at_level(logging.WARNING, logger="django_upscope.identity"):
        assert render().strip() == ""
    assert "rendered nothing" in caplog.text


def test_the_secret_key_is_never_used_as_the_public_one(settings):
    settings.UPSCOPE = {**settings.UPSCOPE, "PUBLIC_API_KEY": None}
    assert SECRET_KEY not in render()
