"""Sending queued notifications, and the sweep that finds the ones left behind.

``send_notification`` is enqueued by dotted name from ``helpdesk.services.notifications``
(its ``OUTBOX``, to avoid an import cycle); ``dispatch_stalled`` runs from ``jobs/cron.py``.
Both are safe to run twice, and on two workers at once: only the worker that claims a row
sends it (``services.outbox``).
"""

import logging
from datetime import timedelta

from helpdesk.mail import MESSAGE_ERRORS, compose, deliver, mail_configured
from helpdesk.models.timestamps import utcnow
from helpdesk.notification_mail import notification_mail
from helpdesk.services.notifications import OUTBOX, why_withheld
from helpdesk.services.outbox import describe

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
    """Deliver the message unless it must not go out, or keep it when there is no mail
    server: the state to record, and the row's fields."""
    reason = why_withheld(notification)
    if reason is not None:
        return "withheld", {"error": reason}
    try:
        mail = notification_mail(notification)
        message = compose(
            to_email=notification.recipient.email, to_name=notification.recipient.name,
            subject=mail.subject, body=mail.text, html=mail.html,
            message_id=mail.message_id, thread_id=mail.thread_id)
    except MESSAGE_ERRORS as error:  # permanent: a retry would build the same headers
        log.error("notification %s cannot be built: %s", notification.id, describe(error))
        return "failed", {"error": f"the message cannot be built: {describe(error)}"}
    if not mail_configured():
        log.warning("SMTP_HOST is not set: notification %s to %s kept for /admin/mail",
                    notification.id, notification.recipient.email)
        return "kept", {"error": "SMTP_HOST is not set", "to_email": notification.recipient.email,
                        "subject": mail.subject[:600], "body": mail.text}
    deliver(message)
    return "sent", {}


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

