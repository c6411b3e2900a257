"""Notifications: a customer's reply reaches the assignee by mail, once, through the outbox,
and only while the assignee may read it.

The mail server is real: aiosmtpd listening on loopback (``tests/outbox.py``). What reached
it is checked in its mailbox.
"""


import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Notification, Reply, Ticket, User
from helpdesk.services import accounts, replies, tickets
from jobs.notifications import send_notification
from tests.outbox import (
    customer_writes,
    row,
    run_worker,
)


def test_customer_reply_mails_the_assignee_once(app, world, assigned, inbox):
    """Queued with the reply, sent by the worker, and a second run sends nothing more."""
    notification_id = customer_writes(app, world, assigned)
    assert row(app, notification_id).state == "queued"
    assert run_worker(app)
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert inbox.recipients == [["agent@test.example"]]
    assert message["To"].addresses[0].addr_spec == "agent@test.example"
    assert message["To"].addresses[0].display_name == "Agent"
    assert message["Subject"].startswith(f"[TKT-{assigned}] Alice replied")
    assert message["Message-ID"].startswith(f"<notification.{notification_id}.")
    assert message["Auto-Submitted"] == "auto-generated"
    body = message.get_body(("plain",)).get_content()
    assert "It is down again" in body
    assert f"https://desk.test.example/tickets/{assigned}" in body
    notification = row(app, notification_id)
    assert (notification.state, notification.attempts) == ("sent", 1)
    assert notification.sent_at is not None and notification.last_error is None
    with app.app_context():
        assert send_notification(notification_id) == "sent"  # delivered twice by RQ: no-op
    assert len(inbox.messages) == 1
    assert row(app, notification_id).attempts == 1


def test_notes_and_self_assignment_notify_nobody(app, world, inbox):
    """An internal note, and taking a ticket yourself, queue nothing; a staff reply queues
    one mail, to the subscriber."""
    with app.app_context():
        before = db.session.scalar(select(db.func.count(Notification.id)))
        agent = db.session.get(User, world.users["agent"])
        ticket = db.session.get(Ticket, world.tickets["alice"])
        tickets.assign(ticket, agent, actor=agent)
        replies.add_reply(ticket, author=agent, body="A note", internal=True)
        assert db.session.scalar(select(db.func.count(Notification.id))) == before
        replies.add_reply(ticket, author=agent, body="Staff answer")
        assert db.session.scalars(select(Notification.recipient_id).where(
            Notification.id > 0).order_by(Notification.id.desc()).limit(1)).all() == [
            world.users["alice"]]
        assert db.session.scalar(select(db.func.count(Notification.id))) == before + 1


def test_without_a_mail_server_notifications_are_kept(app, world, assigned):
    """No SMTP_HOST: kept with the message (for /admin/mail) and the reason, nothing raised."""
    app.config["SMTP_HOST"] = None
    notification_id = customer_writes(app, world, assigned)
    run_worker(app)
    notification = row(app, notification_id)
    assert (notification.state, notification.last_error) == ("kept", "SMTP_HOST is not set")
    assert notification.to_email == "agent@test.example"
    assert notification.subject.startswith(f"[TKT-{assigned}] Alice replied")
    assert "It is down again" in notification.body


# Who may read the mail is decided when it is sent ------------------------------------------

def test_a_disabled_assignee_gets_no_mail(app, world, assigned, inbox):
    """Disabled after the customer wrote, before the worker ran: withheld, and the row says why."""
    notification_id = customer_writes(app, world, assigned)
    with app.app_context():
        accounts.set_disabled(db.session.get(User, world.users["agent"]), disabled=True)
    run_worker(app)
    assert inbox.messages == []
    notification = row(app, notification_id)
    assert notification.state == "withheld"
    assert notification.last_error == "the recipient's account is disabled"


def _remove_permissions(user, ticket, admin):
    user.permissions = []
    db.session.commit()


def _delete_ticket(user, ticket, admin):
    tickets.delete_ticket(ticket, actor=admin)


@pytest.mark.parametrize(("lose_access", "reason"), [
    (_remove_permissions, "the recipient may no longer see the ticket"),
    (_delete_ticket, "the ticket was deleted"),
])
def test_an_assignee_who_lost_access_gets_no_mail(app, world, inbox, lose_access, reason):
    """A reseller assignee whose permissions were taken away, or whose ticket was deleted."""
    with app.app_context():
        ticket = db.session.get(Ticket, world.tickets["alice"])  # a North subscriber's ticket
        reseller = db.session.get(User, world.users["north_reseller"])
        admin = db.session.get(User, world.users["admin"])
        tickets.assign(ticket, reseller, actor=admin)
    notification_id = customer_writes(app, world, world.tickets["alice"])
    with app.app_context():
        lose_access(db.session.get(User, world.users["north_reseller"]),
                    db.session.get(Ticket, world.tickets["alice"]),
                    db.session.get(User, world.users["admin"]))
    run_worker(app)
    assert inbox.messages == []
    notification = row(app, notification_id)
    assert (notification.state, notification.last_error) == ("withheld", reason)


def test_a_customer_is_never_mailed_an_internal_note(app, world, inbox):
    """Whatever wrote the row, an internal note does not reach a customer; a public reply may."""
    with app.app_context():
        thread = db.session.scalars(select(Reply).where(
            Reply.ticket_id == world.tickets["alice"]).order_by(Reply.id)).all()
        note = next(reply for reply in thread if reply.internal)
        public = next(reply for reply in thread if not reply.internal)
        rows = [Notification(kind="customer_reply", ticket_id=world.tickets["alice"],
                             reply_id=reply.id, key=f"forged-{reply.id}",
                             recipient_id=world.users["alice"])
                for reply in (note, public)]
        db.session.add_all(rows)
        db.session.commit()
        note_row, public_row = (notification.id for notification in rows)
        assert send_notification(note_row) == "withheld"
        assert send_notification(public_row) == "sent"
    assert row(app, note_row).last_error == (
        "the recipient may not read this reply (an internal note)")
    assert len(inbox.messages) == 1
    assert world.internal_note_text not in inbox.raw[0].decode()
    assert "Public answer from support" in inbox.messages[0].get_body(("plain",)).get_content()
