"""System check W020: the tag used without the settings it needs."""

from __future__ import annotations

import pytest

from django_upscope.identity_checks import check_snippet_settings


@pytest.fixture
def project_templates(settings, tmp_path):
    def use(text):
        (tmp_path / "page.html").write_text(text)
        settings.TEMPLATES = [
            {**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]},
        ]
        return tmp_path / "page.html"

    return use


def ids(messages):
    return [message.id for message in messages]


def test_warns_when_a_template_uses_the_tag_without_a_public_key(settings, project_templates):
    page = project_templates("{% load upscope %}<head>{% upscope_snippet %}</head>")
    settings.UPSCOPE = {**settings.UPSCOPE, "SNIPPET_URL": "https://code.example.test/a.js"}
    messages = check_snippet_settings()
    assert ids(messages) == ["django_upscope.W020"]
    assert str(page) in messages[0].msg and "PUBLIC_API_KEY" in messages[0].msg


def test_silent_when_the_settings_are_there(settings, project_templates):
    project_templates("{% load upscope %}{% upscope_snippet %}")
    settings.UPSCOPE = {
        **settings.UPSCOPE,
        "PUBLIC_API_KEY": "pub",
        "SNIPPET_URL": "https://code.example.test/a.js",
    }
    assert check_snippet_settings() == []


def test_silent_when_no_template_uses_the_tag(settings, project_templates):
    project_templates("<p>no snippet here</p>")
    assert settings.UPSCOPE.get("PUBLIC_API_KEY") is None
    assert check_snippet_settings() == []
