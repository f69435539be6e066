"""The page a minted watch URL opens, and the status endpoint it polls."""

from __future__ import annotations

import json
import re

import pytest

from django_upscope.fake import state


def _mint(api, short_id="VIS00001", **body):
    response = api.watch(short_id, **body)
    assert response.status_code == 200
    url = response.json()["watch_url"]
    return url.removeprefix("http://testserver"), url.rsplit("/", 1)[1]


def test_watch_page_shows_the_visitor_screen(api, visitor):
    path, _ = _mint(api)
    response = api.client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert "https://shop.example.com/checkout" in html  # last URL in the address bar
    assert "iPhone" in html and "Mobile Safari 18" in html
    assert 'class="cursor"' in html
    assert "Ada Agent" in html and "Grace Hopper" in html
    assert 'data-testid="upscope-logo"' in html
    assert 'data-status="active"' in html


def test_watch_page_is_embeddable_and_private(api, visitor):
    path, _ = _mint(api)
    response = api.client.get(path)
    assert "X-Frame-Options" not in response
    csp = response["Content-Security-Policy"]
    assert "frame-ancestors 'self' http://127.0.0.1:* http://localhost:*" in csp
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert f'<script nonce="{nonce}">' in response.content.decode()
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["Cache-Control"] == "no-store"


def test_naked_branding_hides_the_logo(api, visitor):
    path, _ = _mint(api, branding={"naked": True})
    html = api.client.get(path).content.decode()
    assert 'data-testid="upscope-logo"' not in html
    assert "Ada Agent" in html


def test_no_bottom_bar_and_retry_url(api, visitor):
    path, _ = _mint(api, branding={"no_bottom_bar": True, "retry_url": "https://example.com/r"})
    html = api.client.get(path).content.decode()
    assert 'id="bottom-bar"' not in html
    assert 'href="https://example.com/r"' in html
    path, _ = _mint(api)
    assert 'id="bottom-bar"' in api.client.get(path).content.decode()


def test_granted_permissions_are_listed(api, visitor):
    path, _ = _mint(api, permissions={"allow_click": False, "allow_console": True})
    html = api.client.get(path).content.decode()
    granted = dict(re.findall(r'data-permission="(\w+)" data-granted="(\w+)"', html))
    assert granted == {
        "allow_click": "false",
        "allow_type": "true",
        "allow_scroll": "true",
        "allow_draw": "true",
        "allow_audio": "true",
        "allow_agent_redirect": "true",
        "allow_console": "true",
    }


def test_page_config_carries_no_watch_token_into_messages(api, visitor):
    path, token = _mint(api, branding={"on_end_url": "https://example.com/ended"})
    html = api.client.get(path).content.decode()
    raw = re.search(
        r'<script id="upscope-fake-config" type="application/json">(.*?)</script>', html, re.S
    ).group(1)
    config = json.loads(raw)
    assert config["onEndUrl"] == "https://example.com/ended"
    assert config["status"] == "active"
    # Only the page's own status URL holds the token; posted state objects are built
    # from the other keys.
    assert token in config.pop("statusUrl")
    assert token not in json.dumps(config)
    script = html.split('<script nonce="', 1)[1]
    for event in ("sessionStatusUpdate", "upscope.sessionState.update", "sessionEnded"):
        assert event in script
    assert "statusUrl" not in script.split("function state()", 1)[1].split("}", 1)[0]


def test_offline_visitor_page_waits_then_goes_active(api):
    state.create_visitor(short_id="LATER", is_online=False)
    path, token = _mint(api, "LATER")
    assert 'data-status="waiting"' in api.client.get(path).content.decode()
    status_path = f"/__upscope__/watch/{token}/status.json"
    assert api.client.get(status_path).json()["status"] == "waiting"
    state.set_online("LATER")
    assert api.client.get(status_path).json() == {
        "status": "active",
        "visitor_online": True,
        "went_live": True,
    }


def test_stopped_session_shows_ended(api, visitor):
    path, token = _mint(api, branding={"on_end_url": "https://example.com/ended"})
    status_path = f"/__upscope__/watch/{token}/status.json"
    assert api.client.get(status_path).json()["status"] == "active"
    api.delete("/visitors/VIS00001/session")
    status = api.client.get(status_path)
    assert status.json()["status"] == "ended"
    assert status["Cache-Control"] == "no-store"
    page = api.client.get(path)
    assert page.status_code == 410
    html = page.content.decode()
    assert "has ended" in html
    assert 'href="https://example.com/ended"' in html


@pytest.mark.parametrize("token", ["not-a-real-token", "x" * 43])
def test_unknown_token_is_a_clear_page_not_an_error(api, token, caplog):
    page = api.client.get(f"/__upscope__/watch/{token}")
    assert page.status_code == 404
    assert "not valid" in page.content.decode()
    assert page["Referrer-Policy"] == "no-referrer"
    assert api.client.get(f"/__upscope__/watch/{token}/status.json").status_code == 404
    # The token is in the path: Django's request log must not repeat it.
    assert token not in caplog.text


def test_deleted_visitor_invalidates_the_watch_url(api, visitor):
    path, _ = _mint(api)
    api.delete("/visitors/VIS00001.json")
    assert api.client.get(path).status_code == 404


def test_watch_page_refuses_post(api, visitor):
    path, _ = _mint(api)
    assert api.client.post(path).status_code == 405


def test_watch_urls_are_never_in_the_request_log(api, visitor):
    path, token = _mint(api)
    api.client.get(path)
    api.client.get(f"/__upscope__/watch/{token}/status.json")
    assert [r.endpoint for r in state.received_requests()] == ["watch_url"]
    assert token not in repr(state.received_requests())
