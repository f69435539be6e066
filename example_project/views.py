"""The example agent console (one page driving django-upscope's DRF endpoints) with its own
login for agents who are not staff, and the customer's account page, which identifies its
visitor with ``{% upscope_snippet %}``."""

import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import ensure_csrf_cookie


@login_required(login_url="console-login")
@ensure_csrf_cookie
@xframe_options_sameorigin  # "?ended=1" (an on_end_url of older sessions) is framed by the console
def console(request: HttpRequest) -> HttpResponse:
    return render(request, "console.html", {"ended": "ended" in request.GET})


class ConsoleLoginView(LoginView):
    """The agents' login: the API is for agents who need not be staff, whom the admin's
    login refuses. ``next`` (only to this site) is honoured; else the console."""

    template_name = "console_login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return reverse("console")


class ConsoleLogoutView(LogoutView):
    next_page = "console-login"


# -- the customer side: an account page that identifies its visitor to Upscope --------


class AccountLoginView(LoginView):
    """The customers' login (the admin's login is for staff only)."""

    template_name = "account/login.html"
    next_page = "account"

    def get_default_redirect_url(self) -> str:
        return reverse("account")


class AccountLogoutView(LogoutView):
    next_page = "account-login"


@login_required(login_url="account-login")
def account(request: HttpRequest) -> HttpResponse:
    """A fake account page with ``{% upscope_snippet %}``, served under a strict CSP.

    Its scripts run only with the page's nonce, which the tag reads from
    ``request.csp_nonce`` (the attribute django-csp sets).
    """
    nonce = secrets.token_urlsafe(16)
    request.csp_nonce = nonce  # type: ignore[attr-defined]
    response = render(request, "account/account.html")
    fake = "".join(
        f" {urlsplit(url).scheme}://{urlsplit(url).netloc}"
        for url in [settings.UPSCOPE.get("SNIPPET_URL") or ""]
        if url
    )
    response["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'nonce-{nonce}'; connect-src 'self'{fake}; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'self'"
    )
    return response
