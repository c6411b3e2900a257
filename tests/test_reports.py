"""``/reports``: its numbers against a recount over the tickets, per scope; the range's
validation; the CSV files against the page; a query count that does not grow with the data.

The recount here is written apart from ``models.report_day`` and ``services.reports``: by
Python over every ticket, with the report's definitions (each event on its UTC day).
"""

import csv
import io
import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from html import unescape
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import PRIORITIES, Category, Ticket, User
from helpdesk.models.timestamps import utcnow
from helpdesk.services import replies, reports, tickets
from tests.tally_recount import BUCKET_ENDS_MINUTES
from tests.world import email

# --- a recount over the tickets ------------------------------------------------------------


def _seconds(start, end):
    return int((end.replace(microsecond=0) - start.replace(microsecond=0)).total_seconds())


def _hours(seconds, count):
    return round(seconds / count / 3600, 1) if count else None


def recount(in_scope, start, end):
    """What the report of ``start``..``end`` (UTC days) must say over the tickets for which
    ``in_scope(ticket)`` holds: totals, per day, and per breakdown label, each as
    ``(opened, resolved, unresolved, first response hours, resolution hours, first responses
    within SLA, first responses with a target, resolutions within SLA, resolutions with a
    target)``."""
    groups = defaultdict(lambda: [0] * 10)  # opened resolved unresolved n s n s met of met of

    def add(keys, index, amount=1):
        for key in keys:
            groups[key][index] += amount

    for ticket in db.session.scalars(select(Ticket)):
        if ticket.deleted_at is not None or not in_scope(ticket):
            continue
        labels = [("category", ticket.category.name), ("priority", ticket.priority.capitalize()),
                  ("reseller", ticket.reseller.name if ticket.reseller else "No reseller"),
                  ("organisation", ticket.organisation.name if ticket.organisation
                   else "No organisation")]

        def on(moment):
            day = moment.astimezone(UTC).date()
            return start <= day <= end, day

        inside, day = on(ticket.created_at)
        if inside:
            add([("total",), ("day", day), *labels], 0)
            add([("total",), ("day", day), *labels], 2, int(ticket.is_unresolved))
        for moment, due, index in ((ticket.first_response_at, ticket.first_response_due_at, 3),
                                   (ticket.resolved_at, ticket.resolution_due_at, 1)):
            if moment is None:
                continue
            inside, day = on(moment)
            if inside:
                keys = [("total",), ("day", day), *labels]
                wait = _seconds(ticket.created_at, moment)
                sla = 6 if index == 3 else 8
                if due is not None:
                    add(keys, sla, int(_seconds(moment, due) >= 0))
                    add(keys, sla + 1)
                if index == 1:
                    add(keys, 1)
                    add(keys, 5, wait)
                else:
                    add(keys, 3)
                    add(keys, 4, wait)
    return {key: (v[0], v[1], v[2], _hours(v[4], v[3]), _hours(v[5], v[1]), *v[6:])
            for key, v in groups.items()}


def shown(report):
    """The report in the shape of ``recount`` (empty days left out)."""
    def figures_of(f):
        return (f.opened, f.resolved, f.unresolved, f.first_response_hours, f.resolution_hours,
                f.sla_responses_met, f.sla_responses, f.sla_resolutions_met, f.sla_resolutions)

    out = {("total",): figures_of(report.totals)}
    out.update({("day", p.key): figures_of(p) for p in report.periods
                if any(figures_of(p)[:3]) or p.responded})
    for name, rows in report.breakdowns.items():
        for figures in rows:
            if not any(figures_of(figures)):  # only backlog, opened before the range
                continue
            label = figures.label.capitalize() if name == "priority" else figures.label
            out[(name, label)] = figures_of(figures)
    return out


