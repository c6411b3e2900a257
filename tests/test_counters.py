"""The queue's counters: tallies kept in step with every ticket change, read per scope.

The tallies are checked against a recount written here, apart from the code under test: by
Python over the tickets after every step of generated service operations, by the SQL of
``rebuild`` (PostgreSQL and SQLite), and by the migration that fills them.
"""

import calendar
import re
from collections import Counter
from datetime import UTC, timedelta

import pytest
from flask_migrate import downgrade, upgrade
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import MetaData, delete, insert, inspect, select, text, update

from helpdesk.desk.counters import AVERAGE_DAYS, queue_counters
from helpdesk.extensions import db
from helpdesk.models import (
    PRIORITIES,
    STATUSES,
    AssigneeTally,
    Category,
    Organisation,
    Reseller,
    Ticket,
    TicketDay,
    TicketTally,
    User,
)
from helpdesk.models.report_day import REPORT_COUNTS, OrganisationDay, ReportDay
from helpdesk.models.ticket import UNRESOLVED_STATUSES
from helpdesk.models.timestamps import utcnow
from helpdesk.services import organisations, replies, tallies, tickets
from helpdesk.services.errors import NotAllowed, TicketError
from tests.world import email

# --- a recount, written apart from helpdesk.models.ticket_tally ------------------------------


def _epoch_second(moment):
    return calendar.timegm(moment.astimezone(UTC).timetuple())


def recount():
    """What the tallies must hold, counted from every ticket: (tallies, days, assignee
    tallies, report days, organisation days), zeros left out."""
    counted, days, assigned = Counter(), {}, Counter()
    report_days, organisation_days = {}, {}
    for ticket in db.session.execute(select(
            Ticket.reseller_id, Ticket.status, Ticket.priority, Ticket.category_id,
            Ticket.deleted_at, Ticket.created_at, Ticket.first_response_at, Ticket.resolved_at,
            Ticket.assignee_id, Ticket.organisation_id)):
        if ticket.deleted_at is not None:
            continue
        reseller = ticket.reseller_id or 0
        counted[(reseller, ticket.status, ticket.priority, ticket.category_id)] += 1
        if ticket.assignee_id is not None:
            assigned[(ticket.assignee_id, reseller, ticket.status, ticket.priority,
                      ticket.category_id)] += 1
        day = days.setdefault((ticket.created_at.astimezone(UTC).date(), reseller), [0] * 5)
        day[0] += 1
        for index, moment in ((1, ticket.first_response_at), (3, ticket.resolved_at)):
            if moment is not None:
                day[index] += 1
                day[index + 1] += _epoch_second(moment) - _epoch_second(ticket.created_at)
        # Report rollups: each event on its own UTC day.
        events = [(ticket.created_at, 0, 1), (ticket.created_at, 1,
                                              int(ticket.status in UNRESOLVED_STATUSES))]
        for index, moment in ((2, ticket.first_response_at), (4, ticket.resolved_at)):
            if moment is not None:
                events += [(moment, index, 1), (moment, index + 1, _epoch_second(moment)
                                                - _epoch_second(ticket.created_at))]
        for moment, index, amount in events:
            on = moment.astimezone(UTC).date()
            for rows, key in ((report_days, (on, reseller, ticket.category_id, ticket.priority)),
                              (organisation_days, (on, reseller, ticket.organisation_id or 0))):
                rows.setdefault(key, [0] * len(REPORT_COUNTS))[index] += amount
    return (dict(counted), {key: tuple(value) for key, value in days.items()}, dict(assigned),
            *({key: tuple(value) for key, value in rows.items() if any(value)}
              for rows in (report_days, organisation_days)))


