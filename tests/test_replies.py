"""The status rules of replies, notes, comments, handoffs and ratings (DESIGN.md)."""

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import AuditEntry, Reply, Ticket, TicketEvent, TimeEntry, User
from helpdesk.services import handoff, ratings, replies, tickets
from helpdesk.services.errors import NotAllowed
from helpdesk.services.tickets import TicketError


@pytest.fixture
def people(world, app_context):
    """Users and alice's open ticket, loaded in the test's app context."""
    def user(key):
        return db.session.get(User, world.users[key])

    return {key: user(key) for key in world.users} | {
        "ticket": db.session.get(Ticket, world.tickets["alice"])}


def events(ticket, kind):
    return db.session.scalars(select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == kind)).all()


def test_staff_reply_waits_on_the_customer(people):
    """A public staff reply moves the ticket to waiting_on_customer and stamps first response."""
    ticket = people["ticket"]
    first_response = ticket.first_response_at
    replies.add_reply(ticket, author=people["north_reseller"], body="Try a restart.")
    assert ticket.status == "waiting_on_customer"
    assert ticket.first_response_at == first_response  # the world's agent answered first
    assert events(ticket, "status")[-1].new_value == "waiting_on_customer"


def test_reply_with_a_chosen_status_keeps_that_status(people):
    """The status picked in the same submission wins."""
    ticket = people["ticket"]
    replies.add_reply(ticket, author=people["agent"], body="Working on it", status="on_hold")
    assert ticket.status == "on_hold"


def test_first_reply_can_start_work(app, people):
    """With FIRST_REPLY_STARTS_WORK, the first staff reply on an open ticket means in progress."""
    app.config["FIRST_REPLY_STARTS_WORK"] = True
    ticket = tickets.open_ticket(subscriber=people["bob"], subject="New", body="x",
                                 category=people["ticket"].category)
    replies.add_reply(ticket, author=people["agent"], body="On it")
    assert ticket.status == "in_progress"
    assert ticket.first_response_at is not None


def test_customer_reply_reopens(people):
    """A subscriber reply moves the ticket to open, from waiting or resolved."""
    ticket = people["ticket"]
    replies.add_reply(ticket, author=people["agent"], body="Fixed.", status="resolved")
    assert ticket.status == "resolved" and ticket.resolved_at is not None
    replies.add_reply(ticket, author=people["alice"], body="Still broken")
    assert ticket.status == "open"
    assert ticket.resolved_at is None and ticket.resolution_reply_id is None


def test_internal_note_changes_no_status(people):
    """A note leaves the status alone and does not count as a first response."""
    ticket = tickets.open_ticket(subscriber=people["bob"], subject="Quiet", body="x",
                                 category=people["ticket"].category)
    replies.add_reply(ticket, author=people["agent"], body="Looking", internal=True)
    assert ticket.status == "open"
    assert ticket.first_response_at is None


def test_resolving_needs_a_resolution(people):
    """Resolved and closed need the closing reply; a bare status change is refused."""
    ticket = people["ticket"]
    for status in ("resolved", "closed"):
        with pytest.raises(TicketError, match="needs a resolution"):
            tickets.change_status(ticket, status, actor=people["agent"])
    db.session.rollback()
    with pytest.raises(TicketError, match="resolution is a public reply"):
        replies.add_reply(ticket, author=people["agent"], body="x", internal=True,
                          status="resolved")
    reply = replies.add_reply(ticket, author=people["agent"], body="Done", status="resolved")
    assert ticket.resolution_reply_id == reply.id
    tickets.change_status(ticket, "closed", actor=people["agent"])  # the resolution exists
    assert ticket.status == "closed" and ticket.closed_at is not None


def test_customers_cannot_comment_on_closed_tickets(people):
    """Closed means read-only for the customer."""
    ticket = people["ticket"]
    replies.add_reply(ticket, author=people["agent"], body="Done", status="closed")
    with pytest.raises(NotAllowed, match="closed"):
        replies.add_reply(ticket, author=people["alice"], body="One more thing")


def test_customers_write_no_notes_set_no_status_log_no_time(people):
    """Those are staff tools: a note is not the customer's to write at all (NotAllowed), a
    status or time entry is refused as input."""
    ticket = people["ticket"]
    for kwargs, refusal, message in [({"internal": True}, NotAllowed, "internal notes"),
                                     ({"status": "on_hold"}, TicketError, "cannot set the status"),
                                     ({"minutes": 5}, TicketError, "do not log time")]:
        with pytest.raises(refusal, match=message):
            replies.add_reply(ticket, author=people["alice"], body="x", **kwargs)