@pytest.fixture
def history(app_context, world):
    """Tickets with known clocks over the last 100 days, in every scope: answered and
    resolved days after opening (some outside a 30-day range), one reopened, one deleted;
    SLA targets met and missed."""
    agent = db.session.get(User, world.users["agent"])
    categories = db.session.scalars(select(Category).order_by(Category.position)).all()
    now = utcnow()
    people = [db.session.get(User, world.users[key]) for key in ("alice", "bob", "dave", "zed")]
    for n in range(16):
        opened_at = now - timedelta(days=6 * n + 1, hours=n)
        ticket = tickets.open_ticket(
            subscriber=people[n % 4], subject=f"Clocked {n}", body="b",
            category=categories[n % 3], priority=PRIORITIES[n % 4], created_at=opened_at)
        if n % 4 != 3:  # waiting on the customer (the clocks paused), but for n 14: high,
            # in progress and resolved four days and more later, late
            replies.add_reply(ticket, author=agent, body="Looking",
                              status="in_progress" if n == 14 else None,
                              created_at=opened_at + timedelta(hours=3 + n))
        elif n == 3:  # urgent (one business hour), answered three days late: missed
            replies.add_reply(ticket, author=agent, body="Sorry",
                              created_at=opened_at + timedelta(days=3))
        if n % 2 == 0:
            replies.add_reply(ticket, author=agent, body="Fixed", status="resolved",
                              created_at=opened_at + timedelta(days=n % 5, hours=5))
        if n == 4:
            replies.add_reply(ticket, author=ticket.subscriber, body="Back again")
            tickets.change_status(ticket, "open", actor=agent)
    gone = tickets.open_ticket(subscriber=people[0], subject="Deleted", body="b",
                               category=categories[0], created_at=now - timedelta(days=2))
    tickets.delete_ticket(gone, actor=agent)


SCOPES = [
    ("agent", lambda t: True),
    ("north_all", lambda t: True),  # tickets.view_all
    ("north_reseller", lambda t: t.reseller is not None and t.reseller.name == "North"),
    ("south_reseller", lambda t: t.reseller is not None and t.reseller.name == "South"),
    ("north_none", lambda t: False),  # no tickets.view: sees nothing, counts nothing
]


@pytest.mark.parametrize(("key", "in_scope"), SCOPES)
@pytest.mark.parametrize("days", [7, 30, 90])
def test_report_equals_a_recount_per_scope(history, world, key, in_scope, days):
    """Every number of the report, for every kind of desk user and each preset, equals a
    count over the tickets they see."""
    user = db.session.get(User, world.users[key])
    date_range = reports.parse_range({"days": str(days), "per": "day"})
    report = reports.build_report(user, date_range)
    expected = recount(in_scope, date_range.start, date_range.end)
    assert shown(report) == expected | {("total",): expected.get(
        ("total",), (0, 0, 0, None, None, 0, 0, 0, 0))}
    assert len(report.periods) == days
    if key == "agent" and days == 90:
        assert report.totals.opened >= 15 and report.totals.resolved >= 7
        totals = report.totals  # met and missed targets both among them
        assert 0 < totals.sla_responses_met < totals.sla_responses
        assert 0 < totals.sla_resolutions_met < totals.sla_resolutions
    if key == "north_none":
        assert report.totals.opened == 0 and report.backlog_now == 0


def bucket_around(seconds):
    """The edges (seconds) of the histogram bucket holding a duration, from the bucket ends
    written out in ``tests/tally_recount.py``; the last bucket's upper edge is None."""
    ends = [minutes * 60 for minutes in BUCKET_ENDS_MINUTES]
    low = max((end for end in ends if end <= seconds), default=0)
    return low, min((end for end in ends if end > seconds), default=None)


