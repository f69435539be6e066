"""Property-based tests: whatever a caller passes, the client either sends a
well-formed request or raises its own ``UpscopeInvalidInput`` before sending.

Each example runs against ``responses`` (no network) with a catch-all callback
that records every request. For accepted input the captured request is checked:
the URL is absolute and under the configured base, the path segment is exactly
the short_id, the query string decodes back to what was asked for, and the
JSON body decodes back to what was validated. For refused input, nothing went
over the wire. Any other exception fails the property.
"""

from __future__ import annotations

import json
import math
import re
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_upscope.client import UpscopeClient
from django_upscope.exceptions import UpscopeInvalidInput
from django_upscope.vocabulary import (
    BRANDING_KEYS,
    MAX_METADATA_BYTES,
    MAX_METADATA_KEYS,
    MAX_QUERY_LENGTH,
    PERMISSION_KEYS,
    SHORT_ID_RE,
)

CLOUD_URL = "https://api.upscope.test/v1.1"
BASE_ENDPOINT = "https://support.example.test/cobrowsing"
ONPREM_API = BASE_ENDPOINT + "/api"
WATCH_URL = "https://o.upscope.io/watch/TOKEN"

PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# -- strategies -----------------------------------------------------------------

#: Characters including the awkward ones: controls, surrogates, non-BMP, RTL marks.
any_char = st.characters(codec=None, categories=None)
awkward_text = st.text(alphabet=any_char, max_size=40)
valid_short_ids = st.from_regex(SHORT_ID_RE, fullmatch=True)
short_ids = st.one_of(
    valid_short_ids,
    awkward_text,
    st.sampled_from(
        ["", "../usage", "a/b", "a?b=c", "a#b", "a%2Fb", "a b", "x" * 129, "ABC\n", " ABC"]
    ),
    st.integers(),
    st.none(),
    st.binary(max_size=10),
    st.floats(),
)
queries = st.one_of(
    st.none(),
    awkward_text,
    st.text(max_size=MAX_QUERY_LENGTH + 5),
    st.sampled_from(["online", "ip:1.2.3.4", "#tag", "a&search=b", "100%", "  ", "é ü 中"]),
    st.integers(),
    st.binary(max_size=10),
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    awkward_text,
)
metadata_values = st.one_of(
    json_scalars,
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.binary(max_size=4),
)
metadatas = st.one_of(
    st.none(),
    st.dictionaries(st.one_of(awkward_text, st.integers(), st.none()), metadata_values, max_size=5),
    st.lists(st.integers(), max_size=2),
    awkward_text,
)
url_like = st.one_of(
    st.none(),
    awkward_text,
    st.sampled_from(
        [
            "https://support.example.test/done",
            "http://localhost:8000/admin/",
            "http://[::1",
            "http://[::1]:80/x",
            "https://[not-an-ip]/",
            "javascript:alert(1)",
            "//evil.test/x",
            "https://example.test/\u0085",
            "https://example.test/a b",
            "ftp://example.test/",
            "http:///no-host",
            "http://a:99999/",
            "https://:80/",
        ]
    ),
    st.builds(lambda host, path: f"https://{host}/{path}", awkward_text, awkward_text),
    st.integers(),
    st.booleans(),
)
brandings = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "naked": st.one_of(st.booleans(), st.sampled_from(["page_only", "yes", ""]), st.none()),
            "no_bottom_bar": st.one_of(st.booleans(), st.none(), st.integers()),
            "retry_url": url_like,
            "on_end_url": url_like,
        },
    ),
    st.dictionaries(st.one_of(st.sampled_from(BRANDING_KEYS), awkward_text), json_scalars),
    awkward_text,
)
permission_values = st.one_of(st.booleans(), st.integers(0, 1), st.none(), awkward_text)
permissions = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(PERMISSION_KEYS), permission_values, max_size=7),
    st.dictionaries(st.one_of(st.sampled_from(PERMISSION_KEYS), awkward_text), st.booleans()),
    st.lists(st.booleans(), max_size=2),
)
agent_values = st.one_of(awkward_text, st.integers(), st.none(), st.booleans())


# -- the capture -----------------------------------------------------------------


class Captured:
    def __init__(self) -> None:
        self.requests: list[Any] = []

    @property
    def one(self) -> Any:
        assert len(self.requests) == 1, f"expected one request, got {len(self.requests)}"
        return self.requests[0]


def _answer(request: Any) -> tuple[int, dict[str, str], str]:
    path = urlsplit(request.url).path
    if path.endswith("/watch_url.json"):
        return 200, {}, json.dumps({"watch_url": WATCH_URL})
    if path.endswith("/session"):
        return 200, {"Content-Type": "text/plain"}, "ok"
    if request.method == "DELETE":
        return 200, {}, json.dumps({"status": "ok"})
    if "/list" in path:
        return 200, {}, json.dumps({"status": "ok", "visitors": []})
    short_id = unquote(path.rsplit("/", 1)[-1]).removesuffix(".json")
    return 200, {}, json.dumps({"status": "ok", "visitor": {"short_id": short_id}})


