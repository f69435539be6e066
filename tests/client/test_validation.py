"""Input checked before anything is sent: a refused argument never reaches the network."""

from __future__ import annotations

import json

import pytest

from django_upscope.exceptions import UpscopeInvalidInput
from django_upscope.vocabulary import BRANDING_KEYS, PERMISSION_KEYS

from ..payloads import CLOUD_URL, WATCH_URL, cloud_client, onprem_client


@pytest.fixture
def cloud():
    return cloud_client()


BAD_SHORT_IDS = [
    "../usage",
    "..",
    "a/b",
    "a b",
    " ABCD",
    "ABCD?x=1",
    "ABCD#frag",
    "ABCD\n",
    "AB\nCD",
    "ABCD\r\n",
    "%2e%2e",
    "%2F",
    "ABCD.json",
    "ABCD;x",
    "ABCD\x00",
    "ÄBCD",
    "\uff11\uff12\uff13",  # full-width digits
    "",
    "A" * 129,
    None,
    1234,
    b"ABCD",
    ["ABCD"],
]
SHORT_ID_CALLS = [
    ("get_visitor", lambda c, s: c.get_visitor(s)),
    ("get_visitor history", lambda c, s: c.get_visitor(s, with_history=True)),
    ("delete_visitor", lambda c, s: c.delete_visitor(s)),
    ("create_watch_url", lambda c, s: c.create_watch_url(s, agent_id="1", agent_name="A")),
    ("stop_session", lambda c, s: c.stop_session(s)),
]


@pytest.mark.parametrize("short_id", BAD_SHORT_IDS, ids=repr)
@pytest.mark.parametrize(("name", "call"), SHORT_ID_CALLS, ids=[c[0] for c in SHORT_ID_CALLS])
def test_bad_short_ids_send_nothing(rsps, cloud, short_id, name, call):
    with pytest.raises(UpscopeInvalidInput) as info:
        call(cloud, short_id)
    assert len(rsps.calls) == 0
    assert info.value.code == "invalid_short_id"
    assert "short_id must be" in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("short_id", ["../usage", "a/b", "%2e%2e", ""])
def test_bad_short_ids_send_nothing_on_premise(rsps, short_id):
    with pytest.raises(UpscopeInvalidInput):
        onprem_client().get_visitor(short_id)
    assert len(rsps.calls) == 0


@pytest.mark.parametrize("short_id", ["ABCD1234", "a", "A" * 128, "x-y_z", "1234"])
def test_good_short_ids_go_into_the_path(rsps, cloud, short_id):
    rsps.get(f"{CLOUD_URL}/visitors/{short_id}.json", json={"visitor": {"short_id": short_id}})
    assert cloud.get_visitor(short_id).short_id == short_id
    assert rsps.calls[0].request.url == f"{CLOUD_URL}/visitors/{short_id}.json"


def watch(cloud, **kwargs):
    options = {"agent_id": "1", "agent_name": "Ann"}
    options.update(kwargs)
    return cloud.create_watch_url("ABCD1234", **options)


@pytest.mark.parametrize(
    ("metadata", "named"),
    [
        ({"ok": "x", "nested": {"a": 1}}, ["'nested'"]),
        ({"list": [1, 2]}, ["'list'"]),
        ({"none": None}, ["'none'"]),
        ({"nan": float("nan"), "inf": float("inf"), "fine": 1.5}, ["'inf'", "'nan'"]),
        ({"obj": object()}, ["'obj'"]),
        ({1: "x"}, ["1"]),
        ({"": "x"}, ["''"]),
        ({"bytes": b"x"}, ["'bytes'"]),
    ],
)
def test_metadata_must_be_flat_and_errors_name_the_keys(rsps, cloud, metadata, named):
    with pytest.raises(UpscopeInvalidInput) as info:
        watch(cloud, metadata=metadata)
    assert len(rsps.calls) == 0
    assert info.value.code == "invalid_metadata"
    message = str(info.value)
    assert "offending keys: " + ", ".join(named) in message
    assert "'fine'" not in message and "'ok'" not in message


@pytest.mark.parametrize("metadata", [["a"], "a=b", 3])
def test_metadata_must_be_a_dict(rsps, cloud, metadata):
    with pytest.raises(UpscopeInvalidInput, match="metadata must be a dict"):
        watch(cloud, metadata=metadata)
    assert len(rsps.calls) == 0


