"""What a notification mail says: its subject, its text and HTML parts (from
``templates/mail/notification.*``), the link to the ticket and the thread it belongs to.

Built at send time from the row's ids, in the recipient's words: a customer reads "Support"
and gets the portal's link, staff and resellers the author's name and the desk's link. Times
are in the recipient's chosen zone (``time_zones.zone_of``). The HTML part is autoescaped; a
reply's HTML is its stored, already sanitised ``body_html`` (``helpdesk.markdown``).

Threading: every mail about a ticket answers the ticket's thread, a stable Message-ID that
no message carries itself (``<ticket.1042@domain>``), in ``In-Reply-To`` and ``References``;
each message has its own Message-ID, the same if it must be sent again.
"""

from dataclasses import dataclass

from flask import current_app, render_template

from helpdesk.mail import sender_domain
from helpdesk.time_zones import exact_time, zone_of

SUBJECTS = {
    "ticket_created": "We received your request: {subject}",
    "public_reply": "New reply: {subject}",
    "customer_reply": "{author} replied: {subject}",
    "assigned": "Assigned to you: {subject}",
    "sla_at_risk": "SLA at risk: {subject}",
    "sla_breached": "SLA breached: {subject}",
}


@dataclass(frozen=True)
class NotificationMail:
    """A notification's message, ready for ``mail.compose``."""

    subject: str
    text: str
    html: str
    message_id: str
    thread_id: str


def notification_mail(notification):
    """The message of one notification row (``models.Notification``)."""
    kind = notification.kind
    if kind not in SUBJECTS:
        raise ValueError(f"unknown notification kind {notification.kind!r}")
    recipient, ticket, reply = notification.recipient, notification.ticket, notification.reply
    customer = recipient.is_customer
    author = None
    if reply is not None:
        author = "Support" if customer and not reply.author.is_customer else reply.author.name
    context = {
        "kind": kind, "recipient": recipient, "ticket": ticket, "reply": reply,
        "author": author, "note": notification.note, "customer": customer,
        "link": ticket_link(ticket, recipient), "opened_for": ticket.opened_by_id is not None,
        "when": exact_time(reply.created_at if reply else notification.created_at,
                           zone_of(recipient)),
    }
    subject = f"[{ticket.number}] " + SUBJECTS[kind].format(subject=ticket.subject,
                                                           author=author or "")
    created = int(notification.created_at.timestamp())
    return NotificationMail(
        subject=subject,
        text=render_template("mail/notification.txt", **context),
        html=render_template("mail/notification.html", subject=subject, **context),
        message_id=f"<notification.{notification.id}.{created}@{sender_domain()}>",
        thread_id=thread_id(ticket),
    )


def thread_id(ticket):
    """The ticket's thread in mail readers: a Message-ID every mail about it answers."""
    return f"<ticket.{ticket.id}@{sender_domain()}>"


def ticket_link(ticket, recipient):
    """Where ``recipient`` reads the ticket: the portal for customers, else the desk.

    Built from ``PUBLIC_URL``: a worker has no request to build from.
    """
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    path = "portal/tickets" if recipient.is_customer else "tickets"
    return f"{base}/{path}/{ticket.id}"
