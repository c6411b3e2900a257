"""Keyset paging (``helpdesk/keyset.py``) over generated tickets, on SQLite and PostgreSQL.

Every sort, forwards and backwards, offset pages and the filters: the pages together list
every ticket of the view exactly once, in order. Generated tickets share a few update and
creation times, so ties (broken by id) are the rule, not the exception. The oracle is the
plain query: the view's conditions and ORDER BY, without cursors, parts or slices.

Also: a page costs the same number of SQL statements at any size and depth, and both
databases take the row-value comparisons as bounds of an index range (EXPLAIN).
"""

import re
from dataclasses import replace
from datetime import timedelta
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select
from werkzeug.datastructures import MultiDict

from helpdesk.access import ticket_scope
from helpdesk.desk import views as desk_views
from helpdesk.desk.queue_filters import AGES, SORTS, QueueFilters
from helpdesk.desk.views import queue_page
from helpdesk.extensions import db
from helpdesk.keyset import decode_cursor, encode_cursor, read_page
from helpdesk.models import PRIORITIES, STATUSES, Category, Ticket, User
from helpdesk.models.timestamps import utcnow
from helpdesk.services import teams
from helpdesk.sla.clock import runs_in
from tests.world import email

GENERATED = settings(
    max_examples=60, deadline=None, derandomize=True, database=None,
    # Each example rolls its rows back (a SAVEPOINT), so the fixtures are safe to share.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
SUBSCRIBERS = ("alice", "bob", "dave")  # North's, South's, and Acme's (North's customer)
CREATED_HOURS_AGO = (1, 72, 240, 960)  # on both sides of every age filter's cutoff

ticket_rows = st.lists(st.fixed_dictionaries({
    "status": st.sampled_from(STATUSES),
    "priority": st.sampled_from(PRIORITIES),
    "category": st.integers(0, 2),
    "assigned": st.booleans(),
    "subscriber": st.sampled_from(SUBSCRIBERS),
    "updated": st.integers(0, 2),  # minutes ago: three times, so many ties
    "created": st.sampled_from(CREATED_HOURS_AGO),
    "deleted": st.sampled_from((False, False, False, True)),
    "team": st.sampled_from((None, 0, 1)),
}), max_size=14)
views = st.fixed_dictionaries({
    "sort": st.sampled_from(list(SORTS)),
    "status": st.lists(st.sampled_from(STATUSES), max_size=3),
    "priority": st.lists(st.sampled_from(PRIORITIES), max_size=2),
    "category": st.lists(st.integers(0, 2), max_size=2),
    "assignee": st.sampled_from((None, "unassigned", "agent", "me")),
    "age": st.sampled_from((None, *AGES)),
    "customer": st.sampled_from((None, None, *SUBSCRIBERS)),
    "organisation": st.booleans(),  # dave's (Acme)
    "team": st.sampled_from((None, "none", 0, 1)),
})


@pytest.fixture
def places(app_context, world):
    """The categories and people generated tickets point at."""
    categories = db.session.scalars(select(Category.id).order_by(Category.position)).all()[:3]
    people = {key: db.session.get(User, world.users[key])
              for key in (*SUBSCRIBERS, "agent", "north_reseller")}
    return categories, people


@pytest.fixture
def two_teams(places):
    """Two teams generated tickets may have (``team``: 0 or 1)."""
    return [teams.create_team(name).id for name in ("Generated A", "Generated B")]


def add_tickets(rows, *, categories, people, now, team_ids=()):
    """Generated tickets, flushed; the services' rules (queue rank, scope columns, a due time
    only while the SLA clock runs) kept. Due times share five values, as update times do."""
    tickets = []
    for row in rows:
        subscriber = people[row["subscriber"]]
        due = now + timedelta(hours=row["updated"]) if runs_in(row["status"]) else None
        tickets.append(Ticket(
            subject="Generated", body="", body_html="", status=row["status"],
            priority=row["priority"], category_id=categories[row["category"]],
            subscriber_id=subscriber.id, organisation_id=subscriber.organisation_id,
            reseller_id=subscriber.reseller_id,
            assignee_id=people["agent"].id if row["assigned"] else None,
            created_at=now - timedelta(hours=row["created"]),
            updated_at=now - timedelta(minutes=row["updated"]),
            public_updated_at=now - timedelta(minutes=row["updated"]),
            deleted_at=now if row["deleted"] else None,
            sla_due_at=due, sla_state=None if row["status"] in ("resolved", "closed")
            else "on_time" if due else "paused",
            team_id=None if row.get("team") is None else team_ids[row["team"]],
        ))
    db.session.add_all(tickets)
    db.session.flush()
    return tickets


def view_filters(view, *, categories, people, team_ids=()):
    """The view as the queue reads it from a query string."""
    args = MultiDict([("sort", view["sort"])])
    args.setlist("status", view["status"])
    args.setlist("priority", view["priority"])
    args.setlist("category", [str(categories[index]) for index in view["category"]])
    if view["assignee"]:
        args["assignee"] = (str(people["agent"].id) if view["assignee"] == "agent"
                            else view["assignee"])
    if view["age"]:
        args["age"] = view["age"]
    if view.get("customer"):
        args["customer"] = str(people[view["customer"]].id)
    if view.get("organisation"):
        args["organisation"] = str(people["dave"].organisation_id)
    if view.get("team") is not None:
        args["team"] = "none" if view["team"] == "none" else str(team_ids[view["team"]])
    return QueueFilters.from_args(args, staff=True)


def in_order(user, filters):
    """The oracle: the view's ids by its plain ORDER BY."""
    return list(db.session.scalars(
        select(Ticket.id).where(ticket_scope(user), *filters.conditions(user))
        .order_by(*(column.desc() if descending else column.asc()
                    for column, descending in filters.order))))


def page_ids(page):
    return [ticket.id for ticket in page["tickets"]]


def forwards(user, filters, *, per_page):
    """Every page from the top by ``after`` cursors: the ids, and the last page."""
    ids, page = [], queue_page(user, filters)
    while True:
        ids += page_ids(page)
        if not page["next_cursor"]:
            return ids, page
        assert len(page["tickets"]) == per_page  # only the last page is short
        assert len(ids) < 1000
        page = queue_page(user, replace(filters, after=page["next_cursor"]))


def backwards(user, filters, last):
    """Every page before ``last`` by ``before`` cursors, and ``last``: the ids."""
    ids, cursor = page_ids(last), last["prev_cursor"]
    while cursor:
        page = queue_page(user, replace(filters, before=cursor))
        ids = page_ids(page) + ids
        cursor = page["prev_cursor"]
        assert len(ids) < 1000
    return ids


@given(rows=ticket_rows, view=views, per_page=st.integers(1, 4),
       viewer=st.sampled_from(("agent", "north_reseller")))
@GENERATED
def test_pages_list_every_ticket_once_in_order(app, places, two_teams, rows, view, per_page,
                                               viewer):
    """Forwards, backwards and by page number, any sort and filters, as staff or reseller."""
    categories, people = places
    app.config["TICKETS_PER_PAGE"] = per_page
    savepoint = db.session.begin_nested()
    try:
        add_tickets(rows, categories=categories, people=people, now=utcnow(),
                    team_ids=two_teams)
        user, filters = people[viewer], view_filters(view, categories=categories,
                                                     people=people, team_ids=two_teams)
        expected = in_order(user, filters)
        listed, last = forwards(user, filters, per_page=per_page)
        assert listed == expected
        if expected and len(expected) > per_page:
            assert backwards(user, filters, last) == expected
        for number in range(1, len(expected) // per_page + 3):
            start = (number - 1) * per_page
            page = queue_page(user, replace(filters, page=number))
            assert page_ids(page) == expected[start:start + per_page], number
    finally:
        savepoint.rollback()


@pytest.fixture
def many_tickets(places, two_teams):
    """140 tickets over every status and priority, sharing five update times, a third of
    them in each team and a third in none."""
    categories, people = places
    now = utcnow()
    rows = [{"status": STATUSES[n % 7], "priority": PRIORITIES[n % 4], "category": n % 3,
             "assigned": n % 5 == 0, "subscriber": SUBSCRIBERS[n % 3], "updated": n % 5,
             "created": CREATED_HOURS_AGO[n % 4], "deleted": False,
             "team": (None, 0, 1)[n // 2 % 3]} for n in range(140)]
    return add_tickets(rows, categories=categories, people=people, now=now,
                       team_ids=two_teams)


class Descending:
    """A value that sorts the other way round, for sort keys in Python."""

    def __init__(self, value):
        self.value = value

    def __lt__(self, other):
        return other.value < self.value

    def __eq__(self, other):
        return self.value == other.value


def sort_key(order, key):
    return tuple(Descending(value) if descending else value
                 for (_, descending), value in zip(order, key, strict=True))


SLICED = {  # views the queue reads as several index ranges (QueueFilters.partitions)
    "whole": {},
    "statuses": {"status": ["open", "on_hold", "resolved", "closed"]},
    "priorities": {"priority": ["urgent", "low"]},
    "categories": {"category": [0, 1]},
    "a team's statuses": {"team": 0, "status": ["open", "on_hold", "resolved", "closed"]},
    "no team's priorities": {"team": "none", "priority": ["urgent", "low"]},
}


@pytest.mark.parametrize("sort", list(SORTS))
@pytest.mark.parametrize("sliced", list(SLICED))
def test_a_cursor_anywhere_reads_the_rows_beyond_it(places, two_teams, many_tickets, sort,
                                                    sliced):
    """From a cursor at the top, in the middle, at the end, or between two rows (an id no
    ticket has at that time), ``after`` and ``before`` read the rows right beyond it."""
    categories, people = places
    user = people["agent"]
    filters = view_filters({"sort": sort, "status": [], "priority": [], "category": [],
                            "assignee": None, "age": None, **SLICED[sliced]},
                           categories=categories, people=people, team_ids=two_teams)
    order, where = filters.order, [ticket_scope(user), *filters.conditions(user)]
    keys = [tuple(row) for row in db.session.execute(
        select(*(column for column, _ in order)).where(*where)
        .order_by(*(c.desc() if d else c.asc() for c, d in order)))]
    middle = len(keys) // 2
    between = [(*keys[n][:-1], keys[n][-1] + step) for n in (0, middle, -1) for step in (-1, 1)]
    for cursor in [keys[0], keys[1], keys[middle], keys[-2], keys[-1], *between]:
        values = decode_cursor(encode_cursor(cursor), order)
        beyond = [key for key in keys if sort_key(order, cursor) < sort_key(order, key)]
        before = [key for key in keys if sort_key(order, key) < sort_key(order, cursor)]
        assert read_page(where, order, per_page=7, after=values,
                         partitions=filters.partitions()).keys == beyond[:7], cursor
        assert read_page(where, order, per_page=7, before=values,
                         partitions=filters.partitions()).keys == before[-7:], cursor


@pytest.mark.parametrize("path", [
    "/tickets", "/tickets?sort=updated", "/tickets?sort=oldest", "/tickets?page=3",
    "/tickets?status=open&status=on_hold&status=closed", "/tickets?priority=low&sort=updated",
    "/tickets?category={category}&category={category2}", "/tickets?assignee=unassigned",
    "/tickets?age=over-week&sort=newest",
])
def test_a_page_costs_the_same_statements_at_any_size_and_depth(
        app, client, auth, places, many_tickets, count_queries, path):
    """The page's ids, then its rows (and the user, unless this test's session already holds
    them): the same statements for a page of 2 or of 6, at the top and pages deep."""
    categories = places[0]
    path = path.format(category=categories[0], category2=categories[1])
    auth.login(email("agent"))
    counts = []
    for per_page in (2, 6):
        app.config["TICKETS_PER_PAGE"] = per_page
        url = path
        for _ in range(3):  # the top, then deeper by the page's own Next link
            with count_queries() as counter:
                html = client.get(url, headers={"HX-Request": "true"}).text
            counts.append(counter.count)
            found = re.search(r'href="\?([^"]+)" rel="next"', html)
            assert found, (url, per_page)
            url = "/tickets?" + found.group(1).replace("&amp;", "&")
    assert counts == [counts[0]] * len(counts) and counts[0] <= 3, counts


def page_statement(app, user, filters):
    """The SQL and parameters of a page's keyset part (its order values, without the rows the
    queue joins to them, whose plan is by primary key)."""
    seen = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        with patch.object(desk_views, "row_columns", lambda _user: None):
            queue_page(user, filters)
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    return seen[0]


@pytest.mark.parametrize("sort", list(SORTS))
def test_cursors_bound_an_index_range(app, places, many_tickets, sort):
    """EXPLAIN: each part of "after the cursor" is a range of one of the queue's indexes,
    bounded by the row-value comparison (PostgreSQL: an ``Index Cond`` on ``ROW(...)``;
    SQLite: a SEARCH whose range starts at the cursor's time), never a scan from the top."""
    user = places[1]["agent"]
    app.config["TICKETS_PER_PAGE"] = 5
    first = queue_page(user, QueueFilters(sort=sort))
    filters = QueueFilters(sort=sort, after=first["next_cursor"])
    statement, parameters = page_statement(app, user, filters)
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        # A test database is tiny: make the planner show how it would use the indexes.
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        connection.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
        plan = "\n".join(row[0] for row in connection.exec_driver_sql(
            "EXPLAIN " + statement, parameters))
        connection.exec_driver_sql("RESET enable_seqscan")
        connection.exec_driver_sql("RESET enable_bitmapscan")
        bounds = re.findall(r"Index Cond: (.*)", plan)
        assert bounds and all("ROW(" in bound or "queue_rank >" in bound
                              for bound in bounds), plan
        assert re.search(
            r"ROW\((\w+\.)?(updated_at|created_at|sla_due_at), (\w+\.)?id\) [<>] ROW\(",
            plan), plan
        assert "Seq Scan" not in plan
    else:
        plan = [row[3] for row in connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, parameters)]
        ranges = [line for line in plan if "tickets" in line]
        assert ranges and all(
            re.fullmatch(r"SEARCH tickets USING (COVERING )?INDEX ix_tickets_\w+ \(.*[<>]\?\)",
                         line) for line in ranges), plan


def test_forged_cursors_of_any_sort_are_ignored(app, places, many_tickets):
    """A cursor with another sort's values, or junk, starts the list from the top."""
    user = places[1]["agent"]
    app.config["TICKETS_PER_PAGE"] = 4
    top = page_ids(queue_page(user, QueueFilters(sort="oldest")))
    queue_cursor = queue_page(user, QueueFilters())["next_cursor"]  # three values, not two
    for junk in (queue_cursor, "not-a-cursor", "W10", "x" * 600, encode_cursor([None, 1])):
        for direction in ("after", "before"):
            assert page_ids(queue_page(user, replace(
                QueueFilters(sort="oldest"), **{direction: junk}))) == top, (junk, direction)


def portal_ids(html):
    return [int(number) for number in re.findall(r'href="/portal/tickets/(\d+)"', html)]


def test_portal_pages_by_cursor_and_by_number(app, client, auth, places):
    """The portal's Older/Newer links carry cursors, and ``page=N`` alone lists the same
    tickets: every one of the customer's tickets once, latest public activity first."""
    categories, people = places
    add_tickets([{"status": STATUSES[n % 7], "priority": "normal", "category": 0,
                  "assigned": False, "subscriber": "alice", "updated": n % 2,
                  "created": 72, "deleted": n == 3} for n in range(9)],
                categories=categories, people=people, now=utcnow())
    expected = list(db.session.scalars(
        select(Ticket.id).where(ticket_scope(people["alice"]))
        .order_by(Ticket.public_updated_at.desc(), Ticket.id.desc())))
    app.config["TICKETS_PER_PAGE"] = 2
    auth.login(email("alice"))
    listed, url, numbers = [], "/portal/tickets", []
    while url:
        html = client.get(url).text
        listed += portal_ids(html)
        numbers.append(int(re.search(r"<span>Page (\d+)</span>", html).group(1)))
        found = re.search(r'<a href="([^"]+)" rel="next"', html)
        url = found and found.group(1).replace("&amp;", "&")
        assert url is None or "after=" in url
    assert listed == expected and numbers == list(range(1, len(numbers) + 1))
    back, url = portal_ids(html), re.search(r'<a href="([^"]+)" rel="prev"', html).group(1)
    while url:
        html = client.get(url.replace("&amp;", "&")).text
        back = portal_ids(html) + back
        found = re.search(r'<a href="([^"]+)" rel="prev"', html)
        url = found and found.group(1)
    assert back == expected
    for number in range(1, len(numbers) + 2):
        html = client.get(f"/portal/tickets?page={number}").text
        assert portal_ids(html) == expected[(number - 1) * 2:number * 2]
