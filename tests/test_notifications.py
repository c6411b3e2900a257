"""Notifications: a customer's reply reaches the assignee by mail, once, through the outbox,
and only while the assignee may read it.

The mail server is real: aiosmtpd listening on loopback. What reached it is checked in its
mailbox, raw headers included.
"""

import email
import email.policy
import email.utils
import smtplib
import socket
import threading
from datetime import timedelta
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rq.job import Job
from sqlalchemy import select, text

from helpdesk.extensions import db
from helpdesk.mail import compose, one_line
from helpdesk.models import Category, Notification, Reply, Ticket, User
from helpdesk.queues import get_queue, get_redis
from helpdesk.services import accounts, replies, tickets
from helpdesk.services.notifications import MAX_ATTEMPTS, claim, send_job_id
from jobs.notifications import dispatch_stalled, send_notification
from jobs.worker import make_worker

# What our notification mail carries; anything else in the raw headers was injected.
EXPECTED_HEADERS = {"from", "to", "subject", "date", "message-id", "auto-submitted",
                    "content-type", "content-transfer-encoding", "mime-version"}


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


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_mail_server(app, handler):
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, SMTP_STARTTLS=False,
                      MAIL_FROM="Help Desk <desk@test.example>",
                      PUBLIC_URL="https://desk.test.example")
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
    """Alice's ticket, assigned to the agent."""
    with app.app_context():
        ticket = db.session.get(Ticket, world.tickets["alice"])
        tickets.assign(ticket, db.session.get(User, world.users["agent"]),
                       actor=db.session.get(User, world.users["admin"]))
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
    body = message.get_content()
    assert "It is down again" in body
    assert f"https://desk.test.example/tickets/{assigned}" in body
    notification = row(app, notification_id)
    assert (notification.state, notification.attempts) == ("sent", 1)
    assert notification.sent_at is not None and notification.last_error is None
    with app.app_context():
        assert send_notification(notification_id) == "sent"  # delivered twice by RQ: no-op
    assert len(inbox.messages) == 1
    assert row(app, notification_id).attempts == 1


def test_only_customer_replies_on_assigned_tickets_notify(app, world, inbox):
    """Staff replies, notes and unassigned tickets queue nothing."""
    with app.app_context():
        before = db.session.scalar(select(db.func.count(Notification.id)))
    customer_writes(app, world, world.tickets["alice"])  # her own ticket, not yet assigned
    with app.app_context():
        agent = db.session.get(User, world.users["agent"])
        ticket = db.session.get(Ticket, world.tickets["alice"])
        tickets.assign(ticket, agent, actor=agent)
        replies.add_reply(ticket, author=agent, body="Staff answer")
        replies.add_reply(ticket, author=agent, body="A note", internal=True)
        assert db.session.scalar(select(db.func.count(Notification.id))) == before


def test_without_a_mail_server_notifications_are_skipped(app, world, assigned):
    """No SMTP_HOST: recorded as skipped with the reason, nothing raised."""
    app.config["SMTP_HOST"] = None
    notification_id = customer_writes(app, world, assigned)
    run_worker(app)
    notification = row(app, notification_id)
    assert (notification.state, notification.last_error) == ("skipped", "SMTP_HOST is not set")


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
                             reply_id=reply.id, recipient_id=world.users["alice"])
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
    assert "Public answer from support" in inbox.messages[0].get_content()


# Headers are built, never injected --------------------------------------------------------

def open_assigned_ticket(app, world, subject):
    """Alice opens a ticket with ``subject``; the agent is assigned. Returns its id."""
    with app.app_context():
        category = db.session.scalars(select(Category).order_by(Category.position)).first()
        ticket = tickets.open_ticket(subscriber=db.session.get(User, world.users["alice"]),
                                     subject=subject, body="Help", category=category)
        tickets.assign(ticket, db.session.get(User, world.users["agent"]),
                       actor=db.session.get(User, world.users["admin"]))
        return ticket.id


