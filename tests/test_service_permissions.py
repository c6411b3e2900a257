"""Every service refuses an actor who may not, called directly as the CLI, a job or the API would.

A refusal is ``TicketNotFound`` outside the actor's scope (the ticket does not exist for them)
and ``NotAllowed`` inside it; either way nothing is written: no change, no audit entry, no
file. The desk answers the same refusals 404 and 403.
"""

import io
import re

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from helpdesk.extensions import db
from helpdesk.models import Attachment, AuditEntry, Category, Reply, Ticket, User
from helpdesk.models.timestamps import utcnow
from helpdesk.services import handoff, ratings, replies, tickets
from helpdesk.services.attachments import store_attachments
from helpdesk.services.errors import NotAllowed, TicketError, TicketNotFound
from tests.conftest import csrf_token_from
from tests.world import email


class Desk:
    """The world's people and tickets, loaded in the test's app context."""

    def __init__(self, world):
        self.world = world

    def user(self, key):
        return db.session.get(User, self.world.users[key])

    def ticket(self, key):
        return db.session.get(Ticket, self.world.tickets[key])

    def category(self, position):
        return db.session.scalars(
            select(Category).order_by(Category.position).offset(position).limit(1)).one()


@pytest.fixture
def desk(world, app_context):
    return Desk(world)


def upload(name="trace.txt"):
    return FileStorage(stream=io.BytesIO(b"line errors"), filename=name)


def reply_of(ticket, *, internal):
    """One of the world's replies on ``ticket`` (alice's has a public reply and a note)."""
    return db.session.scalars(select(Reply).where(
        Reply.ticket_id == ticket.id, Reply.internal.is_(internal))).first()


# (who, what they try, what they get). Tickets: alice's is North's (no organisation); bob's is
# South's; dave's is in Acme (North). north_viewer has tickets.view only; north_all has view,
# view_all and reply but not edit; north_reseller has view, create, edit and reply (no delete).
REFUSALS = [
    ("alice", "change_status on her own ticket", NotAllowed,
     lambda d: tickets.change_status(d.ticket("alice"), "on_hold", actor=d.user("alice"))),
    ("alice", "change_status on bob's ticket", TicketNotFound,
     lambda d: tickets.change_status(d.ticket("bob"), "on_hold", actor=d.user("alice"))),
    ("north_all", "assign without tickets.edit", NotAllowed,
     lambda d: tickets.assign(d.ticket("alice"), d.user("agent"), actor=d.user("north_all"))),
    ("north_viewer", "unassign without tickets.edit", NotAllowed,
     lambda d: tickets.assign(d.ticket("alice"), None, actor=d.user("north_viewer"))),
    ("north_viewer", "change_priority without tickets.edit", NotAllowed,
     lambda d: tickets.change_priority(d.ticket("alice"), "urgent",
                                       actor=d.user("north_viewer"))),
    ("north_all", "change_category without tickets.edit", NotAllowed,
     lambda d: tickets.change_category(d.ticket("alice"), d.category(1),
                                       actor=d.user("north_all"))),
    ("south_reseller", "reply to another reseller's ticket", TicketNotFound,
     lambda d: replies.add_reply(d.ticket("alice"), author=d.user("south_reseller"),
                                 body="Hello from South")),
    ("north_viewer", "reply without tickets.reply", NotAllowed,
     lambda d: replies.add_reply(d.ticket("alice"), author=d.user("north_viewer"),
                                 body="Hello")),
    ("north_none", "reply with no permission at all", TicketNotFound,
     lambda d: replies.add_reply(d.ticket("alice"), author=d.user("north_none"), body="Hi")),
    ("alice", "an internal note on her own ticket", NotAllowed,
     lambda d: replies.add_reply(d.ticket("alice"), author=d.user("alice"), body="psst",
                                 internal=True)),
    ("carol", "an internal note on her organisation's ticket", NotAllowed,
     lambda d: replies.add_reply(d.ticket("dave"), author=d.user("carol"), body="psst",
                                 internal=True)),
    ("bob", "a comment on alice's ticket", TicketNotFound,
     lambda d: replies.add_reply(d.ticket("alice"), author=d.user("bob"), body="Me too")),
    ("dave", "a comment on a colleague's ticket", TicketNotFound,
     lambda d: replies.add_reply(d.ticket("erin"), author=d.user("dave"), body="Me too")),
    ("north_reseller", "delete without tickets.delete", NotAllowed,
     lambda d: tickets.delete_ticket(d.ticket("alice"), actor=d.user("north_reseller"))),
    ("alice", "delete her own ticket", NotAllowed,
     lambda d: tickets.delete_ticket(d.ticket("alice"), actor=d.user("alice"))),
    ("north_all", "hand off without tickets.edit", NotAllowed,
     lambda d: handoff.hand_off(d.ticket("alice"), actor=d.user("north_all"),
                                to_user=d.user("agent"), note="Over to you")),
    ("south_reseller", "hand off another reseller's ticket", TicketNotFound,
     lambda d: handoff.hand_off(d.ticket("alice"), actor=d.user("south_reseller"),
                                to_user=d.user("south_reseller"), note="Mine now")),
    ("agent", "rate a ticket", NotAllowed,
     lambda d: ratings.rate(d.ticket("alice"), customer=d.user("agent"), score=5)),
    ("bob", "rate alice's ticket", TicketNotFound,
     lambda d: ratings.rate(d.ticket("alice"), customer=d.user("bob"), score=1)),
    ("south_reseller", "open a ticket for another reseller's subscriber", NotAllowed,
     lambda d: tickets.open_ticket(subscriber=d.user("alice"), subject="x", body="x",
                                   category=d.category(0), opened_by=d.user("south_reseller"))),
    ("north_viewer", "open a ticket without tickets.create", NotAllowed,
     lambda d: tickets.open_ticket(subscriber=d.user("alice"), subject="x", body="x",
                                   category=d.category(0), opened_by=d.user("north_viewer"))),
    ("dave", "open a ticket in a colleague's name", NotAllowed,
     lambda d: tickets.open_ticket(subscriber=d.user("erin"), subject="x", body="x",
                                   category=d.category(0), opened_by=d.user("dave"))),
    ("agent", "open a ticket for a member of staff", NotAllowed,
     lambda d: tickets.open_ticket(subscriber=d.user("admin"), subject="x", body="x",
                                   category=d.category(0), opened_by=d.user("agent"))),
    ("bob", "attach a file to alice's ticket", TicketNotFound,
     lambda d: store_attachments(d.ticket("alice"), uploader=d.user("bob"),
                                 files=[upload()])),
    ("alice", "attach a file to an internal note", NotAllowed,
     lambda d: store_attachments(d.ticket("alice"), uploader=d.user("alice"),
                                 files=[upload()],
                                 reply=reply_of(d.ticket("alice"), internal=True))),
    ("north_viewer", "attach a file to a public reply", NotAllowed,
     lambda d: store_attachments(d.ticket("alice"), uploader=d.user("north_viewer"),
                                 files=[upload()],
                                 reply=reply_of(d.ticket("alice"), internal=False))),
]


