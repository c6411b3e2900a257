"""``/reports``: SLA compliance and the medians estimated from the rollups' histograms, on
tickets with known times, per scope and in the CSV."""

import csv
import io
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Category, User
from helpdesk.services import replies, reports, tickets
from tests.report_kit import Tables, bucket_around
from tests.tally_recount import BUCKET_ENDS_MINUTES
from tests.world import email

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
    parser = Tables()
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