def test_a_subject_with_line_breaks_arrives_on_one_line(app, world, inbox):
    """CR/LF and other control characters in a subject become spaces: no header is added."""
    subject = "Router down\r\nBcc: mallory@evil.example\nX-Injected: yes\x1b[31m\x85\u2028end"
    ticket_id = open_assigned_ticket(app, world, subject)
    notification_id = customer_writes(app, world, ticket_id)
    run_worker(app)
    assert row(app, notification_id).state == "sent"
    assert inbox.recipients == [["agent@test.example"]]  # an injected Bcc would add one
    headers = raw_headers(inbox.raw[0])
    assert {name.lower() for name, _ in headers} == EXPECTED_HEADERS
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
        job = Job.fetch(send_job_id(notification_id), connection=get_redis())
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


# Claimed once, sent once -------------------------------------------------------------------

def test_a_claimed_notification_is_not_claimed_or_sent_again(app, world, assigned, inbox):
    """While one worker holds the row, a second run (RQ delivering twice) leaves it alone."""
    notification_id = customer_writes(app, world, assigned)
    with app.app_context():
        first = claim(notification_id)
        assert first is not None and first.attempt == 1
        assert claim(notification_id) is None
        assert send_notification(notification_id) == "sending"
    assert inbox.messages == []
    assert row(app, notification_id).attempts == 1


@pytest.mark.committed
def test_workers_sending_at_once_send_one_message(app, world, assigned, inbox):
    """Four workers run the same jobs at the same moment: each message goes out once.

    Each worker is a thread with its own app context, session and database connection, so it
    needs the rows committed where other connections see them.
    """
    notification_ids = [customer_writes(app, world, assigned, body=f"Still down ({n})")
                        for n in range(3)]
    start = threading.Barrier(4)
    results, errors = [], []

    def worker():
        start.wait()
        for notification_id in notification_ids:
            try:
                with app.app_context():
                    results.append(send_notification(notification_id))
            except Exception as error:  # noqa: BLE001 - reported by the assertion below
                errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(inbox.messages) == 3
    assert sorted(m.get_content().splitlines()[2] for m in inbox.messages) == [
        "Still down (0)", "Still down (1)", "Still down (2)"]
    for notification_id in notification_ids:
        notification = row(app, notification_id)
        assert (notification.state, notification.attempts) == ("sent", 1)


@pytest.mark.committed
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_claim_waits_for_another_workers_claim(app, world, assigned):
    """PostgreSQL: a claim blocked on another worker's uncommitted claim then finds it taken.

    The other worker is a second connection holding the row's lock; this needs the row
    committed where that connection sees it.
    """
    notification_id = customer_writes(app, world, assigned)
    claimed = []
    with app.app_context(), db.engine.connect() as other_worker:
        other_worker.execute(text(
            "UPDATE notifications SET state = 'sending', attempts = attempts + 1"
            " WHERE id = :id AND state = 'queued'"), {"id": notification_id})

        def second_worker():
            with app.app_context():
                claimed.append(claim(notification_id))

        thread = threading.Thread(target=second_worker)
        thread.start()
        waiting_on_the_lock = text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND query LIKE 'UPDATE notifications%'")
        with db.engine.connect() as observer:
            while not observer.execute(waiting_on_the_lock).scalar():
                assert thread.is_alive(), "the second claim did not wait for the first"
                observer.rollback()  # a fresh snapshot of pg_stat_activity
        other_worker.commit()
        thread.join()
    assert claimed == [None]
    assert row(app, notification_id).attempts == 1


# Failures are recorded; transient ones retried ----------------------------------------------

def test_a_dead_mail_server_is_retried_not_dropped(app, world, assigned):
    """The failure is recorded and the job scheduled again with back-off."""
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_STARTTLS=False)
    notification_id = customer_writes(app, world, assigned)
    run_worker(app)
    notification = row(app, notification_id)
    assert notification.state == "queued" and notification.attempts == 1
    assert "ConnectionRefusedError" in notification.last_error
    with app.app_context():
        job = Job.fetch(send_job_id(notification_id), connection=get_redis())
        assert job.get_status() == "scheduled"
        assert job.retries_left == 4


@pytest.fixture(params=["refusing", "closed port"])
def unwilling_mail_server(request, app):
    """A mail server that answers every message with 451, or nothing listening at all."""
    if request.param == "closed port":
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_STARTTLS=False)
        yield "ConnectionRefusedError"
        return
    controller = start_mail_server(app, Inbox(refusal="451 4.3.0 Try again later"))
    yield "451"
    controller.stop()