def snapshot(ticket_id):
    """What any change would touch: the ticket's fields, its thread, files and audit trail."""
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket_id)
    count = lambda model, column: db.session.scalar(  # noqa: E731
        select(func.count()).select_from(model).where(column == ticket_id))
    return {
        "fields": (ticket.status, ticket.priority, ticket.category_id, ticket.assignee_id,
                   ticket.deleted_at, ticket.rating, ticket.updated_at),
        "replies": count(Reply, Reply.ticket_id), "files": count(Attachment, Attachment.ticket_id),
        "audit": db.session.scalar(select(func.count()).select_from(AuditEntry)),
        "tickets": db.session.scalar(select(func.count()).select_from(Ticket)),
    }


@pytest.mark.parametrize(("who", "attempt", "refusal", "call"), REFUSALS,
                         ids=[f"{who}: {attempt}" for who, attempt, _, _ in REFUSALS])
def test_each_service_refuses_who_may_not(desk, who, attempt, refusal, call):
    """The refusal is the right kind and leaves everything as it was."""
    targets = [desk.world.tickets[key] for key in ("alice", "bob", "dave", "erin")]
    before = {ticket_id: snapshot(ticket_id) for ticket_id in targets}
    with pytest.raises(refusal) as raised:
        call(desk)
    db.session.rollback()
    if refusal is NotAllowed:
        assert not isinstance(raised.value, TicketNotFound), "in scope: say what, not 404"
    assert {ticket_id: snapshot(ticket_id) for ticket_id in targets} == before


def test_a_disabled_agent_can_do_nothing(desk):
    """Disabling someone ends their scope at once, for the services too."""
    agent = desk.user("agent")
    agent.disabled_at = utcnow()
    db.session.commit()
    for attempt in (
        lambda: tickets.change_status(desk.ticket("alice"), "on_hold", actor=agent),
        lambda: replies.add_reply(desk.ticket("alice"), author=agent, body="Still here"),
        lambda: tickets.delete_ticket(desk.ticket("alice"), actor=agent),
    ):
        with pytest.raises(TicketNotFound):
            attempt()


def test_a_deleted_ticket_is_not_found_for_a_second_delete(desk):
    """Deleting takes it out of every scope, its deleter's too."""
    tickets.delete_ticket(desk.ticket("alice"), actor=desk.user("admin"))
    with pytest.raises(TicketNotFound):
        tickets.delete_ticket(desk.ticket("alice"), actor=desk.user("admin"))