@contextmanager
def capture():
    captured = Captured()

    def callback(request: Any) -> tuple[int, dict[str, str], str]:
        captured.requests.append(request)
        return _answer(request)

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in ("GET", "POST", "DELETE", "PUT", "PATCH"):
            mock.add_callback(method, re.compile(r".*"), callback=callback)
        yield captured


def cloud() -> UpscopeClient:
    return UpscopeClient(api_key="fake_props", api_url=CLOUD_URL, max_retries=0)


def onprem() -> UpscopeClient:
    return UpscopeClient(rest_key="fake_rest", base_endpoint=BASE_ENDPOINT, max_retries=0)


def attempt(call: Any, captured: Captured) -> bool:
    """Run ``call``; True when it was accepted. A refusal must have sent nothing."""
    try:
        call()
    except UpscopeInvalidInput as exc:
        assert captured.requests == [], "refused input, but a request was sent"
        assert exc.code.startswith("invalid_"), exc.code
        assert exc.message
        return False
    return True


def assert_well_formed(request: Any, base: str) -> list[str]:
    """The request's URL is absolute, under ``base``, with no surprises; return the segments."""
    parts = urlsplit(request.url)
    assert request.url.startswith(base + "/")
    assert parts.scheme == "https" and parts.netloc == urlsplit(base).netloc
    assert not parts.fragment
    assert request.url.isascii() and request.url.isprintable()
    return parts.path[len(urlsplit(base).path) :].split("/")


def query_of(request: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request.url).query, keep_blank_values=True, strict_parsing=False)


def _valid_short_id(value: Any) -> bool:
    return isinstance(value, str) and SHORT_ID_RE.fullmatch(value) is not None


# -- short_ids ---------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(short_id=short_ids, with_history=st.booleans())
def test_get_visitor_path_is_exactly_the_short_id(short_id, with_history):
    with capture() as captured:
        accepted = attempt(lambda: cloud().get_visitor(short_id, with_history), captured)
    assert accepted == _valid_short_id(short_id)
    if accepted:
        request = captured.one
        assert request.method == "GET"
        assert assert_well_formed(request, CLOUD_URL) == ["", "visitors", f"{short_id}.json"]
        assert query_of(request) == ({"with_history": ["true"]} if with_history else {})


@PROPERTY_SETTINGS
@given(short_id=short_ids, operation=st.sampled_from(["delete", "stop", "onprem_get"]))
def test_visitor_routes_never_escape_their_segment(short_id, operation):
    calls = {
        "delete": (lambda: cloud().delete_visitor(short_id), CLOUD_URL, "DELETE"),
        "stop": (lambda: cloud().stop_session(short_id), CLOUD_URL, "DELETE"),
        "onprem_get": (lambda: onprem().get_visitor(short_id), ONPREM_API, "GET"),
    }
    call, base, method = calls[operation]
    with capture() as captured:
        accepted = attempt(call, captured)
    assert accepted == _valid_short_id(short_id)
    if accepted:
        request = captured.one
        assert request.method == method
        segments = assert_well_formed(request, base)
        expected = {
            "delete": ["", "visitors", f"{short_id}.json"],
            "stop": ["", "visitors", short_id, "session"],
            "onprem_get": ["", "visitors", short_id],
        }[operation]
        assert segments == expected
        assert query_of(request) == {}


# -- search queries ------------------------------------------------------------------


def _expected_query(query: Any) -> tuple[bool, str | None]:
    """(accepted, what is sent) by the documented rules."""
    if query is None:
        return True, None
    if not isinstance(query, str) or len(query) > MAX_QUERY_LENGTH:
        return False, None
    try:
        query.encode("utf-8")
    except UnicodeEncodeError:
        return False, None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in query):
        return False, None
    return True, query.strip() or None


@PROPERTY_SETTINGS
@given(query=queries, on_premise=st.booleans())
def test_search_query_round_trips_through_the_query_string(query, on_premise):
    client = onprem() if on_premise else cloud()
    with capture() as captured:
        accepted = attempt(lambda: client.search_visitors(query), captured)
    expect_ok, sent = _expected_query(query)
    assert accepted == expect_ok
    if accepted:
        request = captured.one
        assert request.method == "GET"
        base = ONPREM_API if on_premise else CLOUD_URL
        path = ["", "visitors", "list", "search"] if on_premise else ["", "list.json"]
        assert assert_well_formed(request, base) == path
        name = "q" if on_premise else "search"
        assert query_of(request) == ({name: [sent]} if sent else {})


# -- watch URLs: metadata, branding, permissions, agent ----------------------------------


