"""Notifications as an outbox: a row written with the change, sent afterwards by a job.

The row is added in the same transaction as the reply that causes it, so no notification is
lost when Redis is briefly away; ``dispatch`` enqueues the send job after the commit, and the
periodic sweep (``jobs.notifications.dispatch_stalled``) re-enqueues anything left queued.
"""

import logging

import redis
from rq import Retry

from helpdesk.extensions import db
from helpdesk.models import Notification
from helpdesk.queues import get_queue

log = logging.getLogger(__name__)

SEND_JOB = "jobs.notifications.send_notification"
RETRY_INTERVALS = [10, 60, 300, 900, 3600]  # seconds between attempts, then it fails


def notify_assignee_of_customer_reply(ticket, reply):
    """Queue a message to the assignee when a customer writes on their ticket (no commit)."""
    if ticket.assignee_id is None or ticket.assignee_id == reply.author_id:
        return None
    notification = Notification(kind="customer_reply", ticket_id=ticket.id, reply_id=reply.id,
                                recipient_id=ticket.assignee_id)
    db.session.add(notification)
    return notification


def dispatch(notification_ids):
    """Enqueue the send job for committed notifications; Redis trouble leaves them queued."""
    for notification_id in notification_ids:
        try:
            get_queue("notifications").enqueue(
                SEND_JOB, notification_id, job_id=f"notification-{notification_id}",
                retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
            )
        except redis.RedisError as error:
            log.warning("notification %s stays queued for the sweep: %s", notification_id, error)
