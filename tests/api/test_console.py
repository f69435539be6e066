"""The example agent console page (example_project/templates/console.html).

The browser test drives it for real; these check the page's contract: login,
stable ids, the API URLs it calls, the CSRF token, and framing rules.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def example_urls(settings):
    settings.ROOT_URLCONF = "example_project.urls"
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [ROOT / "example_project" / "templates"]}
    ]


@pytest.mark.django_db
def test_console_needs_a_login(client, example_urls):
    response = client.get("/console/")
    assert response.status_code == 302
    # The console's own login: the API's agents need not be staff, whom the admin refuses.
    assert response["Location"] == "/console/login/?next=/console/"


@pytest.mark.django_db
def test_console_page_has_the_stable_hooks_and_api_urls(client, example_urls):
    client.force_login(User.objects.create_user("agent"))
    response = client.get("/console/")

    assert response.status_code == 200
    html = response.content.decode()
    for hook in (
        'id="search"',
        'id="online-only"',
        'id="results"',
        'id="share-frame"',
        'id="stop-session"',
        'id="session-state"',
        "start-share",
    ):
        assert hook in html, hook
    assert '"/upscope/api/visitors/"' in html
    assert '"/upscope/api/visitors/SHORT_ID/watch-url/"' in html
    assert '"/upscope/api/visitors/SHORT_ID/session/"' in html
    assert re.search(r'name="csrfmiddlewaretoken" value="[^"]+"', html)
    assert "csrftoken" in response.cookies
    # The frame's messages are trusted only from the watch page's origin and window.
    assert "event.origin !== current.origin" in html
    assert "event.source !== frame.contentWindow" in html
    # No third-party script or stylesheet.
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"https?://", html)
    assert response["X-Frame-Options"] == "SAMEORIGIN"


@pytest.mark.django_db
def test_ended_page_is_the_small_frame_page(client, example_urls):
    client.force_login(User.objects.create_user("agent"))
    response = client.get("/console/", {"ended": "1"})
    html = response.content.decode()
    assert 'id="frame-ended"' in html
    assert 'id="results"' not in html
