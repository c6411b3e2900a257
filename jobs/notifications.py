"""Sending queued notifications, and the sweep that finds the ones left behind.

``send_notification`` is enqueued by dotted name from ``helpdesk.services.notifications``
(its ``OUTBOX``, to avoid an import cycle); ``dispatch_stalled`` runs from ``jobs/cron.py``.
Both are safe to run twice, and on two workers at once: only the worker that claims a row
sends it (``services.outbox``).
"""

import logging
from datetime import timedelta

from flask import current_app

from helpdesk.mail import MESSAGE_ERRORS, compose, deliver, mail_configured, sender_domain
from helpdesk.models.timestamps import utcnow
from helpdesk.services.notifications import OUTBOX, why_withheld
from helpdesk.services.outbox import describe
from helpdesk.time_zones import exact_time, zone_of

log = logging.getLogger(__name__)

STALLED_AFTER = timedelta(minutes=2)
# Far longer than one send can take (each SMTP step times out after 20 s, and RQ kills a job
# after 180 s), so a live worker is never overtaken.
SENDING_TIMEOUT = timedelta(minutes=15)


def send_notification(notification_id):
    """Send one notification if this run claims it; returns the row's state. A transient
    failure (the mail server refuses or cannot be reached) is retried by RQ with back-off
    (``Outbox.send``); after the last attempt the row is ``failed``."""
    return OUTBOX.send(notification_id, _send)


def _send(notification):
    """Deliver the message unless it must not go out: the state to record, and why."""
    reason = why_withheld(notification)
    if reason is not None:
        return "withheld", {"error": reason}
    if not mail_configured():
        return "skipped", {"error": "SMTP_HOST is not set"}
    try:
        message = _message(notification)
    except MESSAGE_ERRORS as error:  # permanent: a retry would build the same headers
        log.error("notification %s cannot be built: %s", notification.id, describe(error))
        return "failed", {"error": f"the message cannot be built: {describe(error)}"}
    deliver(message)
    return "sent", {}


def _message(notification):
    """The assignee's message: who wrote, on which ticket and when (in the assignee's zone),
    the text, and the link."""
    if notification.kind != "customer_reply":
        raise ValueError(f"unknown notification kind {notification.kind!r}")
    reply, recipient = notification.reply, notification.recipient
    ticket = reply.ticket
    link = f"{current_app.config['PUBLIC_URL'].rstrip('/')}/tickets/{ticket.id}"
    created = int(notification.created_at.timestamp())
    return compose(
        to_email=recipient.email, to_name=recipient.name,
        subject=f"[{ticket.number}] {reply.author.name} replied: {ticket.subject}",
        body=(f"{reply.author.name} wrote on {ticket.number} at "
              f"{exact_time(reply.created_at, zone_of(recipient))}:\n\n{reply.body}\n\n{link}\n"),
        message_id=f"<notification.{notification.id}.{created}@{sender_domain()}>",
    )


def dispatch_stalled():
    """Periodic sweep: give every notification left behind a new send job.

    Left behind are:
    - rows still ``queued`` ``STALLED_AFTER`` after they were made whose job will not run: the
      enqueue after the commit never reached Redis, or the job is gone (Redis lost it, or it
      ended without settling the row);
    - rows ``sending`` for longer than ``SENDING_TIMEOUT``: their worker died mid-send. They go
      back to ``queued`` (``failed`` when no attempt is left) and are sent again.

    That makes delivery at least once, not exactly once: a worker that dies after the mail
    server accepted the message but before it recorded ``sent`` leaves ``sending``, and the
    message goes out a second time (``services.outbox``).
    Returns how many notifications were dispatched.
    """
    now = utcnow()
    return OUTBOX.dispatch_left_behind(claimed_before=now - SENDING_TIMEOUT,
                                       created_before=now - STALLED_AFTER)

