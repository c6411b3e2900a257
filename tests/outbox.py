"""The notification tests' outbox kit: a real SMTP server on loopback (aiosmtpd) that keeps
what it receives, an assigned ticket, a customer who writes, and the worker that sends.

Its fixtures (``inbox``, ``assigned``) are registered for every test by ``tests/conftest.py``.
"""

import email
import email.policy
import email.utils

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from bench.server import free_port
from helpdesk.extensions import db
from helpdesk.models import Notification, Ticket, User
from helpdesk.services import replies, tickets
from jobs.worker import make_worker

# What our notification mail carries; anything else in the raw headers was injected.
# A plain message (``compose`` without HTML or a thread); a notification has text and HTML
# parts (its own Content-Type, no Content-Transfer-Encoding at the top) and threads.
EXPECTED_HEADERS = {"from", "to", "subject", "date", "message-id", "auto-submitted",
                    "content-type", "content-transfer-encoding", "mime-version"}
NOTIFICATION_HEADERS = (EXPECTED_HEADERS - {"content-transfer-encoding"}) | {
    "in-reply-to", "references"}


class Inbox:
    """An aiosmtpd handler (its hook names are aiosmtpd's) that keeps every message.

    With ``refusal`` set it answers every message with that SMTP reply instead.
    """

    def __init__(self, refusal=None):
        self.messages, self.raw, self.recipients = [], [], []
        self.refusal = refusal

    async def handle_DATA(self, server, session, envelope):
        if self.refusal:
            return self.refusal
        self.raw.append(envelope.content)
        self.recipients.append(list(envelope.rcpt_tos))
        self.messages.append(email.message_from_bytes(envelope.content,
                                                      policy=email.policy.default))
        return "250 Message accepted"

    def to(self, address):
        """The messages received for ``address``, in order."""
        return [message for message, rcpt in zip(self.messages, self.recipients, strict=True)
                if address in rcpt]

    def raw_to(self, address):
        """The raw messages received for ``address``, in order."""
        return [raw for raw, rcpt in zip(self.raw, self.recipients, strict=True)
                if address in rcpt]


def start_mail_server(app, handler):
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, SMTP_STARTTLS=False,
                      MAIL_FROM="Help Desk <desk@test.example>",
                      PUBLIC_URL="https://desk.test.example", TEST_INBOX=handler)
    return controller


@pytest.fixture
def inbox(app):
    """A real SMTP server on loopback, and the app pointed at it."""
    handler = Inbox()
    controller = start_mail_server(app, handler)
    yield handler
    controller.stop()


@pytest.fixture
def assigned(app, world):
    """Alice's ticket, assigned to the agent by himself (so no assignment mail)."""
    with app.app_context():
        ticket = db.session.get(Ticket, world.tickets["alice"])
        agent = db.session.get(User, world.users["agent"])
        tickets.assign(ticket, agent, actor=agent)
    return world.tickets["alice"]


def customer_writes(app, world, ticket_id, body="It is down again"):
    """Alice comments on the ticket; returns the id of its notification (or None)."""
    with app.app_context():
        reply = replies.add_reply(db.session.get(Ticket, ticket_id),
                                  author=db.session.get(User, world.users["alice"]), body=body)
        return db.session.scalar(select(Notification.id).where(Notification.reply_id == reply.id))


def row(app, notification_id):
    """The notification as it is in the database now."""
    with app.app_context():
        return db.session.get(Notification, notification_id)


def run_worker(app):
    return make_worker(app, queues=["notifications"], simple=True).work(burst=True)


def raw_headers(raw):
    """The header block of a raw message as (name, value) pairs, folded lines joined."""
    block = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    unfolded = block.replace("\r\n ", " ").replace("\r\n\t", " ")
    return [tuple(part.strip() for part in line.split(":", 1))
            for line in unfolded.split("\r\n")]
