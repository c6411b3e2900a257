"""The demo's email: a few messages taken in through the mail intake as if they had come
from the mailbox, so ``make run`` shows email to tickets without one.

Alice writes a new ticket and answers one of hers from Outlook (quote and all); someone the
desk does not know asks about fibre (a ticket flagged for staff to attach to a customer);
an out-of-office reply is set aside; and one message is too broken to read, waiting for an
admin at /admin/mail/inbound. Every message goes through ``services.mail_intake``, as real
mail does.
"""

from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Ticket
from helpdesk.models.timestamps import utcnow
from helpdesk.services import accounts, mail_intake

RECEIVED_AGO = timedelta(hours=3)  # the first message; the rest a quarter of an hour apart


def _message(*, sender, subject, body, number, headers=None):
    """A message as a mail client writes it, with a stable Message-ID (``number``)."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "Support <support@demo.test>"
    mail["Subject"] = subject
    mail["Date"] = formatdate()
    mail["Message-ID"] = f"<demo-{number}@mail.demo.test>"
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(body)
    return mail.as_bytes()


def _broken():
    """A message a mail server mangled: no sender, no headers to speak of."""
    return (b"Subject: =?utf-8?q?Re=3A_invoice?=\r\nContent-Type: multipart/mixed\r\n\r\n"
            b"--no-boundary\r\n\x89PNG garbage where a message should be\r\n")


def demo_messages():
    """The demo's messages as raw bytes, in the order they arrive."""
    alice = accounts.find_user("alice@north.demo.test")
    answered = db.session.scalar(select(Ticket).where(
        Ticket.subscriber_id == alice.id, Ticket.status.in_(("waiting_on_customer", "open")))
        .order_by(Ticket.id.desc()).limit(1))
    messages = [_message(
        sender="Alice Jensen <alice@north.demo.test>", number=1,
        subject="Wi-Fi drops whenever the microwave runs",
        body="Hello,\n\nevery time the microwave in the kitchen runs, the Wi-Fi upstairs "
             "drops for a minute. The router is on the ground floor.\n\nAlice")]
    if answered is not None:
        messages.append(_message(
            sender="Alice Jensen <alice@north.demo.test>", number=2,
            subject=f"RE: [{answered.number}] New reply: {answered.subject}",
            body="I checked again tonight: the lights are green, but it still drops around "
                 "8 pm.\n\nAlice\n\nFrom: Support <support@demo.test>\nSent: Monday\n"
                 f"To: Alice Jensen\nSubject: [{answered.number}] New reply\n\n"
                 "Could you check whether it is stable now?\n"))
    messages += [
        _message(sender="Priya Patel <priya@newcustomer.example>", number=3,
                 subject="Is fibre available at 12 Harbour Street?",
                 body="Hi, we are moving our office to 12 Harbour Street next month. Can you "
                      "connect us with fibre, and how soon?\n\nPriya Patel"),
        _message(sender="Bob Okafor <bob@south.demo.test>", number=4,
                 subject="Automatic reply: We received your request",
                 body="I am out of the office until Monday.",
                 headers={"Auto-Submitted": "auto-replied"}),
        _broken(),
    ]
    return messages


def load_demo_mail():
    """Take the demo's messages in, received a few hours ago, a quarter of an hour apart
    (a lived-in history: nothing happens at seeding time); their rows' states in order."""
    first = utcnow() - RECEIVED_AGO
    return [mail_intake.take_in(raw, source="demo",
                                received_at=first + timedelta(minutes=15 * n)).state
            for n, raw in enumerate(demo_messages())]