@pytest.mark.parametrize(("key", "in_scope"), SCOPES)
def test_medians_lie_in_the_middle_tickets_bucket_per_scope(history, world, key, in_scope):
    """Each median (totals and every breakdown row) lies within the bucket of the middle
    ticket's time (of one or two times, is their mean), counting only the tickets the user
    sees: 90 days, every ticket of the history in range."""
    user = db.session.get(User, world.users[key])
    date_range = reports.parse_range({"days": "90"})
    report = reports.build_report(user, date_range)
    durations = defaultdict(lambda: ([], []))
    for ticket in db.session.scalars(select(Ticket)):
        if ticket.deleted_at is not None or not in_scope(ticket):
            continue
        keys = [("total",), ("category", ticket.category.name), ("priority", ticket.priority),
                ("reseller", ticket.reseller.name if ticket.reseller else "No reseller"),
                ("organisation", ticket.organisation.name if ticket.organisation
                 else "No organisation")]
        for index, moment in enumerate((ticket.first_response_at, ticket.resolved_at)):
            if moment is not None and (date_range.start <= moment.astimezone(UTC).date()
                                       <= date_range.end):
                for group in keys:
                    durations[group][index].append(_seconds(ticket.created_at, moment))
    rows = [(("total",), report.totals)] + [
        ((name, f.key if name == "priority" else f.label), f)
        for name, figures in report.breakdowns.items() for f in figures]
    checked = 0
    for group, figures in rows:
        for times, estimate in zip(durations[group], (figures.median_first_response_hours,
                                                      figures.median_resolution_hours),
                                   strict=True):
            if not times:
                assert estimate is None, group
                continue
            if len(times) <= 2:  # the mean, exactly
                assert estimate == _hours(sum(times), len(times)), group
                continue
            low, high = bucket_around(sorted(times)[(len(times) + 1) // 2 - 1])
            assert low / 3600 - 0.05 <= estimate <= (high or low) / 3600 + 0.05, group
            checked += 1
    assert checked > 0 or key == "north_none"


@pytest.mark.parametrize(("key", "in_scope"), SCOPES)
def test_backlog_now_per_breakdown_equals_a_recount(history, world, key, in_scope):
    """Each breakdown's backlog now counts every unresolved ticket in scope, whenever opened
    (a 7-day range leaves most of them out of its other columns), and sums to the total."""
    user = db.session.get(User, world.users[key])
    report = reports.build_report(user, reports.parse_range({"days": "7"}))
    expected = defaultdict(int)
    for ticket in db.session.scalars(select(Ticket)):
        if ticket.deleted_at is None and ticket.is_unresolved and in_scope(ticket):
            expected[("category", ticket.category.name)] += 1
            expected[("priority", ticket.priority)] += 1
            expected[("reseller", ticket.reseller.name if ticket.reseller else "No reseller")] += 1
            expected[("organisation", ticket.organisation.name if ticket.organisation
                      else "No organisation")] += 1
    got = {(name, f.key if name == "priority" else f.label): f.backlog
           for name, rows in report.breakdowns.items() for f in rows if f.backlog}
    assert got == dict(expected)
    for rows in report.breakdowns.values():
        assert sum(f.backlog for f in rows) == report.backlog_now
    if key == "agent":
        assert report.backlog_now > report.totals.unresolved > 0


def test_weeks_sum_to_the_days(history, world):
    """Per week: Monday-to-Sunday periods cut at the range's ends, summing to the totals."""
    agent = db.session.get(User, world.users["agent"])
    report = reports.build_report(agent, reports.parse_range({"days": "90"}))
    assert report.range.per == "week"  # longer than a month: weekly unless asked
    assert [p.key.weekday() for p in report.periods[1:]] == [0] * (len(report.periods) - 1)
    assert report.periods[0].key == report.range.start
    assert sum(p.opened for p in report.periods) == report.totals.opened > 0
    assert sum(p.resolved for p in report.periods) == report.totals.resolved > 0


def test_backlog_now_counts_every_unresolved_ticket_in_scope(history, world):
    """Opened long ago or yesterday, an unresolved ticket is in today's backlog."""
    for key, in_scope in SCOPES:
        user = db.session.get(User, world.users[key])
        expected = sum(1 for t in db.session.scalars(select(Ticket))
                       if t.deleted_at is None and t.is_unresolved and in_scope(t))
        assert reports.build_report(user, reports.parse_range({})).backlog_now == expected, key


# --- who may see the page --------------------------------------------------------------------


def test_reports_are_for_staff_and_resellers(client, auth, world):
    """Customers get 404 (page and CSV); anonymous people are sent to sign in; a reseller's
    page names only its own reseller."""
    assert client.get("/reports").status_code == 302
    for customer in ("alice", "carol"):
        auth.login(email(customer))
        assert client.get("/reports").status_code == 404
        assert client.get("/reports/category.csv").status_code == 404
        auth.logout()
    auth.login(email("north_reseller"))
    html = client.get("/reports").text
    assert "South" not in html and "Zeta" not in html and "Acme" in html
    assert "South" not in client.get("/reports/organisation.csv").text
    auth.logout()
    auth.login(email("agent"))
    html = client.get("/reports").text
    assert "By reseller" in html and "South" in html and "Zeta" in html


# --- the range -------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "message"), [
    ({"from": "2026-13-01", "to": "2026-12-31"}, "is not a date"),
    ({"from": "yesterday", "to": "2026-01-02"}, "is not a date"),
    ({"from": "2026-01-01"}, "Give the end date"),
    ({"to": "2026-01-01"}, "Give the start date"),
    ({"from": "2026-02-01", "to": "2026-01-01"}, "start date is after the end date"),
    ({"from": "2020-01-01", "to": "2022-01-01"}, "at most 366 days"),
    ({"from": "2026-01-01", "to": "2999-01-01"}, "in the future"),
    ({"days": "45"}, "last 7, 30 or 90 days"),
    ({"days": "-1"}, "last 7, 30 or 90 days"),
    ({"per": "month"}, "per day or per week"),
    ({"from": "<b>x</b>", "to": "2026-01-01"}, "is not a date"),
])
def test_bad_ranges_are_answered_400_with_the_text_kept(client, auth, world, query, message):
    """A range the report cannot show: 400, a message saying why, the form as typed (escaped);
    its CSV is refused the same way."""
    auth.login(email("agent"))
    response = client.get("/reports", query_string=query)
    assert response.status_code == 400
    assert message in unescape(response.text)
    assert 'role="alert"' in response.text and "<b>x</b>" not in response.text
    for name in ("from", "to"):
        if name in query:
            assert f'name="{name}" value="{escape(query[name])}"' in response.text
    assert client.get("/reports/volume.csv", query_string=query).status_code == 400


