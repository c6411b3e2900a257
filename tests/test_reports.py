"""``/reports``: its numbers against a recount over the tickets, per scope; the range's
validation; the CSV files against the page; a query count that does not grow with the data.

The recount here is written apart from ``models.report_day`` and ``services.reports``: by
Python over every ticket, with the report's definitions (each event on its UTC day).
"""

import csv
import io
import re
from collections import defaultdict
from datetime import UTC, timedelta
from html import unescape
from html.parser import HTMLParser

import pytest
from markupsafe import escape
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import PRIORITIES, Category, Ticket, User
from helpdesk.models.timestamps import utcnow
from helpdesk.services import replies, reports, tickets
from tests.world import email

# --- a recount over the tickets ------------------------------------------------------------


def _seconds(start, end):
    return int((end.replace(microsecond=0) - start.replace(microsecond=0)).total_seconds())


def _hours(seconds, count):
    return round(seconds / count / 3600, 1) if count else None


def recount(in_scope, start, end):
    """What the report of ``start``..``end`` (UTC days) must say over the tickets for which
    ``in_scope(ticket)`` holds: totals, per day, and per breakdown label, each as
    ``(opened, resolved, unresolved, first response hours, resolution hours)``."""
    groups = defaultdict(lambda: [0, 0, 0, 0, 0, 0])  # opened resolved unresolved n s n s

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
        for moment, index in ((ticket.first_response_at, 3), (ticket.resolved_at, 1)):
            if moment is None:
                continue
            inside, day = on(moment)
            if inside:
                keys = [("total",), ("day", day), *labels]
                wait = _seconds(ticket.created_at, moment)
                if index == 1:
                    add(keys, 1)
                    add(keys, 5, wait)
                else:
                    add(keys, 3)
                    add(keys, 4, wait)
    return {key: (v[0], v[1], v[2], _hours(v[4], v[3]), _hours(v[5], v[1]))
            for key, v in groups.items()}


def shown(report):
    """The report in the shape of ``recount`` (empty days left out)."""
    def five(f):
        return (f.opened, f.resolved, f.unresolved, f.first_response_hours, f.resolution_hours)

    out = {("total",): five(report.totals)}
    out.update({("day", p.key): five(p) for p in report.periods if any(five(p)[:3]) or
                p.responded})
    for name, rows in report.breakdowns.items():
        for figures in rows:
            if not any(five(figures)):  # only backlog, opened before the range
                continue
            label = figures.label.capitalize() if name == "priority" else figures.label
            out[(name, label)] = five(figures)
    return out


@pytest.fixture
def history(app_context, world):
    """Tickets with known clocks over the last 100 days, in every scope: answered and
    resolved days after opening (some outside a 30-day range), one reopened, one deleted."""
    agent = db.session.get(User, world.users["agent"])
    categories = db.session.scalars(select(Category).order_by(Category.position)).all()
    now = utcnow()
    people = [db.session.get(User, world.users[key]) for key in ("alice", "bob", "dave", "zed")]
    for n in range(16):
        opened_at = now - timedelta(days=6 * n + 1, hours=n)
        ticket = tickets.open_ticket(
            subscriber=people[n % 4], subject=f"Clocked {n}", body="b",
            category=categories[n % 3], priority=PRIORITIES[n % 4], created_at=opened_at)
        if n % 4 != 3:
            replies.add_reply(ticket, author=agent, body="Looking",
                              created_at=opened_at + timedelta(hours=3 + n))
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
    assert shown(report) == expected | {("total",): expected.get(("total",),
                                                                  (0, 0, 0, None, None))}
    assert len(report.periods) == days
    if key == "agent" and days == 90:
        assert report.totals.opened >= 15 and report.totals.resolved >= 7
    if key == "north_none":
        assert report.totals.opened == 0 and report.backlog_now == 0


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


@pytest.mark.parametrize("key", ["agent", "north_reseller"])
def test_each_csv_says_what_its_table_says(history, client, auth, world, key):
    """Every table of the page, as CSV for the same range, has the same rows and cells."""
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
        assert rows == parser.tables[name], name
        assert len(rows) > 1
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
