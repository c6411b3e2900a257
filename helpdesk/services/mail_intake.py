"""Email to tickets: a received message becomes a ticket or a reply, once.

Two steps, so that a message is never lost and never acted on twice:

1. ``receive`` stores the raw message as an ``InboundMessage`` (state ``received``) and
   commits. Its ``message_key`` (the Message-ID, or a hash of the bytes) is unique: the same
   message received again (a fetch run twice, or cut short and run again) finds its row.
2. ``process`` decides (``services.mail_reading``, ``mail_threads``, ``mail_senders``) and
   acts through the desk's own services, ``replies.add_reply`` and ``tickets.open_ticket``,
   so every rule (access, status, notifications, attachments' cap) is the one the pages
   use. The row's state moves in the same commit as the ticket or reply it makes: the claim
   is a conditional UPDATE in that transaction (another process acting on the same row
   waits for it, then finds it settled), and the new ticket's or reply's id is written into
   the row as the service flushes it (``_linked``).

What a message becomes:
- mail a machine wrote (auto-replies, bounces, our own mail come back): ``ignored``, with the
  reason; never a ticket or a reply;
- a reply to a ticket (``mail_threads``) from a customer who may comment on it: a public
  reply by them, its quoted history cut;
- anything else from an active customer: a new ticket of theirs (a tag of a ticket they may
  not reply to, or a closed one, is noted for staff);
- from anyone else: a ticket of the unknown-sender placeholder (``mail_senders``), for staff
  to attach to a customer;
- a message that cannot be read or applied: ``failed`` with the error, kept with its bytes
  for admins (/admin/mail/inbound: retry or discard), never dropped.

Files over the attachment cap are left out with a note to staff, and the message's bytes are
kept (so nothing the customer sent is lost); the text still lands.
"""

import io
import logging
from contextlib import contextmanager
from email.utils import parseaddr

from flask import current_app
from sqlalchemy import event, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage

from helpdesk.access import can_see, may
from helpdesk.extensions import db
from helpdesk.mail import sender_domain
from helpdesk.models import Category, InboundMessage, Reply, Ticket
from helpdesk.models.inbound_message import PENDING_STATES
from helpdesk.models.timestamps import utcnow
from helpdesk.services import audit, mail_reading, mail_senders, mail_threads
from helpdesk.services.attachments import max_attachment_bytes
from helpdesk.services.replies import MAX_BODY_LENGTH, add_reply
from helpdesk.services.tickets import MAX_SUBJECT_LENGTH, open_ticket

log = logging.getLogger(__name__)

NO_SUBJECT = "(no subject)"
NO_TEXT = "(No text: see the attached files.)"
EMPTY = "(An empty message.)"


class IntakeError(Exception):
    """An admin's request the intake cannot do (retry a message that has not failed...)."""