def test_empty_reply_is_refused_with_the_field(people):
    """The error names the field, so the form can show it beside the box."""
    with pytest.raises(TicketError) as error:
        replies.add_reply(people["ticket"], author=people["agent"], body="   ")
    assert error.value.field == "body"


def test_time_entry_rides_along(people):
    """Minutes and a note are stored with the reply; bad minutes are refused."""
    ticket = people["ticket"]
    reply = replies.add_reply(ticket, author=people["agent"], body="Checked line",
                              internal=True, minutes="30", time_note="line test")
    entry = db.session.scalars(select(TimeEntry).where(TimeEntry.reply_id == reply.id)).one()
    assert (entry.minutes, entry.note) == (30, "line test")
    for bad in ("abc", "-5", "100000"):
        with pytest.raises(TicketError, match="minutes"):
            replies.add_reply(ticket, author=people["agent"], body="x", minutes=bad)


def test_assignment_events_and_audit(people):
    """Assigning adds an internal event and an audit entry; outsiders cannot be assigned."""
    ticket = people["ticket"]
    tickets.assign(ticket, people["north_reseller"], actor=people["agent"])
    assert ticket.assignee_id == people["north_reseller"].id
    event = events(ticket, "assignment")[-1]
    assert event.internal and event.new_value == people["north_reseller"].name
    with pytest.raises(TicketError, match="cannot be assigned"):
        tickets.assign(ticket, people["south_reseller"], actor=people["agent"])
    with pytest.raises(TicketError, match="cannot be assigned"):
        tickets.assign(ticket, people["alice"], actor=people["agent"])
    actions = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.ticket_id == ticket.id)).all()
    assert "ticket.assignment" in actions


def test_handoff_reassigns_and_notes_in_one_step(people):
    """Both happen, or neither: a handoff without a note changes nothing."""
    ticket = people["ticket"]
    tickets.assign(ticket, people["agent"], actor=people["agent"])
    with pytest.raises(TicketError, match="needs a note"):
        handoff.hand_off(ticket, actor=people["agent"], to_user=people["admin"], note=" ")
    db.session.refresh(ticket)
    assert ticket.assignee_id == people["agent"].id
    note = handoff.hand_off(ticket, actor=people["agent"], to_user=people["admin"],
                            note="Customer calls back at 17:00")
    assert note.internal and ticket.assignee_id == people["admin"].id
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "ticket.handoff")).one()
    assert (entry.old_value, entry.new_value) == (people["agent"].name, people["admin"].name)
    assert entry.actor_id == people["agent"].id


def test_rating_once_after_resolution(people):
    """1 to 5, once, and only when resolved or closed."""
    ticket = people["ticket"]
    with pytest.raises(NotAllowed, match="once it is resolved"):
        ratings.rate(ticket, customer=people["alice"], score=5)
    replies.add_reply(ticket, author=people["agent"], body="Done", status="resolved")
    for bad in (0, 6, "x"):
        with pytest.raises(TicketError, match="1 to 5"):
            ratings.rate(ticket, customer=people["alice"], score=bad)
    ratings.rate(ticket, customer=people["alice"], score="4", comment="Quick, thanks")
    assert (ticket.rating, ticket.rating_comment) == (4, "Quick, thanks")
    with pytest.raises(TicketError, match="rated already"):
        ratings.rate(ticket, customer=people["alice"], score=5)


def test_queue_rank_follows_status_and_priority(people):
    """Unresolved urgent/high rank first, the other unresolved next, resolved last."""
    ticket = people["ticket"]
    tickets.change_priority(ticket, "urgent", actor=people["agent"])
    assert ticket.queue_rank == 0
    tickets.change_priority(ticket, "low", actor=people["agent"])
    assert ticket.queue_rank == 1
    replies.add_reply(ticket, author=people["agent"], body="Done", status="resolved")
    assert ticket.queue_rank == 2


def test_soft_delete_keeps_the_thread(people):
    """The ticket leaves every scope; its rows stay."""
    ticket = people["ticket"]
    tickets.delete_ticket(ticket, actor=people["admin"])
    assert ticket.deleted_at is not None
    assert db.session.scalars(select(Reply).where(Reply.ticket_id == ticket.id)).all()