def test_a_custom_range_and_its_links(client, auth, world):
    """From and to (inclusive), per day or week; the CSV links carry the same range."""
    auth.login(email("agent"))
    today = utcnow().date()
    start = (today - timedelta(days=9)).isoformat()
    response = client.get("/reports", query_string={"from": start, "to": today.isoformat()})
    assert response.status_code == 200
    assert f"{start} to {today.isoformat()} (10 days), per day" in response.text
    assert f"/reports/category.csv?from={start}&amp;to={today.isoformat()}&amp;per=day" \
        in response.text
    assert client.get("/reports/nothing.csv").status_code == 404


# --- the page, its charts and its CSV files ---------------------------------------------------


class _Tables(HTMLParser):
    """The cells of every ``<table id="table-...">`` of a page, row by row."""

    def __init__(self):
        super().__init__()
        self.tables, self.current, self.row, self.cell = {}, None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id", "").startswith("table-"):
            self.current = self.tables.setdefault(attrs["id"][6:], [])
        elif tag == "tr" and self.current is not None:
            self.row = []
        elif tag in ("th", "td") and self.row is not None:
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self.cell is not None:
            self.row.append(self.cell.strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.current.append(self.row)
            self.row = None
        elif tag == "table":
            self.current = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def as_page(rows):
    """CSV rows as the page shows them: each SLA compliance, three columns in the CSV (met,
    with a target, share to a tenth of a percent), one cell on the page, "92% (46 of 50)"
    (the share rounded down)."""
    heading, *data = rows
    out = [[]] + [[] for _ in data]
    index = 0
    while index < len(heading):
        name = heading[index]
        if name.endswith(" within SLA"):
            share_heading = heading[index + 2]
            assert heading[index + 1].endswith(" with an SLA target")
            assert share_heading.endswith(" within SLA (%)")
            out[0].append(share_heading.removesuffix(" (%)"))
            for row, page_row in zip(data, out[1:], strict=True):
                met, of, share = row[index:index + 3]
                if int(of):
                    assert float(share) == int(met) * 1000 // int(of) / 10
                    page_row.append(f"{int(met) * 100 // int(of)}% ({met} of {of})")
                else:
                    assert (met, share) == ("0", "")
                    page_row.append("")
            index += 3
        else:
            out[0].append(name)
            for row, page_row in zip(data, out[1:], strict=True):
                page_row.append(row[index])
            index += 1
    return out


@pytest.mark.parametrize("key", ["agent", "north_reseller"])
def test_each_csv_says_what_its_table_says(history, client, auth, world, key):
    """Every table of the page, as CSV for the same range, has the same rows and cells (the
    CSV's SLA columns as the page writes them)."""
    auth.login(email(key))
    query = {"days": "90", "per": "week"}
    html = client.get("/reports", query_string=query).text
    parser = _Tables()
    parser.feed(html)
    names = ["volume", "category", "priority", "organisation"]
    names += ["reseller"] if key == "agent" else []
    assert sorted(parser.tables) == sorted(names)
    for name in names:
        response = client.get(f"/reports/{name}.csv", query_string=query)
        assert response.status_code == 200 and response.mimetype == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.text)))
        assert as_page(rows) == parser.tables[name], name
        assert len(rows) > 1 and len(rows[0]) == len(parser.tables[name][0]) + 4
    volume = parser.tables["volume"]
    assert sum(int(row[1]) for row in volume[1:]) == int(re.search(
        r"<dt>Opened</dt><dd>(\d+)</dd>", html).group(1)) > 0


