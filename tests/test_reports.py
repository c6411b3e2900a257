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

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import PRIORITIES, Category, Ticket, User
from helpdesk.models.timestamps import utcnow
from helpdesk.services import replies, reports, tickets
from tests.report_kit import Tables, bucket_around
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


# --- the range -------------------------------------------------------------------------------


# --- the page, its charts and its CSV files ---------------------------------------------------


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
    parser = Tables()
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


# --- SLA compliance and medians of tickets with known clocks ----------------------------------
