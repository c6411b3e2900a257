"""Periodic housekeeping."""

from helpdesk.models.timestamps import utcnow
from helpdesk.queues import get_redis

HEARTBEAT_KEY = "helpdesk:heartbeat"


def record_heartbeat():
    """Write the time into Redis, so operators can see the scheduler and a worker are alive.

    Idempotent: running it twice only moves the time forward.
    """
    stamp = utcnow().isoformat()
    get_redis().set(HEARTBEAT_KEY, stamp)
    return stamp