def test_charts_are_svg_under_the_content_security_policy(history, client, auth, world):
    """Server-drawn SVG with a title (no script, no inline style), one per table."""
    auth.login(email("agent"))
    response = client.get("/reports?days=90")
    page = response.text.split("<h1>Reports</h1>", 1)[1]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert page.count('<svg class="chart') == 5
    assert "style=" not in page and "<script" not in page
    assert re.search(r'<rect class="bar-opened" x="[\d.]+" y="[\d.]+" width="[\d.]+"', page)
    assert '<title id="volume-chart-title">Tickets opened and resolved</title>' in page


def test_csv_cells_never_start_a_formula(app_context, world):
    """A name a spreadsheet would run as a formula is quoted in the CSV."""
    from helpdesk.reports.tables import table_csv

    figures = reports.Figures(label="=HYPERLINK(1)", key=1, opened=2)
    report = reports.Report(range=reports.parse_range({}), totals=figures, periods=[],
                            breakdowns={"organisation": [figures]})
    assert table_csv(report, "organisation").splitlines()[1].startswith("'=HYPERLINK(1)")


# --- speed -------------------------------------------------------------------------------------


def test_query_count_does_not_grow_with_the_data(app, client, auth, world, count_queries):
    """The same statements for 6 tickets and for 66 over more days, categories and
    organisations."""
    auth.login(email("agent"))

    def statements():
        with count_queries() as counter:
            assert client.get("/reports?days=90").status_code == 200
        return counter.count

    few = statements()
    with app.app_context():
        agent = db.session.get(User, world.users["agent"])
        categories = db.session.scalars(select(Category)).all()
        people = [db.session.get(User, world.users[key]) for key in ("alice", "dave", "zed")]
        for n in range(60):
            ticket = tickets.open_ticket(
                subscriber=people[n % 3], subject=f"More {n}", body="b",
                category=categories[n % len(categories)], priority=PRIORITIES[n % 4],
                created_at=utcnow() - timedelta(days=n))
            replies.add_reply(ticket, author=agent, body="Done", status="resolved")
    assert statements() == few <= 8
    assert "<dt>Opened</dt><dd>66</dd>" in client.get("/reports?days=90").text


def test_chart_axes_read_whole_numbers_and_quiet_ranges_chart_the_backlog():
    """A top of 1 has no tick at 0.5 (read "0" twice); a range with nothing opened charts the
    backlog now instead of empty bars; a period without tickets draws no bar."""
    from helpdesk.reports import charts

    quiet = [reports.Figures(label="2026-01-01", key=1, opened=0),
             reports.Figures(label="2026-01-02", key=2, opened=1, resolved=1)]
    volume = charts.volume_chart(quiet, "day")
    assert [value for _, value in volume["ticks"]] == [0, 1]
    assert len(volume["bars"]) == 2 and all(bar.height > 0 for bar in volume["bars"])
    assert [value for _, value in charts.volume_chart(
        [reports.Figures(label="2026-01-01", opened=7)], "day")["ticks"]] == [0, 5, 10]
    waiting = [reports.Figures(label="Billing", backlog=4), reports.Figures(label="Wi-Fi",
                                                                            backlog=2)]
    chart = charts.bars_chart(waiting, label=lambda f: f.label)
    assert chart["value"] == "backlog" and [i["count"] for i in chart["items"]] == [4, 2]
    assert chart["items"][0]["width"] == 2 * chart["items"][1]["width"]


def test_a_quiet_range_says_so(client, auth, world):
    """Nothing opened or resolved: a sentence instead of an empty chart; the bars show the
    backlog now."""
    auth.login(email("agent"))
    html = client.get("/reports", query_string={"from": "2026-01-01", "to": "2026-01-31"}).text
    assert "No tickets were opened or resolved in this range." in html
    assert '<title id="category-chart-title">Backlog now by category</title>' in html


