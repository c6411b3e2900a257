"""The ticket tallies and report rollups, kept in step with every ticket change.

They are checked against a recount written apart from the code under test
(``tests/tally_recount.py``): by Python over the tickets after every step of generated service
operations, by the SQL of ``rebuild`` (PostgreSQL and SQLite), and by the migration that fills
them. The counters people read from them are ``tests/test_counters.py``'s.
"""

from datetime import timedelta

import pytest
from flask_migrate import downgrade, upgrade
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import MetaData, delete, insert, inspect, select, text, update

from helpdesk.extensions import db
from helpdesk.models import (
    PRIORITIES,
    STATUSES,
    Category,
    Organisation,
    Reseller,
    Ticket,
    User,
)
from helpdesk.models.timestamps import utcnow
from helpdesk.services import organisations, replies, tallies, tickets
from helpdesk.services.errors import NotAllowed, TicketError
from tests.tally_recount import rebuilt, recount, stored

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


def test_migration_counts_sla_and_histograms_of_the_tickets_there(empty_database_app):
    """0022 adds the SLA counts and the histograms to the report rollups and fills them from
    the tickets already there: met, missed, exactly on time, without a target, over 60 days;
    downgrade drops the columns, upgrade counts the same again."""
    app = empty_database_app
    now = utcnow().replace(microsecond=0) - timedelta(days=1)
    with app.app_context():
        upgrade(revision="0021_report_rollups")
        tables = MetaData()
        tables.reflect(db.engine, only=("users", "tickets"))
        users, ticket_table = tables.tables["users"], tables.tables["tickets"]
        hour = timedelta(hours=1)
        with db.engine.begin() as connection:
            category = connection.scalar(text("SELECT min(id) FROM categories"))
            person = connection.execute(users.insert().values(
                email="old@example.test", name="Old", password_hash="x", role="subscriber",
                permission_names="", created_at=now)).inserted_primary_key[0]
            # (opened, answered, first response due, resolved, resolution due, deleted)
            for n, (opened, answered, answer_due, resolved, resolution_due, deleted) in enumerate([
                    (now - 80 * hour, now - 79 * hour, now - 78 * hour,  # met
                     now - 77 * hour, now - 78 * hour, False),  # missed by an hour
                    (now - 5 * hour, now - hour, None, None, None, False),  # no target
                    (now - 3 * hour, now - 2 * hour, now - 2 * hour + timedelta(
                        microseconds=1), None, None, False),  # on time to the second
                    (now - 75 * 24 * hour, now - 74 * 24 * hour, now - 75 * 24 * hour,
                     now - hour, now, False),  # late answer; resolved after 75 days
                    (now - 5 * hour, now - 4 * hour, now - 3 * hour, None, None, True)]):
                connection.execute(ticket_table.insert().values(
                    subject=f"old {n}", body="", body_html="", body_renderer=1,
                    status="resolved" if resolved else "open", priority="normal",
                    category_id=category, subscriber_id=person, queue_rank=1,
                    created_at=opened, updated_at=opened, public_updated_at=opened,
                    deleted_at=now if deleted else None, first_response_at=answered,
                    first_response_due_at=answer_due, resolved_at=resolved,
                    resolution_due_at=resolution_due))
        upgrade()
        filled = stored()[3:]  # the report rollups (the tickets went in past the others)
        assert filled == recount()[3:]
        totals = db.session.execute(text(
            "SELECT sum(responded), sum(sla_responses), sum(sla_responses_met),"
            " sum(sla_resolutions), sum(sla_resolutions_met), sum(response_bucket_07),"
            " sum(resolution_bucket_23) FROM report_days")).one()
        # Answered in 1 h (twice: the 1-1.5 h bucket), 4 h and a day; resolved in 3 h and
        # 75 days (the last bucket).
        assert tuple(totals) == (4, 3, 2, 2, 1, 2, 1)
        db.session.remove()  # its transaction's locks would hold the ALTER TABLE off
        downgrade(revision="0021_report_rollups")
        assert "sla_responses" not in {c["name"] for c in inspect(db.engine).get_columns(
            "report_days")}
        upgrade()
        assert stored()[3:] == filled