def test_unknown_branding_keys_are_refused_with_the_known_ones(rsps, cloud):
    with pytest.raises(UpscopeInvalidInput) as info:
        watch(cloud, branding={"naked": True, "logo": "x", "metadata": {}})
    assert len(rsps.calls) == 0
    message = str(info.value)
    assert "unknown branding keys: 'logo', 'metadata'" in message
    assert "known keys: " + ", ".join(BRANDING_KEYS) in message
    assert info.value.code == "invalid_branding"


def test_unknown_permission_keys_are_refused_with_the_known_ones(rsps, cloud):
    with pytest.raises(UpscopeInvalidInput) as info:
        watch(cloud, permissions={"allow_click": True, "allow_everything": True})
    assert len(rsps.calls) == 0
    message = str(info.value)
    assert "unknown permissions keys: 'allow_everything'" in message
    assert "known keys: " + ", ".join(PERMISSION_KEYS) in message
    for key in (
        "allow_console",
        "allow_click",
        "allow_draw",
        "allow_scroll",
        "allow_audio",
        "allow_type",
        "allow_agent_redirect",
    ):
        assert key in message


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"permissions": {"allow_click": "yes"}}, "invalid_permissions"),
        ({"permissions": {"allow_console": 1}}, "invalid_permissions"),
        ({"permissions": ["allow_click"]}, "invalid_permissions"),
        ({"branding": {"naked": "yes"}}, "invalid_branding"),
        ({"branding": {"no_bottom_bar": "no"}}, "invalid_branding"),
        ({"branding": {"retry_url": "javascript:alert(1)"}}, "invalid_branding"),
        ({"branding": {"on_end_url": "/relative/path"}}, "invalid_branding"),
        ({"branding": {"on_end_url": "https://x.test/\nSet-Cookie: a"}}, "invalid_branding"),
        ({"branding": "naked"}, "invalid_branding"),
    ],
)
def test_branding_and_permission_values_are_checked(rsps, cloud, kwargs, code):
    with pytest.raises(UpscopeInvalidInput) as info:
        watch(cloud, **kwargs)
    assert len(rsps.calls) == 0
    assert info.value.code == code


def test_every_known_key_is_accepted(rsps, cloud):
    rsps.post(f"{CLOUD_URL}/visitors/ABCD1234/watch_url.json", json={"watch_url": WATCH_URL})
    watch(
        cloud,
        branding={
            "naked": False,
            "retry_url": None,
            "no_bottom_bar": None,
            "on_end_url": "http://localhost:8000/ended",
        },
        permissions=dict.fromkeys(PERMISSION_KEYS, True),
    )
    body = json.loads(rsps.calls[0].request.body)
    assert body["permissions"] == dict.fromkeys(PERMISSION_KEYS, True)
    assert body["branding"]["on_end_url"] == "http://localhost:8000/ended"


@pytest.mark.parametrize("field", ["agent_id", "agent_name"])
@pytest.mark.parametrize("value", ["", "   ", None, "a\nb", True, ["x"]])
def test_agent_id_and_name_are_required(rsps, cloud, field, value):
    with pytest.raises(UpscopeInvalidInput) as info:
        watch(cloud, **{field: value})
    assert len(rsps.calls) == 0
    assert f"{field} is required" in str(info.value)
    assert info.value.code == f"invalid_{field}"


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        (123, "must be a string"),
        (b"joe", "must be a string"),
        ("x" * 1001, "longer than 1000"),
        ("joe\nsmith", "control characters"),
        ("joe\x00", "control characters"),
        ("\ud800", "not valid Unicode"),
    ],
)
def test_bad_search_queries_send_nothing(rsps, cloud, query, fragment):
    with pytest.raises(UpscopeInvalidInput) as info:
        cloud.search_visitors(query)
    assert len(rsps.calls) == 0
    assert fragment in str(info.value)
    assert info.value.code == "invalid_query"


def test_search_query_special_characters_are_encoded_not_refused(rsps, cloud):
    rsps.get(f"{CLOUD_URL}/list.json", json={"status": "ok", "visitors": []})
    cloud.search_visitors("joe&all=true #vip ü/?")
    assert rsps.calls[0].request.url == (
        f"{CLOUD_URL}/list.json?search=joe%26all%3Dtrue+%23vip+%C3%BC%2F%3F"
    )