def stored():
    """What the tallies hold, zeros left out, in the shape of ``recount``."""
    counted = {(row.reseller_id, row.status, row.priority, row.category_id): row.tickets
               for row in db.session.scalars(select(TicketTally)) if row.tickets}
    days = {(row.day, row.reseller_id): (row.opened, row.responded, row.response_seconds,
                                         row.resolved, row.resolution_seconds)
            for row in db.session.scalars(select(TicketDay))
            if any((row.opened, row.responded, row.response_seconds, row.resolved,
                    row.resolution_seconds))}
    assigned = {(row.assignee_id, row.reseller_id, row.status, row.priority, row.category_id):
                row.tickets for row in db.session.scalars(select(AssigneeTally)) if row.tickets}
    report_days = {(row.day, row.reseller_id, row.category_id, row.priority): _counts(row)
                   for row in db.session.scalars(select(ReportDay)) if any(_counts(row))}
    organisation_days = {(row.day, row.reseller_id, row.organisation_id): _counts(row)
                         for row in db.session.scalars(select(OrganisationDay))
                         if any(_counts(row))}
    return counted, days, assigned, report_days, organisation_days


def _counts(row):
    return tuple(getattr(row, name) for name in REPORT_COUNTS)


def rebuilt():
    """What ``tallies.rebuild`` makes of the tickets (in a savepoint, rolled back)."""
    savepoint = db.session.begin_nested()
    try:
        tallies.rebuild(db.session.connection())
        db.session.expire_all()
        return stored()
    finally:
        savepoint.rollback()


# --- generated service operations ----------------------------------------------------------

SUBSCRIBERS = ("alice", "bob", "dave", "zed")
pick = st.integers(min_value=0, max_value=100)
operations = st.lists(st.one_of(
    st.tuples(st.just("open"), st.sampled_from(SUBSCRIBERS), st.sampled_from(PRIORITIES),
              st.integers(0, 11), st.integers(0, 24 * 40)),
    st.tuples(st.just("status"), pick, st.sampled_from(STATUSES)),
    st.tuples(st.just("priority"), pick, st.sampled_from(PRIORITIES)),
    st.tuples(st.just("category"), pick, st.integers(0, 11)),
    st.tuples(st.just("assign"), pick, st.sampled_from(("agent", "admin", None))),
    st.tuples(st.just("reseller"), pick, st.sampled_from(("North", "South", None))),
    st.tuples(st.just("move"), st.sampled_from(("Acme", "Zeta")),
              st.sampled_from(("North", "South", None))),
    st.tuples(st.just("delete"), pick),
    st.tuples(st.just("reply"), pick, st.booleans()),
    st.tuples(st.just("comment"), pick),
), min_size=1, max_size=10)


def _run(operation, world, categories):
    """Do one operation through the services (a refusal is a step too: nothing changes)."""
    kind, *args = operation
    agent = db.session.get(User, world.users["agent"])
    live = db.session.scalars(select(Ticket).where(Ticket.deleted_at.is_(None))
                              .order_by(Ticket.id)).all()
    if kind == "open":
        subscriber, priority, category, hours_ago = args
        tickets.open_ticket(
            subscriber=db.session.get(User, world.users[subscriber]), subject="Generated",
            body="b", category=categories[category], priority=priority,
            created_at=utcnow() - timedelta(hours=hours_ago, microseconds=hours_ago * 7919))
        return
    if kind == "move":  # an organisation and all its tickets to another reseller
        organisation = db.session.scalar(select(Organisation).where(Organisation.name == args[0]))
        reseller = db.session.scalar(select(Reseller).where(Reseller.name == args[1]))
        organisations.change_reseller(organisation, reseller, actor=agent)
        return
    if not live:
        return
    ticket = live[args[0] % len(live)]
    if kind == "status" and args[1] in tickets.CLOSING_STATUSES:
        replies.add_reply(ticket, author=agent, body="Fixed", status=args[1])
    elif kind == "status":
        tickets.change_status(ticket, args[1], actor=agent)
    elif kind == "priority":
        tickets.change_priority(ticket, args[1], actor=agent)
    elif kind == "category":
        tickets.change_category(ticket, categories[args[1]], actor=agent)
    elif kind == "assign":
        assignee = None if args[1] is None else db.session.get(User, world.users[args[1]])
        tickets.assign(ticket, assignee, actor=agent)
    elif kind == "reseller":  # no service moves a ticket between resellers; the ORM may
        ticket.reseller = db.session.scalar(select(Reseller).where(Reseller.name == args[1]))
        db.session.commit()
    elif kind == "delete":
        tickets.delete_ticket(ticket, actor=agent)
    elif kind == "reply":
        replies.add_reply(ticket, author=agent, body="An answer", internal=args[1])
    elif kind == "comment":
        replies.add_reply(ticket, author=ticket.subscriber, body="Still broken")


