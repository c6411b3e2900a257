"""Sending account mail (``services.outgoing_mail``), and the sweep for rows left behind.

Both are safe to run twice and on two workers at once: only the worker that claims a row
sends it (``services.outbox``).
"""

import logging

from helpdesk.mail import MESSAGE_ERRORS, compose, deliver, mail_configured, sender_domain
from helpdesk.models.timestamps import utcnow
from helpdesk.services.outbox import describe
from helpdesk.services.outgoing_mail import OUTBOX
from helpdesk.services.password_reset import message_for
from jobs.notifications import SENDING_TIMEOUT, STALLED_AFTER

log = logging.getLogger(__name__)


def send_mail(mail_id):
    """Send one account message if this run claims it; returns the row's state."""
    return OUTBOX.send(mail_id, _send)


def _send(mail):
    """Deliver, keep or withhold the message: the state to record and the row's fields."""
    recipient = mail.recipient
    if not recipient.is_active:
        return "withheld", {"error": "the recipient's account is disabled"}
    subject, body = message_for(mail)
    if not mail_configured():
        log.warning("SMTP_HOST is not set: %s mail %s to %s kept for /admin/mail",
                    mail.kind, mail.id, recipient.email)
        return "kept", {"error": "SMTP_HOST is not set", "subject": subject, "body": body}
    try:
        message = compose(to_email=recipient.email, to_name=recipient.name, subject=subject,
                          body=body, message_id=f"<mail.{mail.id}@{sender_domain()}>")
    except MESSAGE_ERRORS as error:
        return "failed", {"error": f"the message cannot be built: {describe(error)}"}
    deliver(message)
    return "sent", {}


def dispatch_stalled():
    """Periodic sweep: a new send job for rows whose job will not run, and for rows a dead
    worker left ``sending``. Returns how many were dispatched."""
    now = utcnow()
    return OUTBOX.dispatch_left_behind(claimed_before=now - SENDING_TIMEOUT,
                                       created_before=now - STALLED_AFTER)
