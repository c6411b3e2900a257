"""Which ticket a received message answers.

First by the Message-IDs it answers (``In-Reply-To``, then ``References``, newest first): a
ticket's thread id or one of its notifications' ids (``helpdesk.notification_mail``), or a
message we received earlier for that ticket. Mail clients keep those headers on a reply.
Outlook and some webmails drop them: then the ticket number in brackets in the subject
(``[TKT-1042]``), which every notification's subject carries.

Finding a ticket is not yet landing on it: the intake asks ``access.may`` whether the sender
may comment on it (``services.mail_intake``).
"""

import re
from dataclasses import dataclass

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import InboundMessage, Notification, Ticket
from helpdesk.models.ticket import number_prefix
from helpdesk.services.mail_reading import OUR_MESSAGE_ID


@dataclass(frozen=True)
class Thread:
    """The ticket a message answers and how we know (``"headers"`` or ``"tag"``)."""

    ticket: Ticket
    found_by: str


def thread_of(mail, *, our_domain):
    """The ``Thread`` of an ``IncomingMail``, or None when it answers no ticket we know."""
    for message_id in mail.references:
        ticket_id = _ticket_id_of(message_id, our_domain=our_domain)
        ticket = db.session.get(Ticket, ticket_id) if ticket_id else None
        if ticket is not None and ticket.deleted_at is None:
            return Thread(ticket, "headers")
    ticket_id = tagged_ticket_id(mail.subject)
    ticket = db.session.get(Ticket, ticket_id) if ticket_id else None
    if ticket is not None and ticket.deleted_at is None:
        return Thread(ticket, "tag")
    return None


def tagged_ticket_id(subject):
    """The id in a ``[TKT-1042]`` tag of a subject (the configured prefix), or None."""
    prefix = re.escape(number_prefix())
    found = re.search(rf"\[\s*{prefix}(\d{{1,12}})\s*\]", subject or "", re.IGNORECASE)
    return int(found.group(1)) if found else None


def _ticket_id_of(message_id, *, our_domain):
    """The ticket a Message-ID belongs to: one of ours (a thread or a notification), or one
    we received for a ticket; None when it is neither."""
    ours = OUR_MESSAGE_ID.fullmatch(message_id)
    if ours and ours.group(3).lower() == our_domain.lower():
        kind, numbers = ours.group(1).lower(), ours.group(2).split(".")
        if kind == "ticket" and numbers[0].isdigit():
            return int(numbers[0])
        if kind == "notification" and numbers[0].isdigit():
            notification = db.session.get(Notification, int(numbers[0]))
            if notification is not None and _same_time(notification, numbers):
                return notification.ticket_id
        return None
    return db.session.scalar(select(InboundMessage.ticket_id).where(
        InboundMessage.message_key == message_id, InboundMessage.ticket_id.isnot(None)))


def _same_time(notification, numbers):
    """A notification's Message-ID carries its creation time: a guessed id with the right
    number but not the right time is not ours (no one else's ticket is found by counting)."""
    return len(numbers) == 2 and numbers[1] == str(int(notification.created_at.timestamp()))
