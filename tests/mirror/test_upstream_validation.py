"""What comes from Upscope is validated before it reaches the mirror, and every page
survives a bad row that is already stored.

An unsafe visitor id (not ``SHORT_ID_RE``) would reach URL paths, links and logs;
JSON nested thousands deep overflows the parser's stack (``RecursionError``).
"""

from __future__ import annotations

import io
import logging

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from django_upscope import services
from django_upscope.exceptions import UpscopeInvalidResponse
from django_upscope.models import Visitor
from django_upscope.testing.factories import VisitorFactory
from django_upscope.vocabulary import MAX_JSON_DEPTH

from ..helpers import make_user
from ..payloads import CLOUD_URL, cloud_client, visitor, visitor_list

LIST_URL = f"{CLOUD_URL}/list.json"
UNSAFE_IDS = ["../../usage", "bad/id", "x\ny", "a b", "<script>", "é1", "x" * 129]

#: The unsafe ids a database can hold in the short_id column: PostgreSQL refuses a value
#: longer than the column (SQLite does not check), so no release could have stored it.
STORABLE_UNSAFE_IDS = [
    bad for bad in UNSAFE_IDS if len(bad) <= Visitor._meta.get_field("short_id").max_length
]


def nested(depth: int) -> str:
    """A JSON array nested ``depth`` deep, as text (json.dumps itself would overflow)."""
    return "[" * depth + "]" * depth


def detail_body(short_id: str, *, metadata: str = "{}", history: str = "null") -> str:
    """A visitor detail answer, as text, with raw JSON for its metadata and history."""
    return (
        '{"status": "ok", "visitor": {"short_id": "'
        + short_id
        + '", "history": '
        + history
        + ', "sessions": [{"id": 7, "visitor_id": "'
        + short_id
        + '", "metadata": {"deep": '
        + metadata
        + "}}]}}"
    )


def store_bad_row(short_id: str) -> Visitor:
    """A row with ``short_id`` as an older release (or a hand edit) could have stored it:
    built from a valid payload, then given the bad id."""
    row = VisitorFactory.build(short_id="PLACEHOLDER1")
    row.short_id = short_id
    row.save(force_insert=True)
    return row


# -- unsafe ids -----------------------------------------------------------------


@pytest.mark.parametrize("bad", UNSAFE_IDS)
def test_a_listing_entry_with_an_unsafe_id_is_dropped_and_logged(rsps, caplog, bad):
    payload = visitor_list("GOOD1")
    payload["visitors"].insert(0, visitor(short_id=bad))
    rsps.get(LIST_URL, json=payload)
    with caplog.at_level(logging.WARNING, logger="django_upscope.client"):
        found = cloud_client().search_visitors()
    assert [v.short_id for v in found] == ["GOOD1"]
    assert "Left out visitor #0 of Upscope's listing" in caplog.text
    assert bad not in caplog.text


@pytest.mark.parametrize("bad", UNSAFE_IDS)
def test_a_detail_answer_with_an_unsafe_id_is_an_invalid_response(rsps, bad):
    rsps.get(
        f"{CLOUD_URL}/visitors/GOOD1.json", json={"status": "ok", "visitor": visitor(short_id=bad)}
    )
    with pytest.raises(UpscopeInvalidResponse) as info:
        cloud_client().get_visitor("GOOD1")
    assert "short_id is not a safe token" in info.value.message
    assert bad not in info.value.message


@pytest.mark.django_db
def test_a_live_search_does_not_store_an_unsafe_id(rsps, upstream):
    payload = visitor_list("GOOD1")
    payload["visitors"].append(visitor(short_id="bad/id"))
    rsps.get(LIST_URL, json=payload)
    found = services.search_visitors(None)
    assert [v.short_id for v in found] == ["GOOD1"]
    assert list(Visitor.objects.values_list("pk", flat=True)) == ["GOOD1"]


# -- deeply nested JSON ----------------------------------------------------------


