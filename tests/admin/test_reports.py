"""The session reports (django_upscope.reports) and their place on the usage page: tables,
bar charts, CSV files, the chart's time axis, the admin index link and permissions.

The known sessions (UTC, range 2026-11-10 .. 2026-11-13):

======  ================  ======  ==========  ===============
id      started           length  agents      features
======  ================  ======  ==========  ===============
S1      11-10 09:00       100     Ada         click, scroll
S2      11-10 15:00       200     Ada, Bob    click
S3      11-11 10:00       300     Bob         draw
S6      11-11 12:00       60      (none)      click
S4      11-13 11:00       running Ada         (none)
S5      11-05 09:00       999     Ada         click  (outside the range)
======  ================  ======  ==========  ===============
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from django_upscope import reports
from django_upscope.admin.charts import UsagePoint, usage_chart
from django_upscope.admin.common import csv_cell
from django_upscope.testing.factories import AgentFactory, SessionFactory, UsageSnapshotFactory

from ..helpers import make_user

pytestmark = pytest.mark.django_db

UTC = dt.timezone.utc
START, END = dt.date(2026, 11, 10), dt.date(2026, 11, 13)
RANGE = {"start": "2026-11-10", "end": "2026-11-13"}
API = "http://127.0.0.1:1/__upscope__/v1.1"
USAGE = {
    "usage": {
        "visitors": {"online_now": 7, "last_24_hrs": 70, "last_30_days": 700},
        "agents": {"today": 2, "last_30_days": 5},
        "session_counts": {"now": 1, "today": 4, "last_30_days": 40},
        "session_seconds": {"today": 400, "last_30_days": 4000},
    }
}


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def session(started, length, agents, features, **extra):
    return SessionFactory(
        started_at=started,
        length_seconds=length,
        agents=agents,
        features_used=features,
        **extra,
    )


@pytest.fixture
def known(db):
    ada, bob = AgentFactory(name="Ada"), AgentFactory(name="Bob")
    session(at(10, 9), 100, [ada], ["click", "scroll"])
    session(at(10, 15), 200, [ada, bob], ["click"])
    session(at(11, 10), 300, [bob], ["draw"])
    session(at(11, 12), 60, [], ["click"])
    SessionFactory(started_at=at(13, 11), active=True, agents=[ada], features_used=[])
    session(at(5, 9), 999, [ada], ["click"])
    return ada, bob


@pytest.fixture
def usage_api(rsps):
    """Upscope answers usage.json with :data:`USAGE`."""
    rsps.get(f"{API}/usage.json", json=USAGE)
    return rsps


def figures(row):
    return (
        row.figures.sessions,
        row.figures.ended,
        row.figures.seconds,
        row.figures.average_seconds,
    )


# --- the figures -----------------------------------------------------------------------------


def test_sessions_per_day(known):
    rows = reports.sessions_per_day(START, END)
    assert [(r.day, *figures(r)) for r in rows] == [
        (dt.date(2026, 11, 10), 2, 2, 300, 150.0),
        (dt.date(2026, 11, 11), 2, 2, 360, 180.0),
        (dt.date(2026, 11, 12), 0, 0, 0, None),
        (dt.date(2026, 11, 13), 1, 0, 0, None),
    ]


def test_per_agent(known):
    ada, bob = known
    rows = reports.per_agent(START, END)
    assert [(r.agent_id, r.label, *figures(r)) for r in rows] == [
        (ada.pk, "Ada", 3, 2, 300, 150.0),
        (bob.pk, "Bob", 2, 2, 500, 250.0),
        (None, "(no agent)", 1, 1, 60, 60.0),
    ]


def test_per_feature(known):
    rows = reports.per_feature(START, END)
    assert [(r.feature, *figures(r)) for r in rows] == [
        ("click", 3, 3, 360, 120.0),
        ("draw", 1, 1, 300, 300.0),
        ("scroll", 1, 1, 100, 100.0),
    ]


def test_average_length(known):
    summary = reports.average_length(START, END)
    assert (summary.sessions, summary.ended, summary.seconds) == (5, 4, 660)
    assert summary.average_seconds == 165.0
    # The session of 11-05 counts once its day is in the range.
    wider = reports.average_length(dt.date(2026, 11, 5), END)
    assert (wider.sessions, wider.seconds) == (6, 1659)


def test_a_late_utc_session_lands_on_the_local_day(settings):
    SessionFactory(started_at=at(10, 23, 30), length_seconds=50)
    days = (dt.date(2026, 11, 10), dt.date(2026, 11, 11))
    # Positive control: in UTC it is a session of the 10th.
    assert [r.figures.sessions for r in reports.sessions_per_day(*days)] == [1, 0]
    settings.TIME_ZONE = "Europe/Paris"  # UTC+1 in November: 00:30 on the 11th
    assert [r.figures.sessions for r in reports.sessions_per_day(*days)] == [0, 1]
    assert reports.average_length(days[0], days[0]).sessions == 0
    assert reports.average_length(days[1], days[1]).sessions == 1


def test_a_range_ending_before_it_starts_is_refused():
    with pytest.raises(ValueError):
        reports.sessions_per_day(END, START)


# --- the page --------------------------------------------------------------------------------


def table(html, report):
    start = html.index(f'id="upscope-table-{report}"')
    return html[start : html.index("</table>", start)]


def row(label, *cells):
    return f'<th scope="row">{label}</th>' + "".join(f'<td class="num">{c}</td>' for c in cells)


def test_page_shows_the_report_tables(admin_client, known, usage_api):
    response = admin_client.get(reverse("admin:django_upscope_usage"), RANGE)
    assert response.status_code == 200
    html = response.content.decode()
    per_day = table(html, "per-day")
    assert row("2026-11-10", 2, 2, 300, "150.0") in per_day
    assert row("2026-11-11", 2, 2, 360, "180.0") in per_day
    assert row("2026-11-12", 0, 0, 0, "-") in per_day
    assert row("2026-11-13", 1, 0, 0, "-") in per_day
    per_agent = table(html, "per-agent")
    assert row("Ada", 3, 2, 300, "150.0") in per_agent
    assert row("Bob", 2, 2, 500, "250.0") in per_agent
    assert row("(no agent)", 1, 1, 60, "60.0") in per_agent
    per_feature = table(html, "per-feature")
    assert row("click", 3, 3, 360, "120.0") in per_feature
    assert row("draw", 1, 1, 300, "300.0") in per_feature
    assert row("scroll", 1, 1, 100, "100.0") in per_feature
    summary = html[html.index('id="upscope-report-average-length"') :]
    assert '<td class="num">5</td><td class="num">4</td><td class="num">660</td>' in summary
    assert '<td class="num">165.0</td>' in summary


def test_each_report_chart_is_an_image_with_a_table_behind_it(admin_client, known, usage_api):
    html = admin_client.get(reverse("admin:django_upscope_usage"), RANGE).content.decode()
    for report, bars in (("per-day", 4), ("per-agent", 3), ("per-feature", 3)):
        start = html.index(f'<svg class="upscope-chart upscope-bars" id="upscope-chart-{report}"')
        svg = html[start : html.index("</svg>", start)]
        assert 'role="img"' in svg
        assert f'aria-labelledby="upscope-chart-{report}-svg-title"' in svg
        assert f'<title id="upscope-chart-{report}-svg-title">' in svg
        assert svg.count("<rect") == bars
        # The table with the same numbers comes right after the chart.
        after = html[html.index("</svg>", start) :]
        assert after.index(f'id="upscope-table-{report}"') < after.index("<svg")
    agent_chart = html[html.index('id="upscope-chart-per-agent"') :]
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', agent_chart)[:3]]
    # Bars 3 : 2 : 1, drawn to one decimal.
    assert heights[0] == pytest.approx(3 * heights[2], abs=0.2)
    assert heights[1] == pytest.approx(2 * heights[2], abs=0.2)
    assert "<title>Ada: 3</title>" in agent_chart


def test_names_are_escaped_in_charts_and_tables(admin_client, usage_api):
    SessionFactory(started_at=at(10, 9), agents=[AgentFactory(name="<b>x</b>")])
    html = admin_client.get(reverse("admin:django_upscope_usage"), RANGE).content.decode()
    assert "<b>x</b>" not in html
    assert "<title>&lt;b&gt;x&lt;/b&gt;: 1</title>" in html  # the bar
    assert row("&lt;b&gt;x&lt;/b&gt;", 1, 1) in table(html, "per-agent")


def test_an_unusable_range_falls_back_to_the_last_30_days(admin_client, usage_api):
    response = admin_client.get(reverse("admin:django_upscope_usage"), {"start": "tuesday"})
    assert response.status_code == 200
    span = response.context["span"]
    assert (span.start, span.end) == reports.default_range()
    assert [str(m) for m in response.context["messages"]] == ["“start” is not a date (YYYY-MM-DD)."]
    assert len(table(response.content.decode(), "per-day").split("<tr>")) == 1 + 1 + 30


@pytest.mark.parametrize(
    ("query", "tz"),
    [
        ({"start": "9999-12-30", "end": "9999-12-31"}, "UTC"),  # the day after overflows
        ({"start": "0001-01-01", "end": "0001-01-02"}, "Europe/Paris"),  # midnight is year 0
    ],
)
def test_dates_at_the_ends_of_the_calendar_fall_back_not_500(
    admin_client, usage_api, settings, query, tz
):
    settings.TIME_ZONE = tz
    response = admin_client.get(reverse("admin:django_upscope_usage"), query)
    assert response.status_code == 200
    assert (response.context["span"].start, response.context["span"].end) == (
        reports.default_range()
    )
    assert any("must be between 1970-01-01" in str(m) for m in response.context["messages"])
    csv = admin_client.get(csv_url("per-day"), query)
    assert csv.status_code == 200


# --- CSV -------------------------------------------------------------------------------------


def csv_url(report):
    return reverse("admin:django_upscope_usage_csv", args=[report])


def test_csv_per_agent_and_per_day(admin_client, known):
    response = admin_client.get(csv_url("per-agent"), RANGE)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="upscope-per-agent-2026-11-10-2026-11-13.csv"'
    )
    assert response.content.decode() == (
        "agent,sessions,ended_sessions,total_seconds,average_seconds\r\n"
        "Ada,3,2,300,150.0\r\n"
        "Bob,2,2,500,250.0\r\n"
        "(no agent),1,1,60,60.0\r\n"
    )
    assert admin_client.get(csv_url("per-day"), RANGE).content.decode() == (
        "date,sessions,ended_sessions,total_seconds,average_seconds\r\n"
        "2026-11-10,2,2,300,150.0\r\n"
        "2026-11-11,2,2,360,180.0\r\n"
        "2026-11-12,0,0,0,\r\n"
        "2026-11-13,1,0,0,\r\n"
    )


def test_csv_per_feature_and_average_length(admin_client, known):
    assert admin_client.get(csv_url("per-feature"), RANGE).content.decode() == (
        "feature,sessions,ended_sessions,total_seconds,average_seconds\r\n"
        "click,3,3,360,120.0\r\n"
        "draw,1,1,300,300.0\r\n"
        "scroll,1,1,100,100.0\r\n"
    )
    assert admin_client.get(csv_url("average-length"), RANGE).content.decode() == (
        "start,end,sessions,ended_sessions,total_seconds,average_seconds\r\n"
        "2026-11-10,2026-11-13,5,4,660,165.0\r\n"
    )


def test_csv_of_snapshots_in_the_range(admin_client):
    UsageSnapshotFactory(taken_at=at(9, 23), visitors_online_now=1)  # before the range
    UsageSnapshotFactory(taken_at=at(10, 9), visitors_online_now=12, sessions_today=3)
    lines = admin_client.get(csv_url("snapshots"), RANGE).content.decode().splitlines()
    assert lines[0].startswith("taken_at,visitors_online_now,visitors_last_24_hrs,")
    assert len(lines) == 2
    assert lines[1].startswith("2026-11-10 09:00:00+00:00,12,")


def test_csv_cells_that_look_like_formulas_are_quoted(admin_client):
    for name in ("=HYPERLINK(1)", "+1", "-2", "@SUM(A1)", "Plain"):
        SessionFactory(started_at=at(10, 9), length_seconds=10, agents=[AgentFactory(name=name)])
    lines = admin_client.get(csv_url("per-agent"), RANGE).content.decode().splitlines()
    names = sorted(line.split(",")[0] for line in lines[1:])
    assert names == ["'+1", "'-2", "'=HYPERLINK(1)", "'@SUM(A1)", "Plain"]
    assert csv_cell("Plain") == "Plain" and csv_cell("=1") == "'=1" and csv_cell(None) == ""


def test_an_unknown_report_is_a_404(admin_client):
    assert admin_client.get(csv_url("passwords")).status_code == 404


# --- the usage chart's time axis -------------------------------------------------------------


def point(moment, online):
    return UsagePoint(taken_at=moment, visitors_online_now=online, sessions_today=0, agents_today=0)


def xs_of(chart):
    return [float(p.split(",")[0]) for p in chart["series"][0]["points"].split()]


def test_x_is_proportional_to_time_with_time_labels():
    t = at(10, 9)
    chart = usage_chart(
        [point(t, 1), point(t + dt.timedelta(hours=1), 2), point(t + dt.timedelta(hours=3), 3)]
    )
    a, b, c = xs_of(chart)
    assert (c - b) == pytest.approx(2 * (b - a), abs=0.2)
    assert [tick["label"] for tick in chart["ticks"]] == [
        "09:00",
        "09:45",
        "10:30",
        "11:15",
        "12:00",
    ]
    assert float(chart["ticks"][0]["x"]) == pytest.approx(a) and float(
        chart["ticks"][-1]["x"]
    ) == pytest.approx(c)


def test_a_chart_over_days_is_labelled_with_dates():
    chart = usage_chart([point(at(10, 9), 1), point(at(14, 9), 2)])
    assert [tick["label"] for tick in chart["ticks"]] == [
        "Nov 10",
        "Nov 11",
        "Nov 12",
        "Nov 13",
        "Nov 14",
    ]


def test_the_page_spaces_stored_snapshots_by_time(admin_client, settings):
    settings.UPSCOPE = {**settings.UPSCOPE, "MAX_RETRIES": 0}  # Upscope unreachable: no "now"
    t = at(10, 9)
    for hours in (0, 1, 3):
        UsageSnapshotFactory(taken_at=t + dt.timedelta(hours=hours), visitors_online_now=hours)
    html = admin_client.get(reverse("admin:django_upscope_usage")).content.decode()
    points = re.search(r'<polyline fill="none" stroke="#2271b1"[^>]*points="([^"]+)"', html)
    a, b, c = [float(p.split(",")[0]) for p in points.group(1).split()]
    assert (c - b) == pytest.approx(2 * (b - a), abs=0.2)
    labels = re.findall(r'<text class="upscope-time-label"[^>]*>([^<]+)</text>', html)
    assert labels == ["09:00", "09:45", "10:30", "11:15", "12:00"]


def test_the_current_figures_are_the_last_point(admin_client, usage_api):
    UsageSnapshotFactory(taken_at=at(10, 9), visitors_online_now=3)
    response = admin_client.get(reverse("admin:django_upscope_usage"))
    stored, now = response.context["chart"]["points"]
    assert (stored.visitors_online_now, stored.now) == (3, False)
    assert (now.visitors_online_now, now.sessions_today, now.agents_today, now.now) == (
        7,
        4,
        2,
        True,
    )
    a, b = xs_of(response.context["chart"])
    assert a < b == response.context["chart"]["right"]


# --- links and permissions -------------------------------------------------------------------


def test_the_admin_index_links_the_usage_page(admin_client, usage_api):
    changelist = reverse("admin:django_upscope_usagesnapshot_changelist")
    index = admin_client.get(reverse("admin:index")).content.decode()
    assert f'href="{changelist}"' in index
    page = admin_client.get(changelist)
    assert page.status_code == 200
    assert page.templates[0].name == "django_upscope/admin/usage.html"
    assert 'id="upscope-table-per-day"' in page.content.decode()


def test_reports_need_the_usage_view_permission(client, login, known, usage_api):
    page, csv = reverse("admin:django_upscope_usage"), csv_url("per-day")
    anonymous = client.get(csv)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/admin/login/")
    login(make_user("visitor-viewer", ["view_visitor", "view_session"]))
    assert client.get(page).status_code == 403
    assert client.get(csv).status_code == 403
    login(make_user("usage-viewer", ["view_usagesnapshot"]))
    assert client.get(page).status_code == 200
    allowed = client.get(csv, RANGE)
    assert allowed.status_code == 200
    assert allowed.content.decode().splitlines()[1] == "2026-11-10,2,2,300,150.0"