@given(steps=operations)
@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_tallies_equal_a_recount_after_every_change(app, world, savepoint, steps):
    """Open, change status (resolve, close, reopen), priority, category, assignee and
    reseller, move an organisation to another reseller, delete, reply, note, comment: after
    each step the tallies equal a recount, and at the end also what ``rebuild``'s SQL
    counts."""
    with savepoint(), app.app_context():
        categories = db.session.scalars(select(Category).order_by(Category.position)).all()
        assert stored() == recount()
        for step in steps:
            try:
                _run(step, world, categories)
            except (TicketError, NotAllowed):
                db.session.rollback()
            db.session.expire_all()
            assert stored() == recount(), step
        assert rebuilt() == stored()


def test_moving_an_organisation_moves_a_ticket_moved_alone_before(app_context, world):
    """A ticket of Acme moved to South by itself, then Acme (North's) moved to South: each
    ticket leaves the reseller it had, not the organisation's old one."""
    agent = db.session.get(User, world.users["agent"])
    south = db.session.scalar(select(Reseller).where(Reseller.name == "South"))
    ticket = db.session.get(Ticket, world.tickets["dave"])
    replies.add_reply(ticket, author=agent, body="Fixed", status="resolved")
    ticket.reseller = south
    db.session.commit()
    assert stored() == recount()
    acme = db.session.scalar(select(Organisation).where(Organisation.name == "Acme"))
    organisations.change_reseller(acme, south, actor=agent)
    db.session.expire_all()
    assert stored() == recount()


def test_tallies_follow_changes_the_services_never_make(app_context, world):
    """An expired ticket changed without being read first, a ticket inserted deleted, one
    deleted for good: the flush still knows where each counted."""
    ticket = db.session.get(Ticket, world.tickets["zed"])
    db.session.expire(ticket)
    ticket.status = "on_hold"
    ticket.category_id = db.session.scalar(select(Category.id).order_by(Category.id.desc()))
    db.session.flush()
    assert stored() == recount()
    fresh = Ticket(subject="ORM only", category_id=ticket.category_id,
                   subscriber_id=ticket.subscriber_id, deleted_at=utcnow())
    db.session.add(fresh)
    db.session.flush()
    assert stored() == recount()
    fresh.deleted_at = None
    db.session.flush()
    assert stored() == recount()
    db.session.delete(fresh)
    db.session.flush()
    assert stored() == recount()


@pytest.mark.parametrize("statement", [
    lambda: update(Ticket).values(status="closed"),
    lambda: update(Ticket).values({Ticket.deleted_at: utcnow()}),
    lambda: update(Ticket).ordered_values((Ticket.priority, "low"), (Ticket.updated_at, utcnow())),
    lambda: delete(Ticket).where(Ticket.status == "open"),
    lambda: insert(Ticket).from_select(
        ["subject", "category_id", "subscriber_id", "status", "priority", "created_at"],
        select(Ticket.subject, Ticket.category_id, Ticket.subscriber_id, Ticket.status,
               Ticket.priority, Ticket.created_at)),
])
def test_bulk_ticket_writes_are_refused(app_context, world, statement):
    """A bulk write through the ORM would skip the flush: refused, nothing written."""
    with pytest.raises(RuntimeError, match="rebuild"):
        db.session.execute(statement())
    assert stored() == recount()


def test_bulk_updates_of_other_ticket_columns_pass(app_context, world):
    """Columns the tallies ignore may be set in bulk, by .values() or by primary key."""
    db.session.execute(update(Ticket).values(rating_comment="bulk"))
    ids = db.session.scalars(select(Ticket.id)).all()
    db.session.execute(update(Ticket), [{"id": i, "subject": f"Bulk {i}"} for i in ids])
    with pytest.raises(RuntimeError, match="rebuild"):
        db.session.execute(update(Ticket), [{"id": i, "status": "closed"} for i in ids])
    assert db.session.scalar(select(Ticket.subject).where(Ticket.id == ids[0])) == f"Bulk {ids[0]}"
    assert stored() == recount()


