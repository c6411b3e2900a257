"""Sending queued notifications. Safe to run twice: a sent notification is never resent."""

import smtplib
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.mail import mail_configured, send_mail
from helpdesk.models import Notification
from helpdesk.models.timestamps import utcnow
from helpdesk.services.notifications import RETRY_INTERVALS, dispatch

STALLED_AFTER = timedelta(minutes=2)


def send_notification(notification_id):
    """Send one notification; raise on a mail failure so RQ retries it with back-off."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.state in ("sent", "skipped", "failed"):
        return notification.state if notification else "missing"
    if not mail_configured():
        notification.state, notification.last_error = "skipped", "SMTP_HOST is not set"
        db.session.commit()
        return notification.state
    notification.attempts += 1
    db.session.commit()
    try:
        send_mail(**_message(notification))
    except (smtplib.SMTPException, OSError) as error:
        notification.last_error = f"{type(error).__name__}: {error}"[:2000]
        if notification.attempts > len(RETRY_INTERVALS):
            notification.state = "failed"  # RQ moves the job to the failed registry too
        db.session.commit()
        raise
    notification.state, notification.sent_at, notification.last_error = "sent", utcnow(), None
    db.session.commit()
    return notification.state


def _message(notification):
    """The assignee's message: who wrote, on which ticket, the text, and the link."""
    reply, ticket = notification.reply, notification.reply.ticket
    link = f"{current_app.config['PUBLIC_URL'].rstrip('/')}/tickets/{ticket.id}"
    return {
        "to": notification.recipient.email,
        "subject": f"[{ticket.number}] {reply.author.name} replied: {ticket.subject}",
        "body": f"{reply.author.name} wrote on {ticket.number}:\n\n{reply.body}\n\n{link}\n",
    }


def dispatch_stalled():
    """Periodic sweep: re-enqueue notifications still queued a while after they were made."""
    cutoff = utcnow() - STALLED_AFTER
    stalled = db.session.scalars(select(Notification.id).where(
        Notification.state == "queued", Notification.created_at < cutoff,
        Notification.attempts == 0)).all()
    dispatch(stalled)
    return len(stalled)
