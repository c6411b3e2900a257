"""Sending queued notifications, and the sweep that finds the ones left behind.

``send_notification`` is enqueued by dotted name from ``helpdesk.services.notifications``
(``SEND_JOB``, to avoid an import cycle); ``dispatch_stalled`` runs from ``jobs/cron.py``.
Both are safe to run twice, and on two workers at once: only the worker that claims a row
sends it.
"""

import logging
from datetime import timedelta

from flask import current_app

from helpdesk.extensions import db
from helpdesk.mail import MESSAGE_ERRORS, compose, deliver, mail_configured, sender_domain
from helpdesk.models import Notification
from helpdesk.models.timestamps import utcnow
from helpdesk.services.notifications import (
    claim,
    dispatch,
    queued_without_a_job,
    retry_later,
    settle,
    take_back_stalled_claims,
    why_withheld,
)
from helpdesk.time_zones import exact_time, zone_of

log = logging.getLogger(__name__)

STALLED_AFTER = timedelta(minutes=2)
# Far longer than one send can take (each SMTP step times out after 20 s, and RQ kills a job
# after 180 s), so a live worker is never overtaken.
SENDING_TIMEOUT = timedelta(minutes=15)


def send_notification(notification_id):
    """Send one notification if this run claims it; returns the row's state.

    A transient failure (the mail server refuses or cannot be reached) is recorded on the row,
    which goes back to ``queued``, and raised so that RQ retries with back-off; after the last
    attempt the row is ``failed``. Any other outcome is final and raises nothing.
    """
    taken = claim(notification_id)
    if taken is None:  # already settled, or another worker is sending it right now
        notification = db.session.get(Notification, notification_id)
        return notification.state if notification else "missing"
    try:
        state, reason = _send(taken.notification)
    except Exception as error:
        state = retry_later(taken, error=_describe(error))
        log.warning("notification %s, attempt %s: %s (now %s)",
                    notification_id, taken.attempt, _describe(error), state)
        raise
    # Not inside the try: once the mail server has the message, a failure to record it must
    # not put the row back for another send (the sweep will, after SENDING_TIMEOUT).
    settle(taken, state=state, error=reason)
    return state


def _send(notification):
    """Deliver the message unless it must not go out: the state to record, and why."""
    reason = why_withheld(notification)
    if reason is not None:
        return "withheld", reason
    if not mail_configured():
        return "skipped", "SMTP_HOST is not set"
    try:
        message = _message(notification)
    except MESSAGE_ERRORS as error:  # permanent: a retry would build the same headers
        log.error("notification %s cannot be built: %s", notification.id, _describe(error))
        return "failed", f"the message cannot be built: {_describe(error)}"
    deliver(message)
    return "sent", None


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
    message goes out a second time. A rare duplicate (with the same Message-ID, which many
    mail readers fold into one) is better than a message silently lost.
    Returns how many notifications were dispatched.
    """
    now = utcnow()
    taken_back = take_back_stalled_claims(now - SENDING_TIMEOUT)
    stalled = sorted(set(taken_back) | set(queued_without_a_job(now - STALLED_AFTER)))
    dispatch(stalled)
    return len(stalled)


def _describe(error):
    """An exception as one line for ``last_error``: its type and message."""
    return f"{type(error).__name__}: {error}"
