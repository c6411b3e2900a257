"""The PSA outbox's rows: which tickets sync where, one row per change written with the
change itself (or not at all), none for a change that came from the PSA, none at all on a
desk without a PSA, and a file over the PSA's cap noted instead of sent."""

import pytest
from sqlalchemy import event, select, update

from helpdesk.extensions import db
from helpdesk.models import (
    Category,
    PsaConnection,
    PsaLink,
    PsaWrite,
    Ticket,
    TicketEvent,
    User,
)
from helpdesk.services import psa_outbox, replies, tickets
from helpdesk.services.errors import TicketError
from tests.admin_pages import post
from tests.psa_push_kit import connect, states, upload, writes
from tests.world import email


def _open(world, who="dave", subject="Router down", files=None):
    subscriber = db.session.get(User, world.users[who])
    category = db.session.scalars(select(Category).order_by(Category.position)).first()
    return tickets.open_ticket(subscriber=subscriber, subject=subject, body="It **blinks**",
                               category=category, files=files)


def _work_on(app, world, ticket_id, *, origin=None):
    """A public reply (moving the status), an internal note with time, a priority change."""
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        agent = db.session.get(User, world.users["agent"])
        replies.add_reply(ticket, author=agent, body="Restart it", origin=origin)
        replies.add_reply(ticket, author=agent, body="Checked the line", internal=True,
                          minutes=15, origin=origin)
        tickets.change_priority(ticket, "high", actor=agent, origin=origin)


class StatementLog:
    """The SQL statements sent while listening that name a PSA table."""

    def __init__(self, app):
        with app.app_context():
            self.engine = db.engine
        self.psa = []

    def __call__(self, _connection, _cursor, statement, *_args):
        if "psa_" in statement:
            self.psa.append(statement)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc_info):
        event.remove(self.engine, "before_cursor_execute", self)


def test_a_desk_without_a_psa_writes_no_rows_and_asks_once_per_request(app, client, auth,
                                                                        world):
    auth.login(email("agent"))
    ticket_id = world.tickets["alice"]
    page = f"/tickets/{ticket_id}"
    with StatementLog(app) as log:
        assert post(client, f"{page}/replies", {"body": "Try again", "minutes": "5"},
                    page=page).status_code in (200, 303)
    assert len(log.psa) <= 2  # the reply page's chip and the reply: one request each
    with StatementLog(app) as log:
        answer = client.get(page)
    assert answer.status_code == 200 and "psa-sync" not in answer.text
    assert len(log.psa) == 1 and "psa_connections" in log.psa[0]
    with app.app_context():
        _work_on(app, world, ticket_id)
        _open(world)
        assert db.session.scalar(select(db.func.count()).select_from(PsaWrite)) == 0


def test_a_new_ticket_and_its_work_are_written_in_order_with_their_keys(app, world, halo):
    connection_id = connect(app, halo)
    with app.app_context():
        ticket = _open(world, files=[upload("trace.txt", b"ping 1.1.1.1")])
        ticket_id = ticket.id
    _work_on(app, world, ticket_id)
    rows = writes(app, ticket_id=ticket_id)
    assert [row.kind for row in rows] == ["create_ticket", "upload_attachment", "add_action",
                                          "update_ticket", "add_action", "update_ticket"]
    assert {row.connection_id for row in rows} == {connection_id}
    assert {row.state for row in rows} == {"queued"}
    create, _, reply, status, note, priority = rows
    assert create.key == f"ticket-{ticket_id}" and create.marker == f"hd-ticket-{ticket_id}"
    assert create.change == {"status": "open", "priority": "normal",
                             "category_id": create.change["category_id"]}
    assert status.change == {"status": "waiting_on_customer"}
    assert status.key.startswith(f"status-{ticket_id}-")
    assert note.change["minutes"] == 15 and reply.change["minutes"] == 0
    assert priority.change == {"priority": "high"}
    assert len({row.key for row in rows}) == len(rows)


def test_a_change_announced_twice_is_one_row(app, world, halo):
    connect(app, halo)
    with app.app_context():
        ticket = db.session.get(Ticket, world.tickets["dave"])
        first = psa_outbox.record(ticket, kind="add_action", key="reply-999",
                                  change={"reply_id": 1, "minutes": 0})
        again = psa_outbox.record(ticket, kind="add_action", key="reply-999",
                                  change={"reply_id": 1, "minutes": 0})
        db.session.commit()
    assert first is not None and again is None
    assert len(writes(app, key="reply-999")) == 1