# --- SLA compliance and medians of tickets with known clocks ----------------------------------

LONDON = ZoneInfo("Europe/London")  # the default SLA calendar's zone; UTC in early March


def london(*args):
    """A London wall-clock time as UTC. March 2026: Monday 2nd to Friday 6th."""
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)


@pytest.fixture
def known(app_context, world):
    """Five tickets opened Monday 2 March 2026 10:00 under the default SLA (high: first
    response in 4 business hours, resolution in one business day of 8; normal: one day and
    three days; business hours 09:00-17:00 on weekdays):

    - A (Alice, North, high): answered 11:00, resolved 13:00: both met (1 h, 3 h);
    - B (Alice, North, high): answered 15:00 (due 14:00), resolved Wednesday 12:00 (due
      Tuesday 10:00): both missed (5 h, 50 h);
    - C (Bob, South, normal): waiting on the vendor from 12:00 (2 business hours used),
      answered Thursday 10:00 while waiting and resolved Friday 12:00 from waiting on the
      customer: both met, the clock having stopped at 2 hours, though the wall clock passed
      the due times from before the pause (72 h, 98 h);
    - D (Zed, no reseller, normal): no SLA target (due times cleared, as a ticket from
      before the clocks), answered 10:30 and resolved 12:00: in the times, not in the SLA
      shares (0.5 h, 2 h);
    - E (Bob, South, high): on hold from 15:00, past its first response due at 14:00;
      answered Tuesday 10:00 while on hold: missed (24 h), not resolved.
    """
    agent, alice, bob, zed = (db.session.get(User, world.users[key])
                              for key in ("agent", "alice", "bob", "zed"))
    category = db.session.scalars(select(Category).order_by(Category.position)).first()
    monday = london(2026, 3, 2, 10)

    def opened(subscriber, priority, name):
        return tickets.open_ticket(subscriber=subscriber, subject=f"Known {name}", body="b",
                                   category=category, priority=priority, created_at=monday)

    def reply(ticket, at, **status):
        replies.add_reply(ticket, author=agent, body="Answer", created_at=at, **status)

    a = opened(alice, "high", "A")
    reply(a, london(2026, 3, 2, 11), status="in_progress")
    reply(a, london(2026, 3, 2, 13), status="resolved")
    b = opened(alice, "high", "B")
    reply(b, london(2026, 3, 2, 15), status="in_progress")
    reply(b, london(2026, 3, 4, 12), status="resolved")
    c = opened(bob, "normal", "C")
    tickets.change_status(c, "waiting_on_vendor", actor=agent, at=london(2026, 3, 2, 12))
    reply(c, london(2026, 3, 5, 10))  # to waiting on the customer: still paused
    assert c.status == "waiting_on_customer"
    reply(c, london(2026, 3, 6, 12), status="resolved")
    d = opened(zed, "normal", "D")
    d.first_response_due_at = d.resolution_due_at = None
    d.first_response_at, d.resolved_at = london(2026, 3, 2, 10, 30), london(2026, 3, 2, 12)
    d.status = "resolved"
    db.session.commit()
    e = opened(bob, "high", "E")
    tickets.change_status(e, "on_hold", actor=agent, at=london(2026, 3, 2, 15))
    reply(e, london(2026, 3, 3, 10), status="on_hold")
    return {"from": "2026-03-02", "to": "2026-03-08"}


