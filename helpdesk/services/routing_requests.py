"""Asking for a routing decision: what ``services.tickets`` does when a ticket is opened or
moved to another category (``services.routing`` decides, in the job).

Apart from ``services.routing`` because that module applies its decisions through
``services.tickets``, which calls these: one direction of import each.
"""

import logging

import redis

from helpdesk.models.timestamps import utcnow
from helpdesk.queues import enqueue

log = logging.getLogger(__name__)

ROUTING_JOB = "jobs.routing.route_ticket"  # by name: jobs import the services, not back


def mark_due(ticket, *, at=None):
    """Ask for a routing decision on ``ticket`` (no commit; ``dispatch`` after it)."""
    ticket.routing_due_at = at or utcnow()


def routing_job_id(ticket):
    """One job id per request for routing: enqueued twice, it is one job."""
    return f"routing-{ticket.id}-{int(ticket.routing_due_at.timestamp() * 1_000_000)}"


def dispatch(ticket):
    """After the commit: enqueue the routing job of a ticket that is due. Redis trouble is
    logged and left to the sweep (``jobs.routing.route_left_behind``): the ticket is saved
    either way."""
    if ticket.routing_due_at is None:
        return None
    try:
        return enqueue(ROUTING_JOB, ticket.id, queue="automation",
                       job_id=routing_job_id(ticket))
    except redis.RedisError as error:
        log.warning("routing of ticket %s left for the sweep: %s", ticket.id, error)
        return None
