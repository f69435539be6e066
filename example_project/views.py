"""The example agent console: one page driving django-upscope's DRF endpoints."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import ensure_csrf_cookie


@login_required
@ensure_csrf_cookie
@xframe_options_sameorigin  # "?ended=1" is shown inside the console's own share frame
def console(request: HttpRequest) -> HttpResponse:
    return render(request, "console.html", {"ended": "ended" in request.GET})