def test_a_refused_change_leaves_no_row(app, world, halo):
    connect(app, halo)
    app.config["MAX_ATTACHMENT_MB"] = 1
    with app.app_context():
        ticket = db.session.get(Ticket, world.tickets["dave"])
        agent = db.session.get(User, world.users["agent"])
        with pytest.raises(TicketError):
            replies.add_reply(ticket, author=agent, body="With a big file",
                              files=[upload("big.bin", b"x" * (1024 * 1024 + 1))])
    assert writes(app, ticket_id=world.tickets["dave"]) == []


def test_changes_from_the_psa_are_not_sent_back(app, world, halo):
    connect(app, halo)
    with app.app_context():
        subscriber = db.session.get(User, world.users["dave"])
        category = db.session.scalars(select(Category)).first()
        ticket = tickets.open_ticket(subscriber=subscriber, subject="From Halo", body="x",
                                     category=category, origin="psa")
        ticket_id = ticket.id
    _work_on(app, world, ticket_id, origin="psa")
    assert writes(app, ticket_id=ticket_id) == []


def test_an_old_ticket_touched_is_created_first(app, world, halo):
    """Opened before the connection existed: its first change brings its creation along."""
    ticket_id = world.tickets["dave"]
    connect(app, halo)
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        tickets.change_status(ticket, "on_hold", actor=db.session.get(User,
                                                                      world.users["agent"]))
    assert states(app, ticket_id) == [("create_ticket", "queued"), ("update_ticket", "queued")]


def test_which_connection_a_ticket_syncs_to(app, world, halo):
    """Linked: there only; else its organisation's; else one with a default client; else
    none. A disabled connection takes nothing."""
    plain = connect(app, halo, name="Default", acme=False)
    acme = connect(app, halo, name="Acme's", default_client=None)
    with app.app_context():
        dave = db.session.get(Ticket, world.tickets["dave"])  # Acme
        bob = db.session.get(Ticket, world.tickets["bob"])  # no organisation
        assert psa_outbox.connection_for(dave)[0].id == acme
        assert psa_outbox.connection_for(bob)[0].id == plain
        db.session.add(PsaLink(connection_id=plain, kind="ticket", local_id=dave.id,
                               external_id="77"))
        db.session.commit()
        assert psa_outbox.connection_for(dave) == (psa_outbox.enabled_connections()[plain],
                                                   True)
        db.session.execute(update(PsaConnection).where(PsaConnection.id == plain)
                           .values(enabled=False))
        db.session.commit()
        psa_outbox.forget_connections()
        assert psa_outbox.connection_for(dave) == (None, False)  # linked there: nowhere else
        assert psa_outbox.connection_for(bob) == (None, False)  # no default client left
        assert psa_outbox.connection_for(
            db.session.get(Ticket, world.tickets["carol"]))[0].id == acme


def test_a_file_over_the_psa_cap_is_noted_not_sent(app, client, auth, world, halo):
    connect(app, halo)
    app.config["MAX_ATTACHMENT_MB"] = 26
    big = b"x" * (25 * 1024 * 1024 + 1)
    with app.app_context():
        ticket = db.session.get(Ticket, world.tickets["dave"])
        agent = db.session.get(User, world.users["agent"])
        replies.add_reply(ticket, author=agent, body="The capture", files=[
            upload("capture.pcap", big), upload("notes.txt", b"small")])
    kinds = [row.kind for row in writes(app, ticket_id=world.tickets["dave"])]
    assert kinds.count("upload_attachment") == 1  # notes.txt only
    with app.app_context():
        [note] = db.session.scalars(select(TicketEvent).where(
            TicketEvent.ticket_id == world.tickets["dave"], TicketEvent.kind == "psa_sync"))
        assert note.internal
    assert note.new_value == "capture.pcap not sent: too large for HaloPSA (25 MB)"
    auth.login(email("agent"))
    assert note.new_value in client.get(f"/tickets/{world.tickets['dave']}").text
    auth.logout()
    auth.login(email("dave"))
    assert "too large for HaloPSA" not in client.get(
        f"/portal/tickets/{world.tickets['dave']}").text


def test_a_category_change_is_not_sent(app, world, halo):
    """A category is a ticket type in the PSA, set when the ticket is made there: the
    connector cannot change it later, so no write is queued for it."""
    connect(app, halo)
    with app.app_context():
        ticket = _open(world)
        categories = db.session.scalars(select(Category).order_by(Category.position)).all()
        tickets.change_category(ticket, categories[1], actor=db.session.get(
            User, world.users["agent"]))
        ticket_id = ticket.id
    assert states(app, ticket_id) == [("create_ticket", "queued")]