def test_allowed_actors_still_pass(desk):
    """The checks refuse only who may not: each kind of actor does their own work."""
    reseller = desk.user("north_reseller")
    ticket = desk.ticket("alice")
    tickets.assign(ticket, reseller, actor=reseller)
    tickets.change_priority(ticket, "high", actor=reseller)
    replies.add_reply(ticket, author=desk.user("north_all"), body="Checked", internal=True)
    replies.add_reply(ticket, author=desk.user("alice"), body="Thanks")
    opened = tickets.open_ticket(subscriber=desk.user("dave"), subject="For Dave", body="x",
                                 category=desk.category(0), opened_by=reseller)
    assert (ticket.assignee_id, ticket.priority, opened.reseller_id) == (
        reseller.id, "high", reseller.reseller_id)
    reseller.permissions = [*reseller.permissions, "tickets.delete"]
    tickets.delete_ticket(opened, actor=reseller)
    assert opened.deleted_at is not None


@pytest.mark.parametrize(("status", "internal", "allowed"), [
    (None, False, True),
    ("waiting_on_customer", False, True),   # what a reply does anyway
    ("on_hold", False, False),
    ("resolved", False, False),
    ("waiting_on_customer", True, False),   # a note changes no status by itself
])
def test_replying_without_edit_picks_no_other_status(desk, status, internal, allowed):
    """tickets.reply without tickets.edit: a reply may not also change the status its way."""
    ticket, writer = desk.ticket("alice"), desk.user("north_all")
    before = snapshot(ticket.id)
    call = lambda: replies.add_reply(ticket, author=writer, body="Done", status=status,  # noqa: E731
                                     internal=internal)
    if allowed:
        call()
        assert ticket.status == "waiting_on_customer"
        return
    with pytest.raises(TicketError, match="not set this status") as refused:
        call()
    db.session.rollback()
    assert refused.value.field == "status"
    assert snapshot(ticket.id) == before


def test_assignment_refusal_names_nobody(desk):
    """Another reseller's user, picked or forged, is not named back to the actor."""
    intruder = desk.user("south_reseller")
    with pytest.raises(TicketError) as refused:
        tickets.assign(desk.ticket("alice"), intruder, actor=desk.user("north_reseller"))
    assert str(refused.value) == "That person cannot be assigned this ticket."
    assert intruder.name not in str(refused.value)


# --- the same refusals through the desk ------------------------------------------------------

def post(client, path, data, headers=None):
    token = csrf_token_from(client.get("/tickets", follow_redirects=True).text)
    return client.post(path, data={**data, "csrf_token": token}, headers=headers or {})


def test_forged_assignee_is_refused_without_a_name(app, client, auth, world):
    """A reseller who forges another reseller's user id gets a 422 that names nobody."""
    auth.login(email("north_reseller"))
    ticket_id = world.tickets["alice"]
    for headers in ({}, {"HX-Request": "true"}):
        response = post(client, f"/tickets/{ticket_id}/assignee",
                        {"assignee": str(world.users["south_reseller"])}, headers)
        assert response.status_code == 422
        assert "That person cannot be assigned this ticket." in response.text
        assert "South Reseller" not in response.text
    response = post(client, f"/tickets/{ticket_id}/handoff",
                    {"assignee": str(world.users["south_reseller"]), "body": "Yours"})
    assert response.status_code == 422 and "South Reseller" not in response.text
    with app.app_context():
        assert db.session.get(Ticket, ticket_id).assignee_id is None


def test_desk_says_what_was_refused(client, auth, world):
    """A reseller who sees the ticket but may not change it gets 403 with the reason."""
    auth.login(email("north_all"))
    response = post(client, f"/tickets/{world.tickets['alice']}/priority",
                    {"priority": "urgent"})
    assert response.status_code == 403
    assert "You may not change this ticket." in response.text


def test_reply_box_refuses_a_status_without_edit(app, client, auth, world):
    """The rule moved from the view into the service answers the same: 422 in the reply box,
    the draft kept."""
    auth.login(email("north_all"))
    ticket_id = world.tickets["alice"]
    response = post(client, f"/tickets/{ticket_id}/replies",
                    {"body": "Parking this", "status": "on_hold"}, {"HX-Request": "true"})
    assert response.status_code == 422
    assert "You may reply but not set this status." in response.text
    assert "Parking this" in response.text
    with app.app_context():
        assert db.session.get(Ticket, ticket_id).status == "open"


@pytest.mark.parametrize(("key", "controls"), [
    ("agent", True), ("north_reseller", True), ("north_all", False), ("north_viewer", False),
])
def test_queue_rows_offer_controls_only_to_who_may_edit(client, auth, world, key, controls):
    """The row template asks ``may``: no status or assignee dropdown without tickets.edit."""
    auth.login(email(key))
    html = client.get("/tickets").text
    assert "alice ticket" in html
    row = re.search(rf'<tr id="row-{world.tickets["alice"]}".*?</tr>', html, re.S).group(0)
    # Status and assignee are controls (static/app.js fetches their dropdowns) or plain text.
    assert row.count("control-badge") == (3 if controls else 0)  # priority, status, assignee
