"""Sending account mail (``services.outgoing_mail``), and the sweep for rows left behind.

Both are safe to run twice and on two workers at once: only the worker that claims a row
sends it.
"""

import logging

from rq.job import Job

from helpdesk.extensions import db
from helpdesk.mail import MESSAGE_ERRORS, compose, deliver, mail_configured, sender_domain
from helpdesk.models import OutgoingMail
from helpdesk.models.timestamps import utcnow
from helpdesk.queues import get_redis
from helpdesk.services import outgoing_mail
from helpdesk.services.notifications import _PENDING_JOB_STATUSES as PENDING
from helpdesk.services.password_reset import message_for
from jobs.notifications import SENDING_TIMEOUT, STALLED_AFTER

log = logging.getLogger(__name__)


def send_mail(mail_id):
    """Send one account message if this run claims it; returns the row's state.

    Transient failures go back to ``queued`` and are raised for RQ's retry; the rest is final.
    """
    taken = outgoing_mail.claim(mail_id)
    if taken is None:
        mail = db.session.get(OutgoingMail, mail_id)
        return mail.state if mail else "missing"
    try:
        state, fields = _send(taken.mail)
    except Exception as error:
        state = outgoing_mail.retry_later(taken, error=_describe(error))
        log.warning("mail %s, attempt %s: %s (now %s)", mail_id, taken.attempt,
                    _describe(error), state)
        raise
    outgoing_mail.settle(taken, state=state, **fields)
    return state


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
        return "failed", {"error": f"the message cannot be built: {_describe(error)}"}
    deliver(message)
    return "sent", {}


def dispatch_stalled():
    """Periodic sweep: a new send job for rows whose job will not run, and for rows a dead
    worker left ``sending``. Returns how many were dispatched."""
    now = utcnow()
    taken_back = outgoing_mail.take_back_stalled_claims(now - SENDING_TIMEOUT)
    waiting = outgoing_mail.queued_before(now - STALLED_AFTER)
    jobs = Job.fetch_many([outgoing_mail.send_job_id(i) for i in waiting],
                          connection=get_redis())
    orphans = [mail_id for mail_id, job in zip(waiting, jobs, strict=True)
               if job is None or job.get_status(refresh=False) not in PENDING]
    stalled = sorted(set(taken_back) | set(orphans))
    outgoing_mail.dispatch(stalled)
    return len(stalled)


def _describe(error):
    """An exception as one line for ``last_error``: its type and message."""
    return f"{type(error).__name__}: {error}"
