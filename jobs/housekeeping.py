"""Periodic housekeeping."""

from sqlalchemy import text

from helpdesk.extensions import db
from helpdesk.models.timestamps import utcnow
from helpdesk.queues import get_redis

HEARTBEAT_KEY = "helpdesk:heartbeat"
# Rows SQLite's ANALYZE samples per index: approximate statistics in milliseconds, which is
# all the planner needs to tell a selective index from a broad one (SQLite's own advice).
ANALYSIS_LIMIT = 400


def record_heartbeat():
    """Write the time into Redis, so operators can see the scheduler and a worker are alive.

    Idempotent: running it twice only moves the time forward.
    """
    stamp = utcnow().isoformat()
    get_redis().set(HEARTBEAT_KEY, stamp)
    return stamp


def refresh_planner_statistics():
    """Gather SQLite's planner statistics again (hourly, from jobs/cron.py).

    The queue's plans (which index reads a filter in order, whether a search reads its matches
    first) are chosen from statistics. PostgreSQL's autovacuum keeps them current; SQLite
    gathers them only when asked, and a database that grew from empty has none, so its planner
    guesses (at 100,000 tickets, ``status=closed&age=over-month`` took 112 ms without them and
    about 1 ms with them). Idempotent; returns what it did.
    """
    if db.engine.dialect.name != "sqlite":
        return "not needed: PostgreSQL's autovacuum analyzes"
    db.session.execute(text(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}"))
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return "analyzed"
