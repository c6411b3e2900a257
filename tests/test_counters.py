"""The queue's counters, read per scope from the tallies (kept in step by the services:
``tests/test_tallies.py``), equal their definition counted over the tickets."""

import re
from collections import Counter
from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from helpdesk.desk.counters import AVERAGE_DAYS, queue_counters
from helpdesk.extensions import db
from helpdesk.models import PRIORITIES, UNRESOLVED_STATUSES, Category, Ticket, User
from helpdesk.models.timestamps import utcnow
from helpdesk.services import replies, tickets
from tests.tally_recount import epoch_second
from tests.world import email


def expected_counters(user_filter):
    """The counters by their definition, counted over tickets (``user_filter`` the scope)."""
    rows = [t for t in db.session.scalars(select(Ticket)) if t.deleted_at is None
            and user_filter(t)]
    since = (utcnow() - timedelta(days=AVERAGE_DAYS - 1)).date()
    recent = [t for t in rows if t.created_at.astimezone(UTC).date() >= since]

    def hours(ends):
        waits = [epoch_second(end) - epoch_second(t.created_at) for t, end in ends]
        return round(sum(waits) / len(waits) / 3600, 1) if waits else None

    statuses = Counter(t.status for t in rows)
    unresolved = [t for t in rows if t.is_unresolved]
    return {
        "unresolved": len(unresolved),
        "open": statuses["open"], "in_progress": statuses["in_progress"],
        "waiting": statuses["waiting_on_customer"] + statuses["waiting_on_vendor"]
        + statuses["on_hold"],
        "resolved": statuses["resolved"], "closed": statuses["closed"],
        "first_response_hours": hours([(t, t.first_response_at) for t in recent
                                       if t.first_response_at]),
        "resolution_hours": hours([(t, t.resolved_at) for t in recent if t.resolved_at]),
        "backlog_by_priority": dict(Counter(t.priority for t in unresolved)),
        "backlog_by_category": dict(Counter(t.category.name for t in unresolved)),
    }


def shown(counters):
    """The counters with the category backlog as a dict (its order is by count)."""
    counts = [count for _, _, count in counters["backlog_by_category"]]
    assert counts == sorted(counts, reverse=True)
    by_status = counters["by_status"]  # every status's own count: the states add them up
    assert counters["closed"] == by_status.get("closed", 0)
    assert counters["unresolved"] == sum(by_status.get(s, 0) for s in UNRESOLVED_STATUSES)
    return {**{k: v for k, v in counters.items()
               if k not in ("average_days", "mine", "by_status")},
            "backlog_by_category": {name: count
                                    for _, name, count in counters["backlog_by_category"]}}


@pytest.fixture
def history(app_context, world):
    """Bob's tickets with known clocks: answered and resolved inside the window, one opened
    on its first day, one the second before it (left out of the averages), one deleted."""
    agent = db.session.get(User, world.users["agent"])
    categories = db.session.scalars(select(Category).order_by(Category.position)).all()
    now = utcnow()
    first_day = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
        days=AVERAGE_DAYS - 1)
    plan = [(now - timedelta(days=3), 2, 5), (first_day, 1, 30),
            (first_day - timedelta(seconds=1), 50, 100), (now - timedelta(days=1), 4, None)]
    bob = db.session.get(User, world.users["bob"])
    for opened_at, response_hours, resolution_hours in plan:
        ticket = tickets.open_ticket(subscriber=bob, subject="Clocked", body="b",
                                     category=categories[3], priority="high",
                                     created_at=opened_at)
        replies.add_reply(ticket, author=agent, body="Looking",
                          created_at=opened_at + timedelta(hours=response_hours))
        if resolution_hours:
            replies.add_reply(ticket, author=agent, body="Fixed", status="resolved",
                              created_at=opened_at + timedelta(hours=resolution_hours))
    gone = tickets.open_ticket(subscriber=bob, subject="Deleted", body="b",
                               category=categories[5])
    tickets.delete_ticket(gone, actor=agent)


@pytest.mark.parametrize(("key", "in_scope"), [
    ("agent", lambda t: True),
    ("north_all", lambda t: True),  # tickets.view_all
    ("north_reseller", lambda t: t.reseller is not None and t.reseller.name == "North"),
    ("south_reseller", lambda t: t.reseller is not None and t.reseller.name == "South"),
    ("north_none", lambda t: False),  # no tickets.view: sees nothing, counts nothing
])
def test_counters_per_scope_equal_their_definition(history, world, key, in_scope):
    """Every number, for every kind of desk user, equals a count over the tickets they see."""
    user = db.session.get(User, world.users[key])
    assert shown(queue_counters(user)) == expected_counters(in_scope)


@pytest.mark.parametrize("key", ["agent", "south_reseller"])
def test_my_counters_count_the_tickets_assigned_to_me(history, world, key):
    """"My tickets" counts what is assigned to the viewer, in their scope, nothing else (and
    leaves the team's averages out)."""
    user = db.session.get(User, world.users[key])
    agent = db.session.get(User, world.users["agent"])
    bobs = db.session.scalars(select(Ticket).where(
        Ticket.subscriber_id == world.users["bob"], Ticket.deleted_at.is_(None))
        .order_by(Ticket.id)).all()
    for ticket in bobs[:3]:
        tickets.assign(ticket, user, actor=agent)
    tickets.assign(bobs[3], agent if user is not agent else None, actor=agent)
    tickets.assign(db.session.get(Ticket, world.tickets["zed"]), agent, actor=agent)
    counted = queue_counters(user, mine=True)
    assert counted["mine"] and "first_response_hours" not in counted
    expected = expected_counters(lambda t: t.assignee_id == user.id)
    assert shown(counted) == {k: v for k, v in expected.items() if not k.endswith("_hours")}
    assert sum(counted[k] for k in ("unresolved", "resolved", "closed")) >= 3


def test_averages_cover_whole_days(history, world):
    """Opened on the window's first day counts; a second earlier does not."""
    counters = queue_counters(db.session.get(User, world.users["south_reseller"]))
    # 2 h and 5 h; 1 h and 30 h; 4 h, unresolved; the one opened a second too early is out.
    assert counters["first_response_hours"] == round((2 + 1 + 4) / 3, 1)
    assert counters["resolution_hours"] == round((5 + 30) / 2, 1)


def test_counters_page_is_scoped_and_for_the_desk(client, auth, world):
    """A reseller counts their subscribers' tickets, or all with ``tickets.view_all``;
    customers get 404."""
    for key, open_tickets in (("north_reseller", 4), ("north_all", 6)):
        auth.login(email(key))
        html = client.get("/tickets/counters").text
        assert re.search(rf'<span class="count">{open_tickets}</span> open', html), key
        auth.logout()
    for customer in ("alice", "carol"):
        auth.login(email(customer))
        assert client.get("/tickets/counters").status_code == 404
        auth.logout()


def test_counters_query_count_does_not_grow(app, client, auth, world, count_queries):
    """The same statements for six tickets as for sixty more."""
    auth.login(email("agent"))

    def statements():
        with count_queries() as counter:
            assert client.get("/tickets/counters").status_code == 200
        return counter.count

    few = statements()
    with app.app_context():
        alice = db.session.get(User, world.users["alice"])
        category = db.session.scalars(select(Category)).first()
        for n in range(60):
            tickets.open_ticket(subscriber=alice, subject=f"More {n}", body="b",
                                category=category, priority=PRIORITIES[n % 4])
    assert statements() == few <= 4
    assert re.search(r'<span class="count">66</span> open', client.get("/tickets/counters").text)


