"""The mail intake tests' kit: messages as mail clients and mail servers write them, the
loopback IMAP server (``tests.imap_server``) and a mailbox of each test's own.

Its fixtures (``imap_server``, ``mailbox``) are registered for every test by
``tests/conftest.py``.
"""

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import InboundMessage, Reply, Ticket
from tests.imap_server import ImapServer, Mailbox

DESK_ADDRESS = "desk@test.example"


def message(*, sender="alice@test.example", subject="Router down", body="It blinks red.",
            message_id=None, headers=None, html=None, files=(), to=DESK_ADDRESS):
    """A message as a mail client sends it, as bytes. ``headers``: more headers (name to
    value); ``html``: an HTML alternative (``body`` None: HTML only); ``files``:
    ``(name, bytes, type)``."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = formatdate()
    mail["Message-ID"] = message_id or make_msgid(domain="customer.example")
    for name, value in (headers or {}).items():
        mail[name] = value
    if body is not None:
        mail.set_content(body)
        if html is not None:
            mail.add_alternative(html, subtype="html")
    elif html is not None:
        mail.set_content(html, subtype="html")
    for name, data, content_type in files:
        maintype, subtype = content_type.split("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return mail.as_bytes()


def bounce(original_to="gone@customer.example"):
    """A delivery status notification (RFC 3464) as a mail server sends it."""
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.customer.example>\r\n"
        f"To: {DESK_ADDRESS}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: {make_msgid(domain='mx.customer.example')}\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n'
        "\r\n--b1\r\nContent-Type: text/plain\r\n\r\n"
        f"Your message to {original_to} could not be delivered.\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.customer.example\r\n\r\nFinal-Recipient: rfc822; {original_to}"
        "\r\nAction: failed\r\nStatus: 5.1.1\r\n--b1--\r\n").encode()


MALFORMED = (b"\x00\xff\xfe garbage that is no mail at all\r\n\r\n"
             b"\x89PNG\r\n\x1a\n no headers, no sender")


def inbound(key_or_id):
    """An ``InboundMessage`` by id or by ``message_key``."""
    if isinstance(key_or_id, int):
        return db.session.get(InboundMessage, key_or_id)
    return db.session.scalar(select(InboundMessage).where(
        InboundMessage.message_key == key_or_id))


def tickets_with_subject(subject):
    """Every ticket with exactly this subject."""
    return db.session.scalars(select(Ticket).where(Ticket.subject == subject)).all()


def replies_of(ticket_id):
    """A ticket's replies, oldest first."""
    return db.session.scalars(select(Reply).where(Reply.ticket_id == ticket_id)
                              .order_by(Reply.id)).all()


def count(model):
    """How many rows ``model`` has."""
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture(scope="session")
def imap_server():
    """A real dovecot on loopback for this test session."""
    server = ImapServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(app, imap_server):
    """An empty mailbox of this test's own, and the app pointed at it."""
    box = Mailbox(imap_server, imap_server.new_user())
    app.config.update(box.settings())
    return box
