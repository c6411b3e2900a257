"""Account mail as an outbox, the way notifications are sent (``services.notifications``).

``queue`` adds a row in the caller's transaction; ``dispatch`` enqueues its send job after
the commit (``jobs.mail.send_mail``), and the periodic sweep (``jobs.mail.dispatch_stalled``)
re-enqueues anything left behind. A worker ``claim``s a queued row (one conditional UPDATE,
so two workers never both send it) and ``settle``s it: ``sent``; ``withheld`` when the
recipient is disabled at send time; ``kept`` (the message stored in the row, for admins to
read at /admin/mail) when no mail server is configured; ``failed`` when it cannot be built or
its last attempt failed; or back to ``queued`` for a retry.
"""

import logging
from dataclasses import dataclass

import redis
from rq import Retry
from sqlalchemy import case, select, update

from helpdesk.extensions import db
from helpdesk.models import OutgoingMail
from helpdesk.models.timestamps import utcnow
from helpdesk.queues import get_queue
from helpdesk.services.notifications import RETRY_INTERVALS

log = logging.getLogger(__name__)

SEND_JOB = "jobs.mail.send_mail"
MAX_ATTEMPTS = len(RETRY_INTERVALS) + 1


def queue(kind, recipient):
    """Add a message of ``kind`` to ``recipient`` to the caller's transaction (no commit)."""
    mail = OutgoingMail(kind=kind, recipient=recipient, to_email=recipient.email)
    db.session.add(mail)
    return mail


def send_job_id(mail_id):
    """The RQ job id of a message's send job: one id, however often it is enqueued."""
    return f"mail-{mail_id}"


def dispatch(mail_ids):
    """Enqueue the send job of committed rows; Redis trouble leaves them for the sweep."""
    for mail_id in mail_ids:
        try:
            get_queue("notifications").enqueue(
                SEND_JOB, mail_id, job_id=send_job_id(mail_id),
                retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
            )
        except redis.RedisError as error:
            log.warning("mail %s stays queued for the sweep: %s", mail_id, error)


@dataclass(frozen=True)
class Claim:
    """One worker's hold on one row: which row, which attempt, and the row loaded."""

    mail_id: int
    attempt: int
    mail: OutgoingMail


def claim(mail_id):
    """Take a queued row for sending (committed before sending), or None when it is not
    queued (sent, settled otherwise, or being sent by another worker)."""
    attempt = db.session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.id == mail_id, OutgoingMail.state == "queued")
        .values(state="sending", attempts=OutgoingMail.attempts + 1, claimed_at=utcnow())
        .returning(OutgoingMail.attempts)
        .execution_options(synchronize_session=False)
    ).scalar()
    db.session.commit()
    if attempt is None:
        return None
    return Claim(mail_id=mail_id, attempt=attempt, mail=db.session.get(OutgoingMail, mail_id))


def settle(claim, *, state, error=None, subject=None, body=None):
    """Record how a claim ended (a ``kept`` row keeps ``subject`` and ``body``); False when
    the claim was no longer ours."""
    values = {"state": state, "last_error": error[:2000] if error else None}
    if state == "sent":
        values["sent_at"] = utcnow()
    if state == "kept":
        values.update(subject=subject, body=body)
    settled = db.session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.id == claim.mail_id, OutgoingMail.state == "sending",
               OutgoingMail.attempts == claim.attempt)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return settled == 1


def retry_later(claim, *, error):
    """After a failed attempt: back to ``queued``, or ``failed`` after the last one."""
    db.session.rollback()
    state = "failed" if claim.attempt >= MAX_ATTEMPTS else "queued"
    settle(claim, state=state, error=error)
    return state


def take_back_stalled_claims(claimed_before):
    """Rows stuck in ``sending`` since before ``claimed_before`` go back to ``queued`` (or
    ``failed`` with no attempt left); returns the ids to dispatch again."""
    returned = db.session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.state == "sending", OutgoingMail.claimed_at < claimed_before)
        .values(state=case((OutgoingMail.attempts >= MAX_ATTEMPTS, "failed"), else_="queued"),
                last_error="the worker stopped while sending (no result recorded)")
        .returning(OutgoingMail.id, OutgoingMail.state)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return [mail_id for mail_id, state in returned if state == "queued"]


def queued_before(created_before):
    """Ids of rows still ``queued`` that were made before ``created_before``."""
    return db.session.scalars(
        select(OutgoingMail.id).where(OutgoingMail.state == "queued",
                                      OutgoingMail.created_at < created_before)
        .order_by(OutgoingMail.id)
    ).all()


def kept_page(*, limit=100):
    """The newest ``kept`` messages (no mail server was configured), for /admin/mail."""
    return db.session.scalars(
        select(OutgoingMail).where(OutgoingMail.state == "kept")
        .order_by(OutgoingMail.id.desc()).limit(limit)
    ).all()


def queued_for(user):
    """``user``'s rows still queued (to dispatch after the commit that made them)."""
    return db.session.scalars(select(OutgoingMail).where(
        OutgoingMail.recipient_id == user.id, OutgoingMail.state == "queued")).all()