def test_sla_compliance_and_medians_of_known_tickets(known, world):
    """Met, missed, paused and without a target, in the totals and by priority, reseller;
    the medians placed in the middle ticket's bucket."""
    agent = db.session.get(User, world.users["agent"])
    report = reports.build_report(agent, reports.parse_range(known))
    totals = report.totals
    assert (totals.opened, totals.responded, totals.resolved) == (5, 5, 4)
    assert str(totals.first_response_sla) == "50% (2 of 4)"  # A and C of A, B, C, E
    assert str(totals.resolution_sla) == "66% (2 of 3)"  # A and C of A, B, C; rounded down
    # First responses 0.5, 1, 5, 24, 72 hours: the middle one, 5 h, is the middle of the
    # 4-6 h bucket's only ticket, placed halfway.
    assert totals.median_first_response_hours == 5.0
    # Resolutions 2, 3, 50, 98 hours: the middle (second) is 3 h, alone in the 3-4 h bucket
    # and placed at its end, as the last of the first half.
    assert totals.median_resolution_hours == 4.0
    assert totals.first_response_hours == round((0.5 + 1 + 5 + 24 + 72) / 5, 1)

    def by(name):
        return {f.key if name == "priority" else f.label:
                (str(f.first_response_sla), str(f.resolution_sla))
                for f in report.breakdowns[name] if f.responded}

    assert by("priority") == {"high": ("33% (1 of 3)", "50% (1 of 2)"),
                              "normal": ("100% (1 of 1)", "100% (1 of 1)")}
    assert by("reseller") == {"North": ("50% (1 of 2)", "50% (1 of 2)"),
                              "South": ("50% (1 of 2)", "100% (1 of 1)"),
                              "No reseller": ("None", "None")}


def test_a_reseller_sees_only_its_own_compliance(known, client, auth, world):
    """North's reseller: its two tickets' figures on the page and in the CSV, never South's
    or the operator's."""
    auth.login(email("north_reseller"))
    html = client.get("/reports", query_string=known).text
    assert re.search(r"<dt>First response within SLA</dt><dd>50% "
                     r'<span class="report-of">\(1 of 2\)</span></dd>', html)
    assert re.search(r"<dt>Resolution within SLA</dt><dd>50% "
                     r'<span class="report-of">\(1 of 2\)</span></dd>', html)
    assert "Medians are estimates, right to within a bucket" in html
    parser = _Tables()
    parser.feed(html)
    heading, *rows = parser.tables["priority"]
    table = {row[0]: dict(zip(heading, row, strict=True)) for row in rows}
    assert table["Normal"]["First response within SLA"] == ""  # North's backlog only
    row = table["High"]
    assert row["First response within SLA"] == "50% (1 of 2)"
    assert row["Median first response (hours, est.)"] == "3.0"  # of 1 h and 5 h: exact
    rows = list(csv.DictReader(io.StringIO(
        client.get("/reports/priority.csv", query_string=known).text)))
    assert [(r["Priority"], r["First responses within SLA"],
             r["First responses with an SLA target"], r["First response within SLA (%)"],
             r["Resolutions within SLA"], r["Resolutions with an SLA target"],
             r["Resolution within SLA (%)"]) for r in rows if r["Opened"] != "0"] == [
        ("High", "1", "2", "50.0", "1", "2", "50.0")]


def test_the_csv_counts_compliance_in_columns(known, client, auth, world):
    """The agent's CSV by reseller: met, with a target and the share (to a tenth, rounded
    down), blank share where no ticket had a target."""
    auth.login(email("agent"))
    rows = {r["Reseller"]: r for r in csv.DictReader(io.StringIO(
        client.get("/reports/reseller.csv", query_string=known).text))}
    assert rows["South"]["First response within SLA (%)"] == "50.0"
    assert rows["South"]["Resolution within SLA (%)"] == "100.0"
    assert (rows["No reseller"]["First responses with an SLA target"],
            rows["No reseller"]["First response within SLA (%)"]) == ("0", "")
    assert rows["No reseller"]["Median resolution (hours, est.)"] == "2.0"  # one: exact


@given(st.lists(st.integers(min_value=-5, max_value=90 * 86400), min_size=1, max_size=60))
@settings(max_examples=200, deadline=None, derandomize=True, database=None)
def test_the_median_estimate_lies_in_the_middle_durations_bucket(durations):
    """For any durations, the estimate (to a tenth of an hour) lies within the edges of the
    bucket holding the middle one (the lower middle of an even number); of one or two, it
    is their mean."""
    histogram = [0] * reports.BUCKETS
    for seconds in durations:
        histogram[len([m for m in BUCKET_ENDS_MINUTES if seconds >= m * 60])] += 1
    estimate = reports.median_hours(histogram, seconds=sum(durations))
    if len(durations) <= 2:
        assert estimate == round(sum(durations) / len(durations) / 3600, 1)
    else:
        low, high = bucket_around(sorted(durations)[(len(durations) + 1) // 2 - 1])
        assert low / 3600 - 0.05 <= estimate <= (high or low) / 3600 + 0.05
    assert reports.median_hours([0] * reports.BUCKETS, seconds=0) is None
