"""Notifications: a customer's reply reaches the assignee by mail, once, through the outbox.

The mail server is real: aiosmtpd listening on loopback.
"""

import email
import socket
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from rq.job import Job
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Notification, Ticket, User
from helpdesk.queues import get_queue, get_redis
from helpdesk.services import replies, tickets
from jobs.notifications import dispatch_stalled, send_notification
from jobs.worker import make_worker


class Inbox:
    """An aiosmtpd handler (its hook names are aiosmtpd's) that keeps every message."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def inbox(app):
    """A real SMTP server on loopback, and the app pointed at it."""
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, SMTP_STARTTLS=False,
                      MAIL_FROM="desk@test.example", PUBLIC_URL="https://desk.test.example")
    yield handler
    controller.stop()


@pytest.fixture
def assigned(app, world):
    """Alice's ticket, assigned to the agent."""
    with app.app_context():
        ticket = db.session.get(Ticket, world.tickets["alice"])
        tickets.assign(ticket, db.session.get(User, world.users["agent"]),
                       actor=db.session.get(User, world.users["admin"]))
    return world.tickets["alice"]


def customer_writes(app, world, ticket_id, body="It is down again"):
    with app.app_context():
        replies.add_reply(db.session.get(Ticket, ticket_id),
                          author=db.session.get(User, world.users["alice"]), body=body)


def notifications(app):
    with app.app_context():
        return db.session.scalars(select(Notification).order_by(Notification.id)).all()


def test_customer_reply_mails_the_assignee_once(app, world, assigned, inbox):
    """Queued with the reply, sent by the worker, and a second run sends nothing more."""
    customer_writes(app, world, assigned)
    [notification] = notifications(app)
    assert notification.state == "queued"
    assert make_worker(app, queues=["notifications"], simple=True).work(burst=True)
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"] == "agent@test.example"
    assert message["Subject"].startswith(f"[TKT-{assigned}] Alice replied")
    assert "It is down again" in message.get_payload()
    assert f"https://desk.test.example/tickets/{assigned}" in message.get_payload()
    [notification] = notifications(app)
    assert notification.state == "sent" and notification.attempts == 1
    with app.app_context():
        assert send_notification(notification.id) == "sent"  # delivered twice by RQ: no-op
    assert len(inbox.messages) == 1


def test_only_customer_replies_on_assigned_tickets_notify(app, world, inbox):
    """Staff replies, notes and unassigned tickets queue nothing."""
    customer_writes(app, world, world.tickets["alice"])  # her own ticket, not yet assigned
    with app.app_context():
        agent = db.session.get(User, world.users["agent"])
        ticket = db.session.get(Ticket, world.tickets["alice"])
        tickets.assign(ticket, agent, actor=agent)
        replies.add_reply(ticket, author=agent, body="Staff answer")
        replies.add_reply(ticket, author=agent, body="A note", internal=True)
    assert notifications(app) == []


def test_without_a_mail_server_notifications_are_skipped(app, world, assigned):
    """No SMTP_HOST: recorded as skipped with the reason, nothing raised."""
    app.config["SMTP_HOST"] = None
    customer_writes(app, world, assigned)
    make_worker(app, queues=["notifications"], simple=True).work(burst=True)
    [notification] = notifications(app)
    assert (notification.state, notification.last_error) == ("skipped", "SMTP_HOST is not set")


def test_a_dead_mail_server_is_retried_not_dropped(app, world, assigned):
    """The failure is recorded and the job scheduled again with back-off."""
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_STARTTLS=False)
    customer_writes(app, world, assigned)
    make_worker(app, queues=["notifications"], simple=True).work(burst=True)
    [notification] = notifications(app)
    assert notification.state == "queued" and notification.attempts == 1
    assert "ConnectionRefusedError" in notification.last_error
    with app.app_context():
        job = Job.fetch(f"notification-{notification.id}", connection=get_redis())
        assert job.get_status() == "scheduled"
        assert job.retries_left == 4


def test_sweep_requeues_what_redis_missed(app, world, assigned, inbox):
    """A notification left queued (Redis was away) is sent by the periodic sweep."""
    customer_writes(app, world, assigned)
    with app.app_context():
        get_queue("notifications").empty()  # as if the enqueue never reached Redis
        notification = db.session.scalars(select(Notification)).one()
        notification.created_at -= timedelta(minutes=5)
        db.session.commit()
        assert dispatch_stalled() == 1
    make_worker(app, queues=["notifications"], simple=True).work(burst=True)
    assert len(inbox.messages) == 1
    assert notifications(app)[0].state == "sent"