def test_rebuild_from_plain_sql_and_a_db_api_connection(app_context, world, runner):
    """Tickets written with plain SQL bypass the tallies; ``rebuild`` (the CLI, or with the
    driver's own connection, as the bench's bulk loader calls it) recounts them."""
    before = stored()
    db.session.execute(text("UPDATE tickets SET status = 'closed', resolved_at = created_at"))
    assert stored() == before != recount()
    driver_connection = db.session.connection().connection.dbapi_connection
    assert tallies.rebuild(driver_connection) == tuple(len(part) for part in recount())
    db.session.expire_all()
    assert stored() == recount()
    db.session.execute(text("UPDATE ticket_tallies SET tickets = tickets + 5"))
    db.session.commit()
    result = runner.invoke(args=["counters", "rebuild"])
    assert result.exit_code == 0 and "Rebuilt the counters" in result.output
    db.session.expire_all()
    assert stored() == recount()


# --- the counters people see ---------------------------------------------------------------


def expected_counters(user_filter):
    """The counters by their definition, counted over tickets (``user_filter`` the scope)."""
    rows = [t for t in db.session.scalars(select(Ticket)) if t.deleted_at is None
            and user_filter(t)]
    since = (utcnow() - timedelta(days=AVERAGE_DAYS - 1)).date()
    recent = [t for t in rows if t.created_at.astimezone(UTC).date() >= since]

    def hours(ends):
        waits = [_epoch_second(end) - _epoch_second(t.created_at) for t, end in ends]
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
    return {**{k: v for k, v in counters.items() if k not in ("average_days", "mine")},
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


# --- the migration ---------------------------------------------------------------------------


def test_migration_fills_the_tallies_and_goes_back(empty_database_app):
    """0010 counts the tickets already there (deleted ones nowhere); downgrade drops the
    tables, upgrade fills them again."""
    app = empty_database_app
    now = utcnow()
    with app.app_context():
        upgrade(revision="0008_sign_ins")
        tables = MetaData()
        tables.reflect(db.engine, only=("users", "resellers", "tickets"))
        users, resellers, ticket_table = (tables.tables[name] for name in (
            "users", "resellers", "tickets"))
        with db.engine.begin() as connection:
            category = connection.scalar(text("SELECT min(id) FROM categories"))
            reseller = connection.execute(resellers.insert().values(
                name="Old reseller", created_at=now)).inserted_primary_key[0]
            person = connection.execute(users.insert().values(
                email="old@example.test", name="Old", password_hash="x", role="subscriber",
                permission_names="", created_at=now)).inserted_primary_key[0]
            for n, (status, reseller_id, deleted, answered, resolved) in enumerate([
                    ("open", None, False, None, None), ("open", reseller, False, 3600.5, None),
                    ("resolved", reseller, False, 60, 7200.25), ("closed", None, True, 5, 9),
                    ("on_hold", reseller, False, None, None)]):
                opened = now - timedelta(days=n * 20, microseconds=n * 333_333)
                connection.execute(ticket_table.insert().values(
                    subject=f"old {n}", body="", body_html="", body_renderer=1, status=status,
                    priority="high", category_id=category, subscriber_id=person,
                    reseller_id=reseller_id, queue_rank=1, created_at=opened,
                    updated_at=opened, public_updated_at=opened,
                    deleted_at=now if deleted else None,
                    first_response_at=answered and opened + timedelta(seconds=answered),
                    resolved_at=resolved and opened + timedelta(seconds=resolved)))
        upgrade()
        filled = stored()
        assert filled == recount() and sum(filled[0].values()) == 4
        db.session.remove()  # its transaction's locks would hold the DROP TABLE off
        downgrade(revision="0008_sign_ins")
        assert not inspect(db.engine).has_table("ticket_tallies")
        upgrade()
        assert stored() == filled
