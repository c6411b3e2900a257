"""Customers see only the time of the last public activity (DESIGN.md).

Internal work (a note, an assignment, a handoff, a priority or category change, logged time)
moves the staff's ``updated_at`` and nothing a customer sees: not the portal list's order or
"Updated" time, not the ticket page, not the live poll. Public activity (a public reply, a
comment, a status change, a rating) moves both.
"""

import re

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Category, Ticket, User
from helpdesk.services import handoff, ratings, replies, tickets
from helpdesk.timeline import customer_ticket_version, ticket_version
from tests.world import email

HTMX = {"HX-Request": "true"}


def load(key, world):
    return db.session.get(User, world.users[key])


def other_category(ticket):
    return db.session.scalars(select(Category).where(Category.id != ticket.category_id)
                              .order_by(Category.position)).first()


INTERNAL_WORK = {
    "internal note": lambda t, w: replies.add_reply(
        t, author=load("agent", w), body="Line test pending", internal=True),
    "internal note with logged time": lambda t, w: replies.add_reply(
        t, author=load("north_reseller", w), body="Checked", internal=True, minutes=20),
    "assignment": lambda t, w: tickets.assign(t, load("agent", w), actor=load("admin", w)),
    "handoff": lambda t, w: handoff.hand_off(
        t, actor=load("agent", w), to_user=load("admin", w), note="Your turn"),
    "priority": lambda t, w: tickets.change_priority(t, "urgent", actor=load("agent", w)),
    "category": lambda t, w: tickets.change_category(
        t, other_category(t), actor=load("agent", w)),
}
PUBLIC_ACTIVITY = {
    "public reply": lambda t, w: replies.add_reply(t, author=load("agent", w), body="Try now"),
    "customer comment": lambda t, w: replies.add_reply(t, author=load("alice", w), body="Still"),
    "status change": lambda t, w: tickets.change_status(t, "on_hold", actor=load("agent", w)),
}


@pytest.mark.parametrize("work", sorted(INTERNAL_WORK))
def test_internal_work_moves_only_the_staff_clock(world, app_context, work):
    """``updated_at`` and the desk's live version move; the customer's time and version stay."""
    ticket = db.session.get(Ticket, world.tickets["alice"])
    public, staff = ticket.public_updated_at, ticket.updated_at
    customer_version, desk_version = customer_ticket_version(ticket), ticket_version(ticket)
    INTERNAL_WORK[work](ticket, world)
    db.session.refresh(ticket)
    assert ticket.updated_at > staff
    assert ticket_version(ticket) != desk_version
    assert ticket.public_updated_at == public
    assert customer_ticket_version(ticket) == customer_version


@pytest.mark.parametrize("activity", sorted(PUBLIC_ACTIVITY))
def test_public_activity_moves_both_clocks(world, app_context, activity):
    """What the customer can see happen moves their time, to the same moment as the staff's."""
    ticket = db.session.get(Ticket, world.tickets["alice"])
    public, version = ticket.public_updated_at, customer_ticket_version(ticket)
    PUBLIC_ACTIVITY[activity](ticket, world)
    db.session.refresh(ticket)
    assert ticket.public_updated_at > public
    assert ticket.public_updated_at == ticket.updated_at
    assert customer_ticket_version(ticket) != version


def test_opening_and_rating_are_public(world, app_context):
    """A new ticket starts both clocks together; the customer's rating moves both."""
    alice = load("alice", world)
    ticket = tickets.open_ticket(subscriber=alice, subject="New", body="x",
                                 category=other_category(db.session.get(
                                     Ticket, world.tickets["alice"])))
    assert ticket.public_updated_at == ticket.updated_at == ticket.created_at
    replies.add_reply(ticket, author=load("agent", world), body="Fixed", status="resolved")
    resolved = ticket.public_updated_at
    ratings.rate(ticket, customer=alice, score=5)
    assert ticket.public_updated_at > resolved and ticket.public_updated_at == ticket.updated_at


# --- what the subscriber's browser sees ------------------------------------------------------

def poll_of(html):
    """The live-poll URL (with its version) an open ticket page carries."""
    return re.search(r'hx-get="(/portal/tickets/\d+/live\?v=[\w-]+)"', html).group(1)


def second_ticket_for_alice(app, world):
    """A newer ticket of Alice's, so her list has an order that internal work could upset."""
    with app.app_context():
        older = db.session.get(Ticket, world.tickets["alice"])
        tickets.open_ticket(subscriber=load("alice", world), subject="newer ticket", body="x",
                            category=older.category)


def test_an_internal_note_changes_nothing_a_subscriber_sees(app, client, auth, world):
    """List order, the "Updated" times and the live poll (204 for the old version) all stay;
    staff see the note at once."""
    second_ticket_for_alice(app, world)
    older = world.tickets["alice"]
    auth.login(email("alice"))
    listing = client.get("/portal/tickets", headers=HTMX).text
    page = client.get(f"/portal/tickets/{older}").text
    assert listing.index("newer ticket") < listing.index("alice ticket")
    with app.app_context():
        INTERNAL_WORK["internal note"](db.session.get(Ticket, older), world)
        INTERNAL_WORK["priority"](db.session.get(Ticket, older), world)
    assert client.get("/portal/tickets", headers=HTMX).text == listing
    assert client.get(poll_of(page), headers=HTMX).status_code == 204
    after = client.get(f"/portal/tickets/{older}").text
    assert re.findall(r'<time[^>]*>', after) == re.findall(r'<time[^>]*>', page)


def test_a_public_reply_moves_the_ticket_for_the_subscriber(app, client, auth, world):
    """The same ticket after a public reply: first in the list, a new time, the poll wakes."""
    second_ticket_for_alice(app, world)
    older = world.tickets["alice"]
    auth.login(email("alice"))
    listing = client.get("/portal/tickets", headers=HTMX).text
    page = client.get(f"/portal/tickets/{older}").text
    with app.app_context():
        PUBLIC_ACTIVITY["public reply"](db.session.get(Ticket, older), world)
        shown = db.session.get(Ticket, older).public_updated_at.isoformat()
    moved = client.get("/portal/tickets", headers=HTMX).text
    assert moved != listing
    assert moved.index("alice ticket") < moved.index("newer ticket")
    assert f'datetime="{shown}"' in moved
    woken = client.get(poll_of(page), headers=HTMX)
    assert woken.status_code == 200 and "Try now" in woken.text


def test_the_desk_still_sees_internal_work(app, client, auth, world):
    """Staff keep ``updated_at``: their live poll wakes on an internal note."""
    ticket_id = world.tickets["alice"]
    auth.login(email("agent"))
    page = client.get(f"/tickets/{ticket_id}").text
    poll = re.search(r'hx-get="(/tickets/\d+/live\?v=[\w-]+)"', page).group(1)
    assert client.get(poll, headers=HTMX).status_code == 204
    with app.app_context():
        INTERNAL_WORK["internal note"](db.session.get(Ticket, ticket_id), world)
    woken = client.get(poll, headers=HTMX)
    assert woken.status_code == 200 and "Line test pending" in woken.text
