"""Adding to a ticket's thread: public replies, internal notes and customer comments.

The status rules of DESIGN.md live here:
- a staff or reseller public reply moves the ticket to ``waiting_on_customer`` unless the
  same submission picks another status (with ``FIRST_REPLY_STARTS_WORK``, the first staff
  reply on an ``open`` ticket moves it to ``in_progress`` instead);
- a customer reply moves it to ``open`` (reopening a resolved ticket) and notifies the
  assignee, else the team, else the reseller (``services.notifications``); a staff or
  reseller public reply notifies the subscriber;
- an internal note changes no status by itself;
- resolved and closed need a resolution: a public reply in the same submission;
- customers cannot comment on a closed ticket.

Who may write what is asked of ``helpdesk.access`` first: a public reply needs ``reply``, an
internal note ``internal_note``, a customer's comment ``comment``; choosing a status other than
the one the reply moves to anyway needs ``edit``.
"""

from flask import current_app

from helpdesk import search
from helpdesk.access import may
from helpdesk.extensions import db
from helpdesk.markdown import RENDERER_VERSION, render_markdown
from helpdesk.models import Reply, TimeEntry
from helpdesk.models.time_entry import MAX_MINUTES
from helpdesk.models.timestamps import utcnow
from helpdesk.params import parse_int
from helpdesk.services import audit, psa_outbox, webhooks_out
from helpdesk.services.attachments import store_attachments
from helpdesk.services.notifications import notify, recipients_of_customer_reply
from helpdesk.services.permissions import require
from helpdesk.services.tickets import TicketError, apply_status, mark_activity
from helpdesk.sla import clock as sla_clock

MAX_BODY_LENGTH = 100_000


def add_reply(ticket, *, author, body, internal=False, status=None, minutes=None,
              time_note=None, files=None, created_at=None, origin=None):
    """Add a reply (or internal note), its files and the status change, in one commit.

    Nothing is saved when any part is refused (a file over the cap, say): the reply, its
    files and the status change land together or not at all. Each is written for the PSA
    too (the reply with its minutes as one action), unless it came from there
    (``origin="psa"``).
    """
    customer = author.is_authenticated and author.is_customer
    require(author, _action(internal=internal, customer=customer), ticket)
    body = (body or "").strip()
    if not body:
        raise TicketError("Write a reply first." if not internal else "Write the note first.",
                          field="body")
    if len(body) > MAX_BODY_LENGTH:
        raise TicketError(f"A reply can be at most {MAX_BODY_LENGTH:,} characters.",
                          field="body")
    if customer and status is not None:
        raise TicketError("Customers cannot set the status.", field="status")
    default_status = _status_after(ticket, author=author, internal=internal)
    if status not in (None, default_status) and not may(author, "edit", ticket):
        raise TicketError("You may reply but not set this status.", field="status")
    minutes = _check_minutes(minutes, customer=customer)
    if internal and status in ("resolved", "closed"):
        raise TicketError("A resolution is a public reply: untick Internal note to resolve.",
                          field="status")
    now = created_at or utcnow()
    reply = Reply(
        ticket_id=ticket.id, author_id=author.id, body=body, body_html=render_markdown(body),
        body_renderer=RENDERER_VERSION, internal=internal, created_at=now,
    )
    db.session.add(reply)
    db.session.flush()
    search.index_reply(reply)
    psa_outbox.record(ticket, kind="add_action", key=f"reply-{reply.id}",
                      change={"reply_id": reply.id, "minutes": minutes or 0}, origin=origin)
    try:
        store_attachments(ticket, uploader=author, files=files, reply=reply, origin=origin)
    except TicketError:
        db.session.rollback()  # also removes the files already written
        raise
    audit.record("reply.internal_note" if internal else "reply.public", actor=author,
                 ticket=ticket, new=f"reply {reply.id}")
    if minutes:
        db.session.add(TimeEntry(ticket_id=ticket.id, reply_id=reply.id, user_id=author.id,
                                 minutes=minutes, note=(time_note or "").strip(),
                                 created_at=now))
        audit.record("ticket.time_entry", actor=author, ticket=ticket, field="minutes",
                     new=minutes)
    target = status or default_status
    if target is not None:
        apply_status(ticket, target, actor=author, at=now,
                     resolution_reply=None if internal else reply, origin=origin)
    if not customer and not internal and ticket.first_response_at is None:
        ticket.first_response_at = now
        sla_clock.first_response_met(ticket, at=now, actor=author)
    mark_activity(ticket, at=now, public=not internal)
    _notify_of(reply, ticket, author=author, customer=customer)
    if not internal:
        webhooks_out.record("ticket.replied", ticket, key=f"reply-{reply.id}", at=now,
                            reply=reply)
    db.session.commit()
    return reply


def _notify_of(reply, ticket, *, author, customer):
    """A customer's reply to whoever works the ticket; a staff or reseller public reply to
    the subscriber; an internal note to nobody. The author is never told of their own."""
    if reply.internal:
        return
    if customer:
        recipients = recipients_of_customer_reply(ticket)
        event = "customer_reply"
    else:
        recipients, event = [ticket.subscriber], "public_reply"
    recipients = [person for person in recipients if person.id != author.id]
    notify(event, ticket, recipients, key=f"reply-{reply.id}", reply=reply, actor=author)


def _action(*, internal, customer):
    """The ``may`` action a submission needs: a note, a customer's comment, or a reply."""
    if internal:
        return "internal_note"
    return "comment" if customer else "reply"


def _status_after(ticket, *, author, internal):
    """The status a reply moves the ticket to when the submission picks none."""
    if internal:
        return None
    if author.is_customer:
        return "open"
    if (current_app.config["FIRST_REPLY_STARTS_WORK"] and ticket.status == "open"
            and ticket.first_response_at is None):
        return "in_progress"
    return "waiting_on_customer"


def _check_minutes(minutes, *, customer):
    """Validate a time entry's minutes (None or empty means no entry)."""
    if minutes in (None, "", 0):
        return None
    if customer:
        raise TicketError("Customers do not log time.", field="minutes")
    minutes = parse_int(minutes.strip() if isinstance(minutes, str) else minutes,
                        minimum=1, maximum=MAX_MINUTES)
    if minutes is None:
        raise TicketError(f"Time spent is a whole number of minutes, from 1 to {MAX_MINUTES}.",
                          field="minutes")
    return minutes
