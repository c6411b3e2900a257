"""Notifications as an outbox: a row written with the change, sent afterwards by a job.

The row is added in the same transaction as the reply that causes it, so no notification is
lost when Redis is briefly away; ``dispatch`` enqueues the send job after the commit, and the
periodic sweep (``jobs.notifications.dispatch_stalled``) re-enqueues anything left behind.

A row's life (the states are described in ``models.notification``): a worker ``claim``s a
``queued`` row, which makes it ``sending`` in one conditional UPDATE, so two workers (or RQ
delivering the job twice) never both send it. Only the claimer decides what happens next and
``settle``s the row: ``sent``; ``withheld`` when the recipient may no longer read it
(``why_withheld``, through ``access``); ``skipped`` without a mail server; ``failed`` when the
message cannot be built; or back to ``queued`` after a transient failure (``retry_later``),
until the last attempt, which is ``failed``.
"""

import logging
from dataclasses import dataclass

import redis
from rq import Retry
from rq.job import Job, JobStatus
from sqlalchemy import case, select, update

from helpdesk.access import may, visible_replies
from helpdesk.extensions import db
from helpdesk.models import Notification, Reply
from helpdesk.models.timestamps import utcnow
from helpdesk.queues import get_queue, get_redis

log = logging.getLogger(__name__)

SEND_JOB = "jobs.notifications.send_notification"
RETRY_INTERVALS = [10, 60, 300, 900, 3600]  # seconds between attempts, then it fails
MAX_ATTEMPTS = len(RETRY_INTERVALS) + 1
# RQ statuses of a job that will still run; any other (or no job at all) means none will.
_PENDING_JOB_STATUSES = frozenset({
    JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED,
})


def notify_assignee_of_customer_reply(ticket, reply):
    """Queue a message to the assignee when a customer writes on their ticket (no commit)."""
    if ticket.assignee_id is None or ticket.assignee_id == reply.author_id:
        return None
    notification = Notification(kind="customer_reply", ticket_id=ticket.id, reply_id=reply.id,
                                recipient_id=ticket.assignee_id)
    db.session.add(notification)
    return notification


def send_job_id(notification_id):
    """The RQ job id of a notification's send job: one id, however often it is enqueued."""
    return f"notification-{notification_id}"


def dispatch(notification_ids):
    """Enqueue the send job for committed notifications; Redis trouble leaves them queued."""
    for notification_id in notification_ids:
        try:
            get_queue("notifications").enqueue(
                SEND_JOB, notification_id, job_id=send_job_id(notification_id),
                retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
            )
        except redis.RedisError as error:
            log.warning("notification %s stays queued for the sweep: %s", notification_id, error)


@dataclass(frozen=True)
class Claim:
    """One worker's hold on one notification: which row, which attempt, and the row loaded.

    ``attempt`` tells this claim from a later one (every claim adds one to ``attempts``).
    """

    notification_id: int
    attempt: int
    notification: Notification


def claim(notification_id):
    """Take a queued notification for sending: a ``Claim`` for the one caller that got it.

    One UPDATE with the state in its WHERE clause decides, so of two workers claiming at once
    exactly one changes the row (PostgreSQL makes the second wait for the first's commit,
    then finds the row no longer queued; SQLite has one writer at a time). The claim is
    committed before any mail is sent, so everyone else sees ``sending`` from then on.
    Returns None when the row is not queued (sent, settled otherwise, or being sent).
    """
    attempt = db.session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.state == "queued")
        .values(state="sending", attempts=Notification.attempts + 1, claimed_at=utcnow())
        .returning(Notification.attempts)
        .execution_options(synchronize_session=False)
    ).scalar()
    db.session.commit()
    if attempt is None:
        return None
    return Claim(notification_id=notification_id, attempt=attempt,
                 notification=db.session.get(Notification, notification_id))


def settle(claim, *, state, error=None):
    """Record how a claim ended; False (and nothing written) when it was no longer ours.

    When the sweep took a stalled claim back and another worker claimed the row again, the
    first worker's late result changes nothing.
    """
    values = {"state": state, "last_error": _clip(error)}
    if state == "sent":
        values["sent_at"] = utcnow()
    settled = db.session.execute(
        update(Notification)
        .where(Notification.id == claim.notification_id, Notification.state == "sending",
               Notification.attempts == claim.attempt)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if settled != 1:
        log.warning("notification %s: attempt %s was taken back before it ended %s",
                    claim.notification_id, claim.attempt, state)
    return settled == 1


def retry_later(claim, *, error):
    """After a failed attempt: back to ``queued`` for the retry, or ``failed`` after the last.

    Returns the state recorded.
    """
    db.session.rollback()  # the failure may have left the session unusable
    state = "failed" if claim.attempt >= MAX_ATTEMPTS else "queued"
    settle(claim, state=state, error=error)
    return state


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


def take_back_stalled_claims(claimed_before):
    """Hand rows stuck in ``sending`` since before ``claimed_before`` back to the queue.

    Their worker died (or was killed) mid-send. A row with no attempts left is ``failed``.
    Returns the ids put back to ``queued``, for the caller to dispatch.
    """
    returned = db.session.execute(
        update(Notification)
        .where(Notification.state == "sending", Notification.claimed_at < claimed_before)
        .values(
            state=case((Notification.attempts >= MAX_ATTEMPTS, "failed"), else_="queued"),
            last_error="the worker stopped while sending (no result recorded)",
        )
        .returning(Notification.id, Notification.state)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return [notification_id for notification_id, state in returned if state == "queued"]


def queued_without_a_job(created_before):
    """Ids of ``queued`` rows made before ``created_before`` that no RQ job will send.

    The job never reached Redis (it was away at commit time), or it is gone: Redis lost it,
    or it ended without settling the row.
    """
    waiting = db.session.scalars(
        select(Notification.id)
        .where(Notification.state == "queued", Notification.created_at < created_before)
        .order_by(Notification.id)
    ).all()
    jobs = Job.fetch_many([send_job_id(i) for i in waiting], connection=get_redis())
    return [
        notification_id for notification_id, job in zip(waiting, jobs, strict=True)
        if job is None or job.get_status(refresh=False) not in _PENDING_JOB_STATUSES
    ]


def _clip(error):
    """``last_error`` is for people reading the row: keep it to a readable length."""
    return error[:2000] if error else None
