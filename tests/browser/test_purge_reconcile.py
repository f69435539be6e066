"""A purge from the admin, reconciled, in a real browser (issue 11, "Purge reconciled").

The admin purges offline visitors on the example project, whose fake Upscope purges after
``FAKE_PURGE_DELAY`` and whose task backend (the database) queues the check
``PURGE_RECONCILE_DELAY`` seconds later. No test waits that long: the test makes the fake's
purge and the queued check due (their rows' times, through ``manage.py shell``), then runs
the queued check with ``manage.py db_worker --batch``, as the demo's worker would. The
visitors purged are then hidden from the default list, and listed under "Gone from Upscope"
with the badge and no share button.

It purges the shared demo's offline visitors: the other browser tests use online ones.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import log_in

pytestmark = pytest.mark.browser

CHANGELIST = "/admin/django_upscope/visitor/"

# The present offline visitors of the mirror, and the online ones, each as the fake (Upscope)
# sees them too: other browser tests bring visitors online, send them away or leave them in a
# session, and a purge removes what Upscope has offline and out of session, whatever the
# mirror last heard.
MIRROR = (
    "import json\n"
    "from django_upscope.fake.models import FakeVisitor\n"
    "from django_upscope.models import Visitor\n"
    "present = Visitor.objects.filter(removed_upstream_at__isnull=True)\n"
    "kept = FakeVisitor.objects.filter(is_online=True) | FakeVisitor.objects.filter("
    "is_in_session=True)\n"
    "up = set(kept.values_list('short_id', flat=True))\n"
    "def ids(qs, online):\n"
    "    return sorted(i for i in qs.values_list('short_id', flat=True) if (i in up) == online)\n"
    "print(json.dumps({\n"
    "  'offline': ids(present.filter(is_online=False), False),\n"
    "  'online': ids(present.filter(is_online=True), True),\n"
    "  'gone': sorted(Visitor.objects.filter(removed_upstream_at__isnull=False)"
    ".values_list('short_id', flat=True)),\n"
    "}))"
)

# Make due, now: the fake's pending purge and the queued check (instead of waiting for them).
MAKE_DUE = (
    "import json\n"
    "from django.utils import timezone\n"
    "from django_tasks_db.models import DBTaskResult\n"
    "from django_upscope.fake.models import FakePurge\n"
    "purges = FakePurge.objects.update(run_at=timezone.now())\n"
    "checks = DBTaskResult.objects.filter(task_path='django_upscope.tasks.reconcile_purge', "
    "status='READY').update(run_after=timezone.now())\n"
    "print(json.dumps([purges, checks]))"
)


def row(page, short_id):
    return page.locator("#result_list tbody tr").filter(
        has=page.locator(f'input[name="_selected_action"][value="{short_id}"]')
    )


def test_purged_visitors_end_up_gone_from_upscope(page, demo_server, shoot):
    before = demo_server.query(MIRROR)
    assert len(before["offline"]) >= 2, f"the seeded demo needs offline visitors: {before}"
    assert before["online"], f"the seeded demo needs online visitors: {before}"

    log_in(page, demo_server, "admin", next_path=CHANGELIST)
    expect(page.locator("#upscope-last-sync time")).to_have_count(1)  # how old the list is
    for short_id in before["offline"]:
        expect(row(page, short_id)).to_have_count(1)

    page.get_by_role("link", name="Purge offline visitors").click()
    expect(page.locator("#content")).to_contain_text("a check finds the visitors Upscope removed")
    shoot(page, "purge-confirmation")
    page.get_by_role("button", name="Yes, purge offline visitors").click()
    expect(page).to_have_url(re.compile(re.escape(demo_server.url(CHANGELIST)) + r"$"))
    messages = page.locator("ul.messagelist")
    expect(messages).to_contain_text("Upscope accepted the purge")
    expect(messages).to_contain_text(
        "A check in 5 seconds will mark those it deleted as gone "
        "(filter \u201cGone from Upscope\u201d)."
    )
    shoot(page, "purge-accepted")
    # Not yet: the check has not run, so the offline visitors are still listed.
    expect(row(page, before["offline"][0])).to_have_count(1)

    purges, checks = demo_server.query(MAKE_DUE)
    assert (purges, checks) == (1, 1)
    demo_server.manage("db_worker", "--batch", "--no-startup-delay", "--queue-name", "default")
    after = demo_server.query(MIRROR)
    assert set(before["offline"]) <= set(after["gone"]), after
    assert set(before["online"]) <= set(after["online"]), after  # the online ones stay

    # The default list hides them; an online visitor is still there, with its share button.
    page.goto(demo_server.url(CHANGELIST))
    for short_id in before["offline"]:
        expect(row(page, short_id)).to_have_count(0)
    online = row(page, before["online"][0])
    expect(online).to_have_count(1)
    expect(online.locator("a.upscope-screenshare")).to_have_count(1)
    shoot(page, "default-list-after-check")

    # "Gone from Upscope" lists them, each with the badge and no share button.
    page.locator("#changelist-filter").get_by_role("link", name="Gone from Upscope").click()
    expect(page).to_have_url(re.compile(r"[?&]upscope_presence=gone"))
    for short_id in before["offline"]:
        gone = row(page, short_id)
        expect(gone).to_have_count(1)
        expect(gone.locator(".upscope-badge.upscope-gone")).to_have_text("Gone from Upscope")
        expect(gone.locator("a.upscope-screenshare")).to_have_count(0)
        expect(gone.locator(".upscope-gone-share")).to_have_text("gone")
    expect(row(page, before["online"][0])).to_have_count(0)
    shoot(page, "gone-from-upscope")
    assert page.console_watch.ours() == []