def test_every_failed_attempt_is_recorded_then_the_last_fails(app, world, assigned,
                                                              unwilling_mail_server):
    """Queued with the error after each attempt, attempts counted; failed after the last."""
    notification_id = customer_writes(app, world, assigned)
    run_worker(app)  # the first attempt, by the worker
    for attempt in range(1, MAX_ATTEMPTS + 1):
        if attempt > 1:  # the retries, as RQ would run them after the back-off
            with app.app_context(), pytest.raises((smtplib.SMTPException, OSError)):
                send_notification(notification_id)
        notification = row(app, notification_id)
        assert notification.attempts == attempt
        assert unwilling_mail_server in notification.last_error
        assert notification.state == ("failed" if attempt == MAX_ATTEMPTS else "queued")
    with app.app_context():
        assert send_notification(notification_id) == "failed"
    assert row(app, notification_id).attempts == MAX_ATTEMPTS


# The sweep picks up what was left behind ---------------------------------------------------

def test_sweep_requeues_what_redis_missed(app, world, assigned, inbox):
    """A notification left queued (Redis was away) is sent by the periodic sweep."""
    notification_id = customer_writes(app, world, assigned)
    with app.app_context():
        get_queue("notifications").empty()  # as if the enqueue never reached Redis
        notification = db.session.get(Notification, notification_id)
        notification.created_at -= timedelta(minutes=5)
        db.session.commit()
        assert dispatch_stalled() == 1
    run_worker(app)
    assert len(inbox.messages) == 1
    assert row(app, notification_id).state == "sent"


def test_sweep_requeues_a_retry_whose_job_is_gone(app, world, assigned):
    """Queued after a failed attempt, its job lost from Redis: the sweep gives it a new one."""
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_STARTTLS=False)
    notification_id = customer_writes(app, world, assigned)
    run_worker(app)
    with app.app_context():
        notification = db.session.get(Notification, notification_id)
        notification.created_at -= timedelta(minutes=5)
        db.session.commit()
        assert dispatch_stalled() == 0  # its retry is scheduled: nothing to do
        Job.fetch(send_job_id(notification_id), connection=get_redis()).delete()
        assert dispatch_stalled() == 1
    handler = Inbox()
    controller = start_mail_server(app, handler)
    try:
        run_worker(app)
    finally:
        controller.stop()
    assert len(handler.messages) == 1
    assert row(app, notification_id).attempts == 2


def test_sweep_requeues_a_send_whose_worker_died(app, world, assigned, inbox):
    """A row left ``sending`` past the timeout goes back to the queue and is sent."""
    notification_id = customer_writes(app, world, assigned)
    with app.app_context():
        get_queue("notifications").empty()
        assert claim(notification_id) is not None  # the worker that then died
        assert dispatch_stalled() == 0  # a live worker may still be sending
        notification = db.session.get(Notification, notification_id)
        notification.claimed_at -= timedelta(minutes=16)
        db.session.commit()
        assert dispatch_stalled() == 1
    notification = row(app, notification_id)
    assert notification.state == "queued"
    assert notification.last_error == "the worker stopped while sending (no result recorded)"
    run_worker(app)
    assert len(inbox.messages) == 1
    notification = row(app, notification_id)
    assert (notification.state, notification.attempts) == ("sent", 2)


def test_sweep_fails_a_dead_send_with_no_attempts_left(app, world, assigned, inbox):
    """A stalled last attempt is not sent again: failed, with the reason."""
    notification_id = customer_writes(app, world, assigned)
    with app.app_context():
        get_queue("notifications").empty()
        notification = db.session.get(Notification, notification_id)
        notification.attempts = MAX_ATTEMPTS - 1
        db.session.commit()
        assert claim(notification_id).attempt == MAX_ATTEMPTS
        notification = db.session.get(Notification, notification_id)
        notification.claimed_at -= timedelta(minutes=16)
        db.session.commit()
        assert dispatch_stalled() == 0
    run_worker(app)
    assert inbox.messages == []
    notification = row(app, notification_id)
    assert notification.state == "failed"
    assert notification.last_error == "the worker stopped while sending (no result recorded)"
