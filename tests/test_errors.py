"""django_upscope.presentation.describe: one status, title and explanation per Upscope error."""

from __future__ import annotations

import pytest

from django_upscope.client.responses import authentication_message
from django_upscope.exceptions import (
    UpscopeAPIError,
    UpscopeAuthenticationError,
    UpscopeConfigurationError,
    UpscopeConnectionError,
    UpscopeError,
    UpscopeInvalidInput,
    UpscopeInvalidResponse,
    UpscopeNotSupported,
    UpscopeRateLimited,
    UpscopeSubscriptionLimit,
    UpscopeTimeout,
    UpscopeUnavailable,
    UpscopeVisitorNotFound,
)
from django_upscope.presentation import describe
from django_upscope.vocabulary import AUTHENTICATION_REASONS

# (error, status, title, retry): README "When Upscope says no" and the REST API's "Errors".
CASES = [
    (UpscopeInvalidInput("bad id", code="invalid_short_id"), 400, "Invalid request", False),
    (UpscopeSubscriptionLimit("limit"), 402, "Subscription limit reached", True),
    (UpscopeVisitorNotFound("gone"), 404, "Visitor not found", False),
    (UpscopeNotSupported("on-premise"), 501, "Not available with this Upscope server", False),
    (
        UpscopeAuthenticationError("refused", code="subscription_expired"),
        502,
        "Upscope refused this site's credentials",
        False,
    ),
    (UpscopeConfigurationError("No Upscope credentials."), 502, "Upscope is not configured", False),
    (UpscopeInvalidResponse("html"), 502, "Upscope sent an unexpected answer", True),
    (UpscopeAPIError("teapot", code="http_418"), 502, "Upscope reported an error", True),
    (UpscopeError("other"), 502, "Upscope reported an error", True),
    (
        UpscopeUnavailable("down", status_code=503, code="http_503"),
        503,
        "Upscope reported a server error",
        True,
    ),
    (UpscopeConnectionError("refused"), 503, "Upscope could not be reached", True),
    (UpscopeRateLimited("slow down"), 503, "Upscope asked this site to slow down", True),
    (UpscopeTimeout("too slow"), 504, "Upscope did not answer in time", True),
]


@pytest.mark.parametrize(
    ("error", "status", "title", "retry"), CASES, ids=[type(c[0]).__name__ for c in CASES]
)
def test_each_error_has_one_description(error, status, title, retry):
    description = describe(error)
    assert (description.status, description.title, description.retry) == (status, title, retry)
    assert description.explanation
    assert description.text == f"{title}: {description.explanation}"


def test_configuration_error_says_an_administrator_must_fix_the_settings():
    description = describe(UpscopeConfigurationError("No Upscope credentials: set API_KEY."))
    assert description.status == 502
    assert description.explanation.startswith("No Upscope credentials: set API_KEY.")
    assert "An administrator must fix the UPSCOPE settings" in description.explanation


@pytest.mark.parametrize("code", sorted(AUTHENTICATION_REASONS))
def test_authentication_reasons_are_one_table_for_client_and_pages(code):
    reason = AUTHENTICATION_REASONS[code]
    page = describe(UpscopeAuthenticationError("x", code=code)).explanation
    message = authentication_message(code, on_premise=False)
    assert page.startswith(reason)
    assert message.startswith(reason)


@pytest.mark.parametrize(("seconds", "header"), [(30, 30), (2.2, 3), (0, 0), (None, None)])
def test_retry_after_is_whole_seconds_rounded_up(seconds, header):
    description = describe(UpscopeRateLimited("slow", retry_after=seconds))
    assert description.retry_after == header


def test_retry_after_only_for_unavailable():
    assert describe(UpscopeVisitorNotFound("gone")).retry_after is None


@pytest.mark.parametrize(
    ("error", "status", "title", "retry"), CASES, ids=[type(c[0]).__name__ for c in CASES]
)
def test_the_presentation_is_on_the_class(error, status, title, retry):
    cls = type(error)
    assert (cls.http_status, str(cls.title), cls.retry) == (status, title, retry)


def test_a_subclass_inherits_the_nearest_presentation():
    class ProjectTimeout(UpscopeTimeout):
        pass

    class ProjectConfiguration(UpscopeConfigurationError):
        pass

    class ProjectLimit(UpscopeSubscriptionLimit):
        explanation = "Your plan allows one session."

    assert describe(ProjectTimeout("slow")) == describe(UpscopeTimeout("slow"))
    assert describe(ProjectConfiguration("Set X.")) == describe(UpscopeConfigurationError("Set X."))
    # A class that states its own explanation is nearer than its parent's.
    assert describe(ProjectLimit("x")).explanation == "Your plan allows one session."
    assert describe(ProjectLimit("x")).status == 402


def test_old_errors_module_is_the_presentation_module():
    from django_upscope import errors, presentation

    assert errors.describe is presentation.describe
    assert errors.ErrorDescription is presentation.ErrorDescription


# -- timeouts, unavailability and upstream errors are told apart -----------------


def test_an_upstream_500_is_a_server_error_not_unreachable():
    description = describe(UpscopeUnavailable("x", status_code=500, code="http_500"))
    assert description.title == "Upscope reported a server error"
    assert description.explanation == (
        "Upscope answered with a server error (HTTP 500). "
        "This is usually temporary: try again in a moment."
    )
    assert "reached" not in description.text


def test_timeout_and_upstream_503_have_different_titles():
    timeout = describe(UpscopeTimeout("slow"))
    down = describe(UpscopeUnavailable("x", status_code=503, code="http_503"))
    assert timeout.title == "Upscope did not answer in time"
    assert down.title == "Upscope reported a server error"
    assert timeout.explanation.startswith("Upscope did not answer within the time")


def test_unavailable_without_an_answer_reads_as_unreachable():
    # The mirror's sync re-raises a bare UpscopeUnavailable after repeated timeouts.
    description = describe(UpscopeUnavailable("gave up", code="timeout"))
    assert description.title == "Upscope could not be reached"
    assert description.explanation.startswith("Upscope could not be reached or did not answer")


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (1, "try again in 1 second"),
        (30, "try again in 30 seconds"),
        (2.2, "try again in 3 seconds"),
        (119, "try again in 119 seconds"),
        (120, "try again in 2 minutes"),
        (150, "try again in 3 minutes"),
        (7200, "try again in 2 hours"),
        (0, "you can try again now"),
    ],
)
def test_retry_after_in_words(seconds, words):
    description = describe(UpscopeRateLimited("slow", retry_after=seconds))
    assert description.explanation == (
        f"Upscope is limiting how many requests this site may send. Upscope asked to wait: {words}."
    )


def test_retry_after_in_words_on_a_server_error_too():
    error = UpscopeUnavailable("x", status_code=503, code="http_503", retry_after=30)
    assert describe(error).text == (
        "Upscope reported a server error: Upscope answered with a server error (HTTP 503). "
        "Upscope asked to wait: try again in 30 seconds."
    )
