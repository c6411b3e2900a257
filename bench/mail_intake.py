"""Mail intake throughput (issue 12): messages per second through the intake service.

``MESSAGES`` generated messages from ``SUBSCRIBERS`` customers, half of them new (each
opens a ticket), half threaded replies (each answers the message before it by
``In-Reply-To``/``References``, with a quoted history to cut), are handed one by one to
``services.mail_intake.take_in``, as ``flask mail intake`` and the IMAP fetch hand them:
stored, read, matched to a customer and a thread, and applied through ``open_ticket`` and
``add_reply`` (search index, SLA clock, routing, notifications, tallies, rollups), each in
its commits. Each message is timed alone; IMAP itself is not (its cost is the server's).

Every message makes a ticket or reply, so the run goes into a scratch database beside the
bench's (as the PSA pull's does, ``bench.psa_pull``), migrated first and dropped after.
"""

import statistics
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from bench import database, psa_pull

MESSAGES = 500
SUBSCRIBERS = 50
SUFFIX = "_mail_intake"
PASSWORD = "bench-mail-password"  # noqa: S105 - the scratch customers' own, never used
QUOTE = ("\n\nOn Tue, 24 Nov 2026 at 10:00, Help Desk <desk@bench.example> wrote:\n"
         "> Thanks for the report. Could you check whether it is stable now?\n>\n"
         "> Help Desk\n")


@dataclass
class Intake:
    """One timed intake: messages in, tickets and replies made, in how long."""

    messages: int
    tickets: int
    replies: int
    seconds: float
    p50_ms: float
    p95_ms: float

    @property
    def per_second(self):
        return self.messages / self.seconds if self.seconds else 0.0


def _message(number, sender, *, answers=None):
    """Message ``number`` from ``sender``: new, or the answer to message ``answers``."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "Help Desk <desk@bench.example>"
    mail["Date"] = formatdate()
    mail["Message-ID"] = f"<bench-{number}@customer.example>"
    if answers is None:
        mail["Subject"] = f"Line {number} drops every evening"
        mail.set_content(f"Since Monday line {number} drops around 8 pm for a few minutes.\n"
                         "The router lights stay green.\n\nRegards")
    else:
        mail["Subject"] = f"Re: Line {answers} drops every evening"
        mail["In-Reply-To"] = f"<bench-{answers}@customer.example>"
        mail["References"] = f"<bench-{answers}@customer.example>"
        mail.set_content("Still dropping tonight, at 8:10 and 8:40." + QUOTE)
    return mail.as_bytes()


def messages_for(senders, count):
    """``count`` messages: even ones new, odd ones answering the message before them."""
    return [_message(n, senders[(n // 2) % len(senders)], answers=n - 1 if n % 2 else None)
            for n in range(count)]


def _percentile(values, share):
    """The value ``share`` of the way up the sorted ``values`` (0.95: the p95)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def intake_throughput(url, *, make_app, messages=MESSAGES):
    """Set up the scratch database, time ``messages`` through the intake, drop it: an
    ``Intake``. ``make_app(url)``: the app on a database URL (the bench's own factory)."""
    from sqlalchemy import func, select

    from helpdesk.extensions import db
    from helpdesk.models import Reply, Ticket
    from helpdesk.services import accounts, mail_intake, organisations

    scratch = psa_pull.scratch_url(url, suffix=SUFFIX)
    psa_pull.recreate_scratch(scratch)
    app = make_app(scratch)
    # The scratch customers' passwords are never checked: hash them the cheapest way.
    app.config.update({"PASSWORD_HASH_PROFILE": "CHEAPEST",
                       "MAIL_FROM": "Help Desk <desk@bench.example>"})
    try:
        database.migrate(app)
        with app.app_context():
            reseller = organisations.create_reseller("Bench Mail")
            senders = [accounts.create_user(
                email=f"mail{n}@customer.example", name=f"Mail Customer {n}",
                role="subscriber", password=PASSWORD, reseller=reseller).email
                for n in range(SUBSCRIBERS)]
            raw_messages = messages_for(senders, messages)
            timings = []
            started = time.perf_counter()
            for raw in raw_messages:
                before = time.perf_counter()
                row = mail_intake.take_in(raw, source="mta")
                timings.append((time.perf_counter() - before) * 1000)
                if row.state != "processed":
                    raise RuntimeError(f"bench message not taken in: {row.state} {row.reason}")
            seconds = time.perf_counter() - started
            tickets = db.session.scalar(select(func.count()).select_from(Ticket))
            replies = db.session.scalar(select(func.count()).select_from(Reply))
            db.session.remove()
        return Intake(messages=messages, tickets=tickets, replies=replies, seconds=seconds,
                      p50_ms=statistics.median(timings), p95_ms=_percentile(timings, 0.95))
    finally:
        with app.app_context():
            db.engine.dispose()
        psa_pull.drop_scratch(scratch)


def intake_table(run):
    """The intake's figures as a Markdown table."""
    if run is None:
        return "(not measured in this run)"
    return "\n".join([
        "| messages | new tickets | threaded replies | seconds | messages per second "
        "| p50 ms a message | p95 ms a message |",
        "|--:|--:|--:|--:|--:|--:|--:|",
        f"| {run.messages:,} | {run.tickets:,} | {run.replies:,} | {run.seconds:,.1f} "
        f"| {run.per_second:,.1f} | {run.p50_ms:,.1f} | {run.p95_ms:,.1f} |"])