def receive(raw, *, source, received_at=None):
    """Store one raw message (``bytes``) unless it is there already; ``(row, new)``.
    ``received_at``: when it came (default now; the demo's messages came earlier).

    Commits before returning: a fetch marks the message seen in the mailbox only after this.
    """
    key = mail_reading.message_key(raw)
    existing = _by_key(key)
    if existing is not None:
        return existing, False
    sender, subject = mail_reading.summary(raw)
    row = InboundMessage(message_key=key, source=source, state="received", raw=raw,
                         size=len(raw), from_address=sender, subject=subject,
                         received_at=received_at or utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:  # stored by another process a moment ago
        return _by_key(key), False
    db.session.commit()
    return row, True


def take_in(raw, *, source, received_at=None):
    """``receive`` then ``process``: the MTA's way in (``flask mail intake``). The row."""
    row, _new = receive(raw, source=source, received_at=received_at)
    return process(row.id)


def process(inbound_id):
    """Act on one stored message unless it was acted on already; returns its row as the
    database has it now."""
    row = db.session.get(InboundMessage, inbound_id)
    if row is None or row.state not in PENDING_STATES:
        return row
    try:
        mail = mail_reading.read(row.raw)
    except mail_reading.UnreadableMail as error:
        return _settle(inbound_id, state="failed", reason=str(error))
    reason = mail_reading.why_ignored(mail, our_domain=sender_domain(),
                                      our_address=parseaddr(current_app.config["MAIL_FROM"])[1])
    if reason is not None:
        return _settle(inbound_id, state="ignored", reason=reason)
    try:
        return _apply(inbound_id, mail, at=row.received_at)
    except Exception as error:  # whatever went wrong, the message is kept
        db.session.rollback()
        log.warning("inbound message %s failed: %s", inbound_id, error, exc_info=True)
        return _settle(inbound_id, state="failed", reason=f"{type(error).__name__}: {error}")


def process_left_behind(*, limit=100):
    """Act on messages stored but never acted on (a run stopped between the two steps);
    returns their rows."""
    ids = db.session.scalars(select(InboundMessage.id).where(
        InboundMessage.state == "received").order_by(InboundMessage.id).limit(limit)).all()
    return [process(inbound_id) for inbound_id in ids]


def _apply(inbound_id, mail, *, at):
    """Land the message as a reply or a new ticket (see the module docstring), dated when
    it was received (``at``): a message retried later still reads where it came."""
    customer = mail_senders.customer_of(mail.sender)
    thread = mail_threads.thread_of(mail, our_domain=sender_domain())
    files, notes = _within_cap(mail.files)
    if thread is not None:
        ticket = thread.ticket
        if customer is not None and may(customer, "comment", ticket):
            return _reply(inbound_id, mail, ticket=ticket, author=customer, files=files,
                          notes=notes, at=at)
        if customer is not None and can_see(customer, ticket):
            notes.append(f"It answers {ticket.number}, which is closed: it opened a new "
                         "ticket.")
        else:
            notes.append(f"It names {ticket.number}, which the sender may not reply to: it "
                         "opened a new ticket.")
    return _new_ticket(inbound_id, mail, customer=customer, files=files, notes=notes, at=at)


def _reply(inbound_id, mail, *, ticket, author, files, notes, at):
    """The message as the customer's public reply on ``ticket``."""
    body = _body(mail.reply_text, files=files, notes=notes)
    with _claimed(inbound_id, notes=notes, unknown=False) as claimed:
        if claimed:
            add_reply(ticket, author=author, body=body, files=_uploads(files), created_at=at)
    return _fresh(inbound_id)


def _new_ticket(inbound_id, mail, *, customer, files, notes, at):
    """A ticket for the customer, or for the unknown-sender placeholder."""
    opened_by = None
    subscriber = customer
    body = _body(mail.text, files=files, notes=notes)
    if customer is None:
        subscriber, opened_by = mail_senders.unknown_sender(), mail_senders.desk_user()
        # The ticket's author reads "Email": say who wrote, as their mail client did.
        name = mail.sender_name.replace("*", "").replace("_", " ")
        body = f"Email from {name} <{mail.sender}>:\n\n{body}" if name else \
            f"Email from <{mail.sender}>:\n\n{body}"
    subject = mail.subject[:MAX_SUBJECT_LENGTH] or NO_SUBJECT
    category = _category()
    with _claimed(inbound_id, notes=notes, unknown=customer is None) as claimed:
        if claimed:
            open_ticket(subscriber=subscriber, subject=subject, body=body, category=category,
                        opened_by=opened_by, files=_uploads(files), created_at=at)
    return _fresh(inbound_id)


@contextmanager
def _claimed(inbound_id, *, notes, unknown):
    """Claim the row as ``processed`` in the transaction the block commits, and write the
    ticket or reply the block makes into it. Yields False (the block does nothing) when the
    row was settled meanwhile."""
    keep_raw = bool(notes)
    values = {"state": "processed", "processed_at": utcnow(), "reason": None,
              "attempts": InboundMessage.attempts + 1, "unknown_sender": unknown,
              "notes": "\n".join(notes) or None}
    if not keep_raw:
        values["raw"] = None
    claimed = db.session.execute(
        update(InboundMessage)
        .where(InboundMessage.id == inbound_id, InboundMessage.state.in_(PENDING_STATES))
        .values(**values).execution_options(synchronize_session=False)).rowcount
    if not claimed:
        db.session.rollback()
        yield False
        return
    with _linked(inbound_id):
        yield True


@contextmanager
def _linked(inbound_id):
    """Write the first ticket or reply flushed inside the block into the row, in the same
    flush (and so the same commit)."""
    session = db.session()
    done = []

    def link(flushed, _context):
        if done:
            return
        for made in flushed.new:
            if isinstance(made, Reply):
                values = {"reply_id": made.id, "ticket_id": made.ticket_id}
            elif isinstance(made, Ticket):
                values = {"ticket_id": made.id}
            else:
                continue
            flushed.connection().execute(update(InboundMessage).where(
                InboundMessage.id == inbound_id).values(**values))
            done.append(values)
            return

    event.listen(session, "after_flush", link)
    try:
        yield
    finally:
        event.remove(session, "after_flush", link)


def _settle(inbound_id, *, state, reason):
    """Record that a pending message was ignored or failed (with the bytes kept)."""
    db.session.execute(
        update(InboundMessage)
        .where(InboundMessage.id == inbound_id, InboundMessage.state.in_(PENDING_STATES))
        .values(state=state, reason=reason.replace("\x00", "")[:4000], processed_at=utcnow(),
                attempts=InboundMessage.attempts + 1)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return _fresh(inbound_id)


def _fresh(inbound_id):
    """The row as the database has it now (not as this session last read it)."""
    return db.session.scalar(select(InboundMessage).where(InboundMessage.id == inbound_id)
                             .execution_options(populate_existing=True))


def _by_key(key):
    """The stored message with this unique key, or None."""
    return db.session.scalar(select(InboundMessage).where(InboundMessage.message_key == key))


def _within_cap(files):
    """The files within the attachment cap, and a note for staff on each one left out."""
    cap = max_attachment_bytes()
    kept, notes = [], []
    for mail_file in files:
        if len(mail_file.data) > cap:
            notes.append(
                f"{mail_file.filename} ({_megabytes(len(mail_file.data))}) was not attached: "
                f"it is larger than the {_megabytes(cap)} limit for one attachment. The "
                "message is kept whole: admins download it from Incoming mail "
                "(/admin/mail/inbound).")
        else:
            kept.append(mail_file)
    return kept, notes


def _megabytes(size):
    """A size as staff read it in a note: ``30.0 MB``."""
    return f"{size / (1024 * 1024):.1f} MB"


def _body(text, *, files, notes):
    """The reply's or ticket's text: what was written (within the length limit), or a word
    on why there is none."""
    text = text.strip()
    if len(text) > MAX_BODY_LENGTH:
        notes.append(f"The text was cut to {MAX_BODY_LENGTH:,} characters.")
        text = text[:MAX_BODY_LENGTH]
    if text:
        return text
    return NO_TEXT if files else EMPTY


def _uploads(files):
    """The files as the attachments service takes them (as from a form)."""
    return [FileStorage(stream=io.BytesIO(f.data), filename=f.filename,
                        content_type=f.content_type) for f in files]


def _category():
    """``MAIL_INTAKE_CATEGORY`` by name if active, else the first active category."""
    name = current_app.config.get("MAIL_INTAKE_CATEGORY")
    category = db.session.scalar(select(Category).where(
        Category.name == name, Category.active.is_(True))) if name else None
    return category or db.session.scalar(select(Category).where(
        Category.active.is_(True)).order_by(Category.position).limit(1))


def retry(inbound_id, *, actor):
    """An admin tries a failed message again; returns its row."""
    row = db.session.get(InboundMessage, inbound_id)
    if row is None or row.state != "failed":
        raise IntakeError("Only a message that failed can be tried again.")
    audit.record("mail.retry", actor=actor, field="inbound", new=inbound_id)
    db.session.commit()
    return process(inbound_id)


def discard(inbound_id, *, actor):
    """An admin gives up on a failed message: ``discarded`` (the row and bytes stay)."""
    discarded = db.session.execute(
        update(InboundMessage)
        .where(InboundMessage.id == inbound_id, InboundMessage.state == "failed")
        .values(state="discarded", processed_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if not discarded:
        db.session.rollback()
        raise IntakeError("Only a message that failed can be discarded.")
    audit.record("mail.discard", actor=actor, field="inbound", new=inbound_id)
    db.session.commit()
    return _fresh(inbound_id)

