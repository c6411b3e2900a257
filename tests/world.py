"""A small, fully known help desk for tests: every role, and a ticket in each corner.

Objects are returned as plain ids and emails (``World``) so tests can use them in any app
context. ``tests/conftest.py`` builds it once per database backend and every test starts from
it; a ``committed`` test gets its own copy, built for it.
"""

from dataclasses import dataclass, field

from sqlalchemy import select, update

from helpdesk.extensions import db
from helpdesk.models import Category, Notification, Ticket
from helpdesk.models.timestamps import utcnow
from helpdesk.services import accounts, organisations, replies, tickets

PASSWORD = "correct-horse-battery"


@dataclass
class World:
    """Ids of the users and tickets of the test help desk."""

    users: dict = field(default_factory=dict)
    tickets: dict = field(default_factory=dict)
    internal_note_text: str = ""


def build_world():
    """Resellers North and South; Acme (North's customer) and Zeta (operator's customer)."""
    north = organisations.create_reseller("North")
    south = organisations.create_reseller("South")
    acme = organisations.create_organisation("Acme", reseller=north)
    zeta = organisations.create_organisation("Zeta")
    category = db.session.scalars(select(Category).order_by(Category.position)).first()

    def user(key, role, **links):
        created = accounts.create_user(
            email=f"{key}@test.example", name=key.replace("_", " ").title(), role=role,
            password=PASSWORD, **links,
        )
        world.users[key] = created
        return created

    world = World()
    user("admin", "admin")
    agent = user("agent", "agent")
    user("north_reseller", "reseller", reseller=north)
    user("north_viewer", "reseller", reseller=north, permissions=["tickets.view"])
    user("north_all", "reseller", reseller=north,
         permissions=["tickets.view", "tickets.view_all", "tickets.reply"])
    user("north_none", "reseller", reseller=north, permissions=[])
    user("south_reseller", "reseller", reseller=south)
    alice = user("alice", "subscriber", reseller=north)
    bob = user("bob", "subscriber", reseller=south)
    user("carol", "company_admin", organisation=acme)
    dave = user("dave", "subscriber", organisation=acme)
    erin = user("erin", "subscriber", organisation=acme)
    zed = user("zed", "subscriber", organisation=zeta)

    def ticket(key, subscriber):
        opened = tickets.open_ticket(
            subscriber=subscriber, subject=f"{key} ticket", body=f"Body of **{key}**",
            category=category,
        )
        world.tickets[key] = opened
        return opened

    ticket("alice", alice)
    ticket("bob", bob)
    ticket("carol", world.users["carol"])
    ticket("dave", dave)
    ticket("erin", erin)
    ticket("zed", zed)
    world.internal_note_text = "SECRET-INTERNAL-NOTE staff only"
    for key in ("alice", "dave"):
        replies.add_reply(world.tickets[key], author=agent, body="Public answer from support",
                          status="open")
        replies.add_reply(world.tickets[key], author=agent, body=world.internal_note_text,
                          internal=True)
    _settle_background_work()
    world.users = {key: u.id for key, u in world.users.items()}
    world.tickets = {key: t.id for key, t in world.tickets.items()}
    return world


def _settle_background_work():
    """The world is a desk that has been running: its mail went out and its tickets were
    routed long ago. Left pending, the sweeps (of mail, of routing) would find them in any
    test run more than a few minutes after the world was built, and count them too."""
    db.session.execute(update(Notification).where(Notification.state == "queued")
                       .values(state="sent", sent_at=utcnow()))
    db.session.execute(update(Ticket).where(Ticket.routing_due_at.isnot(None))
                       .values(routing_due_at=None))
    db.session.commit()


def email(key):
    """The email of a world user."""
    return f"{key}@test.example"