def run_sync(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("upscope_sync", "--no-usage", *args, stdout=out, stderr=err)
    except CommandError as exc:
        err.write(f"CommandError: {exc}")
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("depth", [10_000, MAX_JSON_DEPTH + 1], ids=["10000", "limit+1"])
@pytest.mark.parametrize("where", ["metadata", "history"])
def test_sync_skips_a_visitor_with_deeply_nested_json(rsps, upstream, depth, where):
    rsps.get(LIST_URL, json=visitor_list("DEEP1", "GOOD1"))
    deep = {where: nested(depth)}
    rsps.get(f"{CLOUD_URL}/visitors/DEEP1.json", body=detail_body("DEEP1", **deep))
    rsps.get(f"{CLOUD_URL}/visitors/GOOD1.json", body=detail_body("GOOD1"))
    out, err = run_sync("--with-history")
    # A clear error for the one visitor, the other synced, no traceback.
    assert "created=1 updated=0 unchanged=0 failed=1 skipped=0" in out
    assert "1 visitors could not be fetched from Upscope (invalid_response: 1)" in err
    assert list(Visitor.objects.values_list("pk", flat=True)) == ["GOOD1"]


@pytest.mark.django_db
def test_json_as_deep_as_the_limit_is_stored(rsps, upstream):
    # The positive control: nesting within the limit is Upscope's data, kept as sent.
    rsps.get(LIST_URL, json=visitor_list("OKAY1"))
    depth = MAX_JSON_DEPTH - 8  # raw: visitor > sessions > session > metadata > deep
    rsps.get(f"{CLOUD_URL}/visitors/OKAY1.json", body=detail_body("OKAY1", metadata=nested(depth)))
    out, _err = run_sync()
    assert "created=1 updated=0 unchanged=0 failed=0 skipped=0" in out


@pytest.mark.drf  # drives the DRF API or the example project (which installs DRF)
@pytest.mark.django_db
@pytest.mark.parametrize("where", ["metadata", "history"])
def test_the_visitor_endpoint_answers_502_json_for_deeply_nested_json(
    rsps, upstream, client, where
):
    client.force_login(make_user("reader", ["view_visitor"]))
    body = detail_body("DEEP1", **{where: nested(10_000)})
    rsps.get(f"{CLOUD_URL}/visitors/DEEP1.json", body=body)
    response = client.get("/upscope/api/visitors/DEEP1/?with_history=true")
    assert response.status_code == 502
    assert response.json()["error"] == "invalid_response"
    assert "nested too deeply" in response.json()["detail"]


def test_a_visitor_too_large_is_refused(rsps):
    big = {f"k{i}": "x" * 1000 for i in range(80)}  # ~80 KB of one session's metadata
    payload = {"status": "ok", "visitor": visitor(sessions=[{"id": 1, "metadata": big}])}
    rsps.get(f"{CLOUD_URL}/visitors/GOOD1.json", json=payload)
    with pytest.raises(UpscopeInvalidResponse) as info:
        cloud_client().get_visitor("GOOD1")
    assert "session.metadata is larger than" in info.value.message


# -- a bad row already stored ------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("bad", STORABLE_UNSAFE_IDS)
def test_the_changelist_survives_a_stored_unsafe_id(client, bad):
    store_bad_row(bad)
    VisitorFactory(short_id="GOOD1")
    client.force_login(make_user("agent", ["view_visitor", "screenshare_visitor"]))
    response = client.get("/admin/django_upscope/visitor/")
    assert response.status_code == 200
    # The good row keeps its screen-share link; the bad one gets none.
    assert b"/admin/django_upscope/visitor/GOOD1/screenshare/" in response.content


@pytest.mark.django_db
def test_sync_prune_removes_stored_rows_with_unsafe_ids(rsps, upstream):
    store_bad_row("x\ny")
    store_bad_row("bad/id")
    rsps.get(LIST_URL, json=visitor_list("GOOD1"))
    rsps.get(f"{CLOUD_URL}/visitors/GOOD1.json", body=detail_body("GOOD1"))
    out, err = run_sync("--prune")
    # Upscope cannot be asked about an invalid id: such rows are removed locally.
    assert "Removed 2 local visitors whose id is not a valid Upscope id." in out
    assert list(Visitor.objects.values_list("pk", flat=True)) == ["GOOD1"]
    assert "CommandError" not in err
