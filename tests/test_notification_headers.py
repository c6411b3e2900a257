"""Notification headers are built, never injected: one-line subjects, folded and encoded
by RFC 2047, checked in the raw message a real SMTP server received."""

import email
import email.policy
import email.utils
from email.header import decode_header, make_header

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rq.job import Job
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.mail import compose, one_line
from helpdesk.models import Category, User
from helpdesk.queues import get_redis
from helpdesk.services import tickets
from helpdesk.services.notifications import OUTBOX
from tests.outbox import (
    EXPECTED_HEADERS,
    NOTIFICATION_HEADERS,
    customer_writes,
    raw_headers,
    row,
    run_worker,
)


def open_assigned_ticket(app, world, subject):
    """Alice opens a ticket with ``subject`` (her acknowledgement is sent and forgotten);
    the agent takes it. Returns its id."""
    with app.app_context():
        category = db.session.scalars(select(Category).order_by(Category.position)).first()
        ticket = tickets.open_ticket(subscriber=db.session.get(User, world.users["alice"]),
                                     subject=subject, body="Help", category=category)
        agent = db.session.get(User, world.users["agent"])
        tickets.assign(ticket, agent, actor=agent)
        ticket_id = ticket.id
    run_worker(app)
    forget = inbox_of(app)
    forget.messages.clear(), forget.raw.clear(), forget.recipients.clear()
    return ticket_id


def inbox_of(app):
    """The loopback server's handler the app sends to (``tests.outbox.start_mail_server``)."""
    return app.config["TEST_INBOX"]


def test_a_subject_with_line_breaks_arrives_on_one_line(app, world, inbox):
    """CR/LF and other control characters in a subject become spaces: no header is added."""
    subject = "Router down\r\nBcc: mallory@evil.example\nX-Injected: yes\x1b[31m\x85\u2028end"
    ticket_id = open_assigned_ticket(app, world, subject)
    notification_id = customer_writes(app, world, ticket_id)
    run_worker(app)
    assert row(app, notification_id).state == "sent"
    assert inbox.recipients == [["agent@test.example"]]  # an injected Bcc would add one
    headers = raw_headers(inbox.raw[0])
    assert {name.lower() for name, _ in headers} == NOTIFICATION_HEADERS
    assert inbox.messages[0]["Subject"] == (
        f"[TKT-{ticket_id}] Alice replied: "
        "Router down Bcc: mallory@evil.example X-Injected: yes [31m end")


def test_a_long_subject_folds_and_comes_back_whole(app, world, inbox):
    """A 500-character subject with non-ASCII text: folded lines, the same subject decoded."""
    subject = ("Glasfaser-Störung in Köln, Straße gesperrt " * 12)[:500].strip()
    ticket_id = open_assigned_ticket(app, world, subject)
    customer_writes(app, world, ticket_id)
    run_worker(app)
    [raw] = inbox.raw
    header_block = raw.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in header_block.split(b"\r\n")) <= 78
    assert inbox.messages[0]["Subject"] == f"[TKT-{ticket_id}] Alice replied: {subject}"


def test_a_header_that_cannot_be_built_fails_with_the_reason(app, world, assigned, inbox):
    """An address with a line break in it is not an address: failed at once, not retried."""
    notification_id = customer_writes(app, world, assigned)
    with app.app_context():
        agent = db.session.get(User, world.users["agent"])
        agent.email = "agent@test.example\r\nBcc: mallory@evil.example"
        db.session.commit()
    run_worker(app)
    assert inbox.messages == []
    notification = row(app, notification_id)
    assert (notification.state, notification.attempts) == ("failed", 1)
    assert notification.last_error.startswith("the message cannot be built: ValueError")
    assert "CR or LF" in notification.last_error
    with app.app_context():
        job = Job.fetch(OUTBOX.send_job_id(notification_id), connection=get_redis())
        assert job.get_status() == "finished"  # nothing scheduled: a retry would fail the same


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(subject=st.text(max_size=600), name=st.text(max_size=200))
def test_any_subject_or_name_makes_one_header_each(app_context, subject, name):
    """Generated text in the subject and the display name never adds or breaks a header,
    and comes back as typed (on one line).

    The name is decoded by the RFC 2047 decoder (``email.header``): Python 3.11's
    ``policy.default`` parser adds a space between the encoded words of a folded display
    name, where RFC 2047 (6.2) and mail readers ignore it.
    """
    message = compose(to_email="agent@test.example", to_name=name, subject=subject, body="x")
    raw = message.as_bytes()
    reparsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert {key.lower() for key in reparsed} == EXPECTED_HEADERS - {"message-id"}
    assert reparsed["Subject"] == one_line(subject)
    assert [a.addr_spec for a in reparsed["To"].addresses] == ["agent@test.example"]
    display_name, address = email.utils.parseaddr(email.message_from_bytes(raw)["To"])
    assert address == "agent@test.example"
    assert str(make_header(decode_header(display_name))) == one_line(name)
    assert max(len(line) for line in raw.split(b"\r\n\r\n")[0].split(b"\r\n")) <= 998
