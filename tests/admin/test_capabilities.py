"""Screens that know the server (issue 15): what the configured Upscope cannot do is not offered.

On-premise servers document only the read endpoints (docs/upscope-api.md, "On-premise
endpoints"): the admin drops the share column, the delete/purge/stop actions, the purge button
and the share buttons, says why in one line, and a share or purge URL reached anyway answers a
page in words. Each absence has its cloud positive control beside it. The API answers human
JSON errors on-premise, and the example console has its own login for non-staff agents.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from django_upscope import capabilities
from django_upscope.client import UpscopeClient
from django_upscope.testing.factories import VisitorFactory

from ..api.conftest import ADMIN_ROLE, UNREACHABLE_CLOUD, UNREACHABLE_ONPREM
from ..api.test_console import example_urls  # noqa: F401 - the console's URLconf fixture
from ..helpers import make_user

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:django_upscope_visitor_changelist")
ACTING_ACTIONS = {"delete_visitors", "purge_offline_visitors", "stop_sessions"}
NOTICE = "This Upscope server is on-premise"
SHARE_WORDS = (
    "This Upscope server (on-premise) does not offer screen sharing; on-premise servers "
    "document only the read endpoints."
)


@pytest.fixture(params=["onprem", "cloud"])
def server(request, settings, rsps):
    """The admin on each kind of server; no request may reach it (``rsps`` has no routes)."""
    settings.UPSCOPE = dict(UNREACHABLE_ONPREM if request.param == "onprem" else UNREACHABLE_CLOUD)
    return request.param


def change_url(short_id):
    return reverse("admin:django_upscope_visitor_change", args=[short_id])


def test_supports_is_one_answer_for_the_client_and_the_configured_server(settings):
    onprem = UpscopeClient(rest_key="k", base_endpoint="https://upscope.onprem.invalid")
    cloud = UpscopeClient(api_key="k")
    for operation in capabilities.OPERATIONS:
        assert cloud.supports(operation)
        assert onprem.supports(operation) == (
            operation in ("latest_visitors", "search_visitors", "get_visitor")
        )
    settings.UPSCOPE = dict(UNREACHABLE_ONPREM)
    assert not capabilities.supports("create_watch_url")
    assert capabilities.supports("search_visitors")
    assert capabilities.server_notice().startswith(NOTICE)
    settings.UPSCOPE = dict(UNREACHABLE_CLOUD)
    assert capabilities.supports("create_watch_url")
    assert capabilities.server_notice() == ""
    with pytest.raises(ValueError, match="Unknown Upscope operation"):
        capabilities.supports("create_watch_urls")


def test_changelist_offers_only_what_the_server_can_do(server, admin_client):
    VisitorFactory(short_id="V1")
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    html = response.content.decode()
    actions = {value for value, _label in response.context["action_form"].fields["action"].choices}
    # A read is offered either way.
    assert "refresh_visitors" in actions
    purge_url = reverse("admin:django_upscope_visitor_purge")
    if server == "onprem":
        assert "screenshare_link" not in response.context["cl"].list_display
        assert not ACTING_ACTIONS & actions
        assert "Start screen share" not in html
        assert f'href="{purge_url}"' not in html
        assert 'id="upscope-screenshare-by-code"' not in html
        assert 'id="upscope-server-notice"' in html
        assert capabilities.server_notice() in html
    else:
        assert "screenshare_link" in response.context["cl"].list_display
        assert ACTING_ACTIONS <= actions
        assert "Start screen share" in html
        assert f'href="{purge_url}"' in html
        assert 'id="upscope-screenshare-by-code"' in html
        assert 'id="upscope-server-notice"' not in html


def test_visitor_page_offers_a_share_only_when_the_server_mints(server, admin_client):
    VisitorFactory(short_id="V1")
    html = admin_client.get(change_url("V1")).content.decode()
    share = reverse("admin:django_upscope_visitor_screenshare", args=["V1"])
    fetch = reverse("admin:django_upscope_visitor_fetch_history", args=["V1"])
    # A read is offered either way.
    assert reverse("admin:django_upscope_visitor_refresh", args=["V1"]) in html
    if server == "onprem":
        assert f'href="{share}"' not in html
        assert fetch not in html  # on-premise documents no history
        assert NOTICE in html
    else:
        assert f'href="{share}"' in html
        assert fetch in html
        assert NOTICE not in html


def test_share_and_purge_urls_reached_on_premise_answer_a_page_in_words(server, admin_client, rsps):
    VisitorFactory(short_id="V1")
    share = admin_client.get(reverse("admin:django_upscope_visitor_screenshare", args=["V1"]))
    purge = admin_client.get(reverse("admin:django_upscope_visitor_purge"))
    if server == "onprem":
        assert share.status_code == purge.status_code == 501
        assert SHARE_WORDS in share.content.decode()
        assert "does not offer purging offline visitors" in purge.content.decode()
        for response in (share, purge):
            assert "create_watch_url" not in response.content.decode()
        assert len(rsps.calls) == 0
    else:
        # Positive control: on the cloud the purge page is the confirmation.
        assert purge.status_code == 200
        assert "Yes, purge offline visitors" in purge.content.decode()


def test_the_usage_page_on_premise_is_the_local_reports_not_an_error(server, admin_client, rsps):
    if server == "cloud":
        rsps.get("https://api.upscope.invalid/v1.1/usage.json", status=503)
    response = admin_client.get(reverse("admin:django_upscope_usage"))
    html = response.content.decode()
    # The session reports come from the mirror: there either way.
    assert 'id="upscope-report-per-agent"' in html
    if server == "onprem":
        assert response.status_code == 200
        assert 'id="upscope-server-notice"' in html
        assert 'id="upscope-usage-error"' not in html
        assert [c.request.url for c in rsps.calls] == []
    else:
        # The control: on the cloud the page asks Upscope, and says so when it fails.
        assert response.status_code == 503
        assert 'id="upscope-usage-error"' in html
        assert 'id="upscope-server-notice"' not in html


@pytest.mark.urls("tests.identity.urls")
def test_user_admin_share_button_and_by_code_follow_the_server(server, admin_client):
    # tests/identity/urls.py: an admin site whose User admin has ScreenShareMixin.
    customer = make_user("customer", staff=False)
    site = "identity_admin"
    change = reverse(f"{site}:auth_user_change", args=[customer.pk])
    html = admin_client.get(change).content
    by_code = admin_client.get(reverse(f"{site}:django_upscope_visitor_screenshare_by_code"))
    if server == "onprem":
        assert b"upscope-identity-screenshare" not in html
        assert by_code.status_code == 501
        assert SHARE_WORDS in by_code.content.decode()
    else:
        assert b"upscope-identity-screenshare" in html
        assert by_code.status_code == 200


@pytest.mark.parametrize(
    ("method", "name", "args", "what"),
    [
        ("post", "visitor-watch-url", ["V1"], "screen sharing"),
        ("delete", "visitor-detail", ["V1"], "deleting visitors"),
        ("delete", "visitor-session", ["V1"], "stopping sessions"),
    ],
)
def test_api_on_premise_answers_in_words(settings, rsps, method, name, args, what):
    settings.UPSCOPE = dict(UNREACHABLE_ONPREM)
    client = APIClient()
    client.force_login(make_user("api-agent", ADMIN_ROLE, staff=False))
    url = reverse(f"django_upscope:api:{name}", args=args)
    response = getattr(client, method)(url, {}, format="json")
    assert response.status_code == 501
    body = response.json()
    assert body["error"] == "not_supported_on_premise"
    assert body["detail"] == (
        f"This Upscope server (on-premise) does not offer {what}; on-premise servers "
        "document only the read endpoints."
    )
    assert len(rsps.calls) == 0


def test_api_server_endpoint_and_root_follow_the_server(server):
    client = APIClient()
    client.force_login(make_user("api-reader", ["view_visitor"], staff=False))
    info = client.get(reverse("django_upscope:api:server")).json()
    root = client.get(reverse("django_upscope:api:api-root")).json()
    assert info["on_premise"] is (server == "onprem")
    assert info["operations"]["search_visitors"] is True
    assert "visitors" in root and "server" in root
    if server == "onprem":
        assert info["operations"]["create_watch_url"] is False
        assert info["notice"].startswith(NOTICE)
        assert not {"watch_url", "session", "purge", "usage"} & set(root)
    else:
        assert info["operations"]["create_watch_url"] is True
        assert info["notice"] == ""
        assert {"watch_url", "session", "purge", "usage"} <= set(root)


@pytest.mark.usefixtures("example_urls")
def test_console_sends_anonymous_agents_to_its_login(client):
    response = client.get("/console/")
    assert response.status_code == 302
    assert response["Location"] == "/console/login/?next=/console/"


@pytest.mark.usefixtures("example_urls")
def test_a_non_staff_agent_logs_in_on_the_console_page(client):
    make_user("helpdesk", ["view_visitor", "screenshare_visitor"], staff=False)
    page = client.get("/console/login/?next=/console/")
    assert page.status_code == 200
    assert 'id="console-login"' in page.content.decode()
    refused = client.post("/console/login/", {"username": "helpdesk", "password": "wrong"})
    assert refused.status_code == 200
    assert "The username or password is not right" in refused.content.decode()
    response = client.post(
        "/console/login/", {"username": "helpdesk", "password": "pw", "next": "/console/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/console/"
    console = client.get("/console/")
    assert console.status_code == 200
    html = console.content.decode()
    assert 'id="server-notice"' in html
    assert '"/upscope/api/server/"' in html
    # The API accepts the session: the agent is no staff, yet may list visitors.
    assert client.get("/upscope/api/visitors/?source=local").status_code == 200
