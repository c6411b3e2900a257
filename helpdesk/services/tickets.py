"""Ticket operations: opening a ticket and adding to its thread."""

from helpdesk.extensions import db
from helpdesk.markdown import RENDERER_VERSION, render_markdown
from helpdesk.models import PRIORITIES, Reply, Ticket
from helpdesk.models.timestamps import utcnow

MAX_SUBJECT_LENGTH = 500


class TicketError(ValueError):
    """A ticket operation was refused; the message says why."""


def open_ticket(*, subscriber, subject, body, category, priority="normal", created_at=None):
    """Open a ticket for ``subscriber``; organisation and reseller come from the subscriber."""
    subject = (subject or "").strip()
    if not subject:
        raise TicketError("A ticket needs a subject.")
    if len(subject) > MAX_SUBJECT_LENGTH:
        raise TicketError(f"The subject can be at most {MAX_SUBJECT_LENGTH} characters.")
    if priority not in PRIORITIES:
        raise TicketError(f"Unknown priority {priority!r}.")
    if not subscriber.is_customer:
        raise TicketError("Tickets are opened for subscribers.")
    now = created_at or utcnow()
    ticket = Ticket(
        subject=subject, body=body or "", body_html=render_markdown(body),
        body_renderer=RENDERER_VERSION, priority=priority, status="open", category=category,
        subscriber=subscriber, organisation=subscriber.organisation,
        reseller=subscriber.reseller, created_at=now, updated_at=now,
    )
    db.session.add(ticket)
    db.session.commit()
    return ticket


def add_reply(ticket, *, author, body, internal=False, created_at=None):
    """Add a public reply or an internal note to a ticket's thread."""
    body = (body or "").strip()
    if not body:
        raise TicketError("A reply needs some text.")
    if internal and author.is_customer:
        raise TicketError("Only staff and resellers write internal notes.")
    now = created_at or utcnow()
    reply = Reply(
        ticket_id=ticket.id, author_id=author.id, body=body, body_html=render_markdown(body),
        body_renderer=RENDERER_VERSION, internal=internal, created_at=now,
    )
    db.session.add(reply)
    if not author.is_customer and not internal and ticket.first_response_at is None:
        ticket.first_response_at = now
    ticket.updated_at = max(ticket.updated_at or now, now)
    db.session.commit()
    return reply