def _metadata_ok(metadata: Any) -> bool:
    if metadata is None:
        return True
    if not isinstance(metadata, dict):
        return False
    for key, value in metadata.items():
        if not isinstance(key, str) or key == "" or not _utf8(key):
            return False
        if not isinstance(value, (str, int, float, bool)):
            return False
        if isinstance(value, float) and not math.isfinite(value):
            return False
        if isinstance(value, str) and not _utf8(value):
            return False
    # The caps of the audit row and the request (vocabulary.MAX_METADATA_*).
    return len(metadata) <= MAX_METADATA_KEYS and (
        len(json.dumps(metadata).encode("utf-8")) <= MAX_METADATA_BYTES
    )


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _http_url_ok(value: Any) -> bool:
    if value is None:
        return True
    if not isinstance(value, str) or not value.isprintable():
        return False
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port >= 0
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and port_ok


def _branding_ok(branding: Any) -> bool:
    if branding is None:
        return True
    if not isinstance(branding, dict) or any(k not in BRANDING_KEYS for k in branding):
        return False
    for key, value in branding.items():
        if key == "naked":
            ok = isinstance(value, bool) or value == "page_only"
        elif key == "no_bottom_bar":
            ok = value is None or isinstance(value, bool)
        else:
            ok = _http_url_ok(value)
        if not ok:
            return False
    return True


def _permissions_ok(value: Any) -> bool:
    if value is None:
        return True
    return isinstance(value, dict) and all(
        k in PERMISSION_KEYS and isinstance(v, bool) for k, v in value.items()
    )


def _agent_ok(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return isinstance(value, str) and bool(value.strip()) and value.isprintable()


@PROPERTY_SETTINGS
@given(
    short_id=st.one_of(valid_short_ids, short_ids),
    agent_id=agent_values,
    agent_name=agent_values,
    branding=brandings,
    permissions=permissions,
    metadata=metadatas,
)
def test_watch_url_body_round_trips_or_is_refused(
    short_id, agent_id, agent_name, branding, permissions, metadata
):
    def mint():
        return cloud().create_watch_url(
            short_id,
            agent_id=agent_id,
            agent_name=agent_name,
            branding=branding,
            permissions=permissions,
            metadata=metadata,
        )

    with capture() as captured:
        accepted = attempt(mint, captured)
    expected = (
        _valid_short_id(short_id)
        and _agent_ok(agent_id)
        and _agent_ok(agent_name)
        and _branding_ok(branding)
        and _permissions_ok(permissions)
        and _metadata_ok(metadata)
    )
    assert accepted == expected
    if not accepted:
        return
    request = captured.one
    assert request.method == "POST"
    assert assert_well_formed(request, CLOUD_URL) == ["", "visitors", short_id, "watch_url.json"]
    assert query_of(request) == {}
    assert request.headers["Content-Type"] == "application/json"
    body = json.loads(request.body)
    assert body["agent"] == {"id": str(agent_id), "name": str(agent_name)}
    assert body.get("branding", {}) == (branding or {})
    assert body.get("permissions", {}) == (permissions or {})
    # JSON keeps what was validated (floats compare equal after a round trip).
    assert body.get("metadata", {}) == (metadata or {})
    assert set(body) <= {"agent", "branding", "permissions", "metadata"}


@pytest.mark.parametrize("key", ["retry_url", "on_end_url"])
@pytest.mark.parametrize(
    "url", ["http://[::1", "https://[oops/x", "http://a:99999/", "http://a:x/", "https://:80/"]
)
def test_unparseable_branding_urls_are_refused_before_sending(key, url):
    # urlsplit (or .port) raises a bare ValueError for most of these, and "https://:80/"
    # has no host: each must be UpscopeInvalidInput, sent nowhere.
    with capture() as captured:
        accepted = attempt(
            lambda: cloud().create_watch_url(
                "ABC", agent_id="1", agent_name="A", branding={key: url}
            ),
            captured,
        )
    assert accepted is False


@PROPERTY_SETTINGS
@given(
    field=st.sampled_from(["branding", "permissions", "metadata"]),
    data=st.data(),
)
def test_each_watch_url_option_alone(field, data):
    # One option varies while everything else is valid, so each option's own
    # validation is exercised on every example (not hidden behind an earlier refusal).
    strategy = {"branding": brandings, "permissions": permissions, "metadata": metadatas}[field]
    value = data.draw(strategy, label=field)
    check = {"branding": _branding_ok, "permissions": _permissions_ok, "metadata": _metadata_ok}
    with capture() as captured:
        accepted = attempt(
            lambda: cloud().create_watch_url(
                "ABCD1234", agent_id=7, agent_name="Ada", **{field: value}
            ),
            captured,
        )
    assert accepted == check[field](value)
    if accepted:
        body = json.loads(captured.one.body)
        assert body["agent"] == {"id": "7", "name": "Ada"}
        assert body.get(field, {}) == (value or {})
