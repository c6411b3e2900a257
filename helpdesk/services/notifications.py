"""Notifications: a message to a person about a ticket, through an outbox
(``services.outbox``): the row is added in the same transaction as the reply that causes it,
so no notification is lost when Redis is briefly away, and ``OUTBOX.dispatch`` enqueues its
send job after the commit (``jobs.notifications``).

Besides the outbox's states (``models.notification``), a notification is ``withheld`` when
the recipient may no longer read it (``why_withheld``, through ``access``) and ``skipped``
without a mail server.
"""

from helpdesk.access import may, visible_replies
from helpdesk.extensions import db
from helpdesk.models import Notification, Reply
from helpdesk.services.outbox import Outbox

OUTBOX = Outbox(Notification, send_job="jobs.notifications.send_notification",
                name="notification")


def notify_assignee_of_customer_reply(ticket, reply):
    """Queue a message to the assignee when a customer writes on their ticket (no commit)."""
    if ticket.assignee_id is None or ticket.assignee_id == reply.author_id:
        return None
    notification = Notification(kind="customer_reply", ticket_id=ticket.id, reply_id=reply.id,
                                recipient_id=ticket.assignee_id)
    db.session.add(notification)
    return notification


def why_withheld(notification):
    """Why the recipient must not get this message now, or None when they may read it.

    Asked at send time, not when the row was written: between the two the recipient may have
    been disabled, lost a permission, or the ticket may have been deleted.
    """
    recipient, reply = notification.recipient, notification.reply
    ticket = reply.ticket
    if not recipient.is_active:
        return "the recipient's account is disabled"
    if ticket.deleted_at is not None:
        return "the ticket was deleted"
    if not may(recipient, "view", ticket):
        return "the recipient may no longer see the ticket"
    readable = visible_replies(recipient, ticket).where(Reply.id == reply.id)
    if db.session.scalar(readable) is None:
        return "the recipient may not read this reply (an internal note)"
    return None
